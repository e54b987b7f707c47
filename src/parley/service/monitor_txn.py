"""Transaction-level steps of monitoring shared by use cases outside parley.service.monitoring (StopContact)."""

from __future__ import annotations

from parley.domain.clock import utcnow
from parley.domain.contact import CONNECTED, Contact
from parley.domain.errors import ContactNotActive
from parley.service.agent_txn import remove_agent_txn
from parley.service.notify import ChatNotifier
from parley.service.ports import Tx


async def stop_monitoring_txn(tx: Tx, notifier: ChatNotifier, contact: Contact, reason: str) -> None:
    """End the monitoring of the monitoring contact ``contact`` (its chat's row is locked by the caller): the
    supervisor leaves (silently, or with ``participant.left`` once barged in) and the contact goes to after-contact
    work; the customer's chat goes on."""
    participant = await tx.get_participant(contact.agent_participant_id or "")
    if participant is None or not participant.active or contact.state != CONNECTED:
        raise ContactNotActive(f"Contact {contact.id} is not active or does not exist.")
    await remove_agent_txn(tx, notifier, participant, utcnow(), reason)

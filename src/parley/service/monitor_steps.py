"""Steps of monitoring, inside the caller's unit of work, shared by use cases outside
parley.service.monitoring (StopContact)."""

from __future__ import annotations

from parley.domain.clock import utcnow
from parley.domain.contact import CONNECTED, Contact
from parley.domain.errors import ContactNotActive
from parley.service.agent_steps import remove_agent_txn
from parley.service.notify import Notifier
from parley.service.repositories import UnitOfWork


async def stop_monitoring_txn(uow: UnitOfWork, notifier: Notifier, contact: Contact, reason: str) -> None:
    """End the monitoring of the monitoring contact ``contact`` (its chat's row is locked by the caller): the
    supervisor leaves (silently, or with ``participant.left`` once barged in) and the contact goes to after-contact
    work; the customer's chat goes on."""
    participant = await uow.participants.find(contact.agent_participant_id or "")
    if participant is None or not participant.active or contact.state != CONNECTED:
        raise ContactNotActive(f"Contact {contact.id} is not active or does not exist.")
    await remove_agent_txn(uow, notifier, participant, utcnow(), reason)

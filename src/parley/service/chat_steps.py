"""Chat steps shared by use cases, each inside the caller's unit of work: open a chat, append items, end a chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from parley.domain.clock import utcnow
from parley.domain.contact import CLOSED, CONNECTED, ENDED, Contact, Participant
from parley.domain.ids import new_item_id
from parley.domain.monitoring import is_silent
from parley.domain.transcript import CHAT_ENDED, JOINED, LEFT, Chat, Item
from parley.service.notify import Notifier
from parley.service.repositories import UnitOfWork


def event(chat_id: str, contact_id: str, content_type: str, who: Participant | None, now: datetime) -> Item:
    return Item(
        chat_id=chat_id, id=new_item_id(), type="EVENT", content_type=content_type, absolute_time=now,
        contact_id=contact_id, participant_id=who.id if who else None,
        display_name=who.display_name if who else None, role=who.role if who else None,
    )


async def append_txn(uow: UnitOfWork, notifier: Notifier, chat_id: str, items: list[Item]) -> list[Item]:
    """Store items with their sequence numbers and poke the bus once the transaction commits."""
    stored = await uow.chats.append(chat_id, items)
    if stored:
        notifier.poke_after_commit(uow, chat_id, stored)
    return stored


async def open_chat_txn(uow: UnitOfWork, notifier: Notifier, chat: Chat, customer: Participant,
                        initial: Item | None) -> None:
    await uow.chats.add(chat)
    items = [event(chat.id, customer.contact_id, JOINED, customer, customer.created)]
    if initial is not None:
        items.append(initial)
    await append_txn(uow, notifier, chat.id, items)


async def leave_txn(uow: UnitOfWork, notifier: Notifier, participant: Participant, now: datetime) -> Participant:
    """Mark ``participant`` as gone and announce it (a silent monitor's leaving is announced to nobody: its own
    sockets are closed directly)."""
    gone = replace(participant, left=now)
    await uow.participants.update(gone)
    if is_silent(participant):
        notifier.drop_after_commit(uow, participant.chat_id, participant.id)
        return gone
    await append_txn(uow, notifier, participant.chat_id,
                     [event(participant.chat_id, participant.contact_id, LEFT, participant, now)])
    return gone


async def end_chat_txn(uow: UnitOfWork, notifier: Notifier, chat_id: str, reason: str) -> bool:
    """End the chat for everyone: ``participant.left`` for each remaining party, then ``chat.ended``.

    Returns False when the chat had already ended (a concurrent request or another node ended it).
    """
    if not await uow.chats.end(chat_id):
        return False
    now = utcnow()
    participants = await uow.participants.of_chat(chat_id)
    contacts = await uow.contacts.of_chat(chat_id)
    items: list[Item] = []
    for participant in participants:
        if participant.active:
            await uow.participants.update(replace(participant, left=now))
            if not is_silent(participant):  # chat.ended closes a silent monitor's sockets; nobody else hears of it
                items.append(event(chat_id, participant.contact_id, LEFT, participant, now))
    items.append(event(chat_id, chat_id, CHAT_ENDED, None, now))
    for contact in contacts:
        if contact.is_active:
            await uow.contacts.update(close_segment(contact, now, reason))
    notifier.poke_agents_after_commit(uow, {c.agent_user_id for c in contacts if c.agent_user_id})
    await append_txn(uow, notifier, chat_id, items)
    return True


def close_segment(contact: Contact, now: datetime, reason: str) -> Contact:
    """End one segment: a segment with a connected agent enters after-contact work (ENDED) until the agent
    clears it; a segment still waiting or offered closes at once."""
    state = ENDED if contact.state == CONNECTED else CLOSED
    return replace(
        contact, state=state, disconnect_time=now, last_update_time=now, offer_expires=None,
        disconnect_reason=contact.disconnect_reason or reason,
        after_contact_work_start=now if state == ENDED else contact.after_contact_work_start,
    )


def active_count(participants: list[Participant]) -> int:
    return sum(1 for p in participants if p.active)


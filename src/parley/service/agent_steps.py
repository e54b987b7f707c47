"""Steps of agent work, each inside the caller's unit of work, shared by routing and the agent use cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from parley.domain.agents import OFFLINE, Presence
from parley.domain.conference import pending_invitations
from parley.domain.contact import AGENT, CLOSED, CONNECTED, ENDED, Contact, Participant
from parley.domain.errors import NotFound
from parley.domain.ids import derived_token, hash_token, new_token
from parley.domain.instance import Instance
from parley.domain.monitoring import keeps_chat
from parley.domain.resources import AgentStatus, User
from parley.domain.transcript import JOINED, Chat
from parley.service.chat_steps import append_txn, close_segment, end_chat_txn, event, leave_txn
from parley.service.lookups import get_instance
from parley.service.notify import Notifier
from parley.service.repositories import UnitOfWork


async def instance_secret_txn(uow: UnitOfWork, instance_id: str) -> str:
    """The instance's token-signing secret, created on first use for instances made before it existed."""
    instance = await get_instance(uow, instance_id)
    if instance.secret:
        return instance.secret
    locked = await get_instance(uow, instance_id, for_update=True)
    if not locked.secret:
        locked = replace(locked, secret=new_token())
        await uow.instances.update(locked)
    return locked.secret


def agent_participant_token(secret: str, participant_id: str) -> str:
    """An agent's participant token, derived (not stored): HMAC of the participant id."""
    return derived_token(secret.encode(), f"participant:{participant_id}")


async def presence_txn(uow: UnitOfWork, user: User, now: datetime, *, for_update: bool = False) -> Presence:
    """The agent's presence; an agent never seen is Offline."""
    found = await uow.presences.find(user.id, for_update=for_update)
    if found is not None:
        return found
    offline = await uow.resources.find_by_name(AgentStatus, user.instance_id, "Offline")
    # An agent never seen has been Offline since the user was created (a stable time keeps the snapshot's
    # version token stable, so long polls wait).
    since = min(user.modified, now)
    return Presence(user.instance_id, user.id, "Offline", OFFLINE, since, since, offline.id if offline else None)


async def agents_of_chat(uow: UnitOfWork, chat_id: str) -> set[str]:
    """Every agent with a segment in the chat (to poke their snapshots)."""
    return {c.agent_user_id for c in await uow.contacts.of_chat(chat_id) if c.agent_user_id}


async def accept_txn(uow: UnitOfWork, notifier: Notifier, instance: Instance, segment: Contact, user: User,
                     now: datetime) -> Contact:
    """Connect the offered agent: their participant joins the chat and everyone sees it."""
    secret = instance.secret or await instance_secret_txn(uow, instance.id)
    participant_id = segment.agent_participant_id
    assert participant_id is not None, "offered segments carry their agent's participant id"
    chat = await uow.chats.find(segment.initial_contact_id)
    expiry = chat.expires_at if chat else now
    token = agent_participant_token(secret, participant_id)
    participant = Participant(
        id=participant_id, chat_id=segment.initial_contact_id, contact_id=segment.id, role=AGENT,
        display_name=user.display_name, token_hash=hash_token(token), token_expiry=expiry, created=now,
        user_id=user.id, connected=now,
    )
    await uow.participants.add(participant)
    connected = replace(segment, state=CONNECTED, connected_to_agent_time=now, last_update_time=now,
                        offer_expires=None)
    await uow.contacts.update(connected)
    await append_txn(uow, notifier, segment.initial_contact_id,
                     [event(segment.initial_contact_id, segment.id, JOINED, participant, now)])
    notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, segment.initial_contact_id))
    return connected


async def get_segment(uow: UnitOfWork, instance_id: str, contact_id: str, *, for_update: bool = False) -> Contact:
    found = await uow.contacts.find(instance_id, contact_id, for_update=for_update)
    if found is None:
        raise NotFound(f"Contact {contact_id} was not found.", resource_type="CONTACT", resource_id=contact_id)
    return found


async def lock_segment(uow: UnitOfWork, instance_id: str, contact_id: str,
                       read: Contact | None = None) -> tuple[Contact, Chat | None]:
    """Lock the segment's chat row, then the segment itself. Every use case takes row locks in this order
    (chat, then contacts), so concurrent requests on PostgreSQL never deadlock. ``read``: the segment as this
    transaction already read it (its chat is found from it; the locked read that follows is what counts)."""
    first = read if read is not None else await get_segment(uow, instance_id, contact_id)
    chat = await uow.chats.find(first.initial_contact_id, for_update=True)
    return await get_segment(uow, instance_id, contact_id, for_update=True), chat


async def remove_agent_txn(uow: UnitOfWork, notifier: Notifier, participant: Participant, now: datetime,
                           reason: str) -> None:
    """An agent (or a monitoring supervisor) leaves or is removed: ``participant.left`` (none for a silent
    monitor), their segment enters after-contact work, and the chat ends when only the customer is left with
    nobody serving it or on the way."""
    await leave_txn(uow, notifier, participant, now)
    chat = await uow.chats.find(participant.chat_id)
    if chat is None:
        raise NotFound(f"Chat {participant.chat_id} was not found.")
    segment = await uow.contacts.find(chat.instance_id, participant.contact_id, for_update=True)
    if segment is not None and segment.state == CONNECTED:
        await uow.contacts.update(close_segment(segment, now, reason))
    await end_if_alone_txn(uow, notifier, participant.chat_id, now)
    notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, participant.chat_id))


async def end_if_alone_txn(uow: UnitOfWork, notifier: Notifier, chat_id: str, now: datetime) -> None:
    participants = await uow.participants.of_chat(chat_id)
    segments = await uow.contacts.of_chat(chat_id)
    waiting = [s for s in segments if s.pending]
    if not keeps_chat(participants) and not waiting and not pending_invitations(segments):
        customer_here = any(p.active and p.role == "CUSTOMER" for p in participants)
        if customer_here:
            await end_chat_txn(uow, notifier, chat_id, "AGENT_DISCONNECT")


def closed(segment: Contact, now: datetime) -> Contact:
    """After-contact work cleared: the segment no longer holds a slot."""
    return replace(segment, state=CLOSED, last_update_time=now,
                   after_contact_work_end=now if segment.state == ENDED else segment.after_contact_work_end)

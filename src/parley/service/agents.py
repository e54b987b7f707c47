"""Use cases of a signed-in agent: state, offers, chats, quick-connect invitations, transfers, leaving, ACW."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from parley.domain.agents import STATUS_TYPES, AgentSession, Presence
from parley.domain.arns import parse_resource_arn
from parley.domain.clock import utcnow
from parley.domain.conference import active_agents, check_invite, conference_size
from parley.domain.contact import (
    CONNECTED,
    CONNECTING,
    CUSTOMER,
    ENDED,
    INVITE_SEGMENT,
    QUEUED,
    TRANSFER_SEGMENT,
    Contact,
    NextContact,
    Participant,
)
from parley.domain.errors import AccessDenied, Conflict, InvalidParameter, InvalidRequest, NotFound
from parley.domain.ids import new_id
from parley.domain.instance import Instance
from parley.domain.monitoring import active_monitors, check_acts, hidden_from, is_monitor
from parley.domain.resources import AgentStatus, Queue, QuickConnect, RoutingProfile, User
from parley.domain.transcript import INVITED, TRANSFER_SUCCEEDED, Chat
from parley.service.access import allow, member_of, permissions_of
from parley.service.agent_steps import (
    accept_txn,
    agent_participant_token,
    agents_of_chat,
    closed,
    end_if_alone_txn,
    get_segment,
    instance_secret_txn,
    lock_segment,
    presence_txn,
    remove_agent_txn,
)
from parley.service.chat_steps import append_txn, close_segment, end_chat_txn, event
from parley.service.lookups import get_instance, get_resource
from parley.service.notify import Notifier
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork
from parley.service.routing import Router, decline_txn


class ContactStateError(Conflict):
    """The contact is not in a state that allows the action (the CTI API's InvalidStateException)."""


@dataclass(frozen=True)
class SegmentView:
    """One of the agent's contacts with everything the snapshot shows about its chat."""

    segment: Contact
    queue: Queue | None
    participants: tuple[Participant, ...]
    chat_segments: tuple[Contact, ...]
    names: dict[str, str]
    participant_token: str | None
    attributes: dict[str, str]
    multi_party: bool


@dataclass(frozen=True)
class AgentView:
    user: User
    presence: Presence
    contacts: tuple[SegmentView, ...]


@dataclass(frozen=True)
class Leg:
    instance: Instance
    segment: Contact
    quick_connect: QuickConnect
    queue: Queue
    target: User | None
    chat: Chat


@dataclass(frozen=True)
class AgentConfig:
    user: User
    profile: RoutingProfile
    queues: tuple[Queue, ...]
    default_queue: Queue | None
    permissions: frozenset[str]


class AgentService:
    def __init__(self, storage: Storage, notifier: Notifier, router: Router) -> None:
        self.storage = storage
        self.notifier = notifier
        self.router = router

    async def _user(self, uow: UnitOfWork, who: AgentSession) -> User:
        user = await uow.resources.find(User, who.instance_id, who.user_id)
        if user is None:
            raise AccessDenied("This user no longer exists.")
        return user

    async def chats_of(self, who: AgentSession) -> dict[str, str]:
        """The chats the agent is connected to, each with the agent's participant id."""
        async with self.storage.transaction() as uow:
            segments = await uow.contacts.of_agent(who.user_id)
        return {s.initial_contact_id: s.agent_participant_id for s in segments
                if s.state == CONNECTED and s.agent_participant_id}

    # configuration ---------------------------------------------------------------------------------
    async def configuration(self, who: AgentSession) -> AgentConfig:
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            profile = await get_resource(uow, RoutingProfile, who.instance_id, user.routing_profile_id)
            queues = [await uow.resources.find(Queue, who.instance_id, qid)
                      for qid in dict.fromkeys(c.queue_id for c in profile.queue_configs)]
            own = await uow.resources.find(Queue, who.instance_id, user.agent_queue_id)
            default = await uow.resources.find(Queue, who.instance_id, profile.default_outbound_queue_id)
            listed = tuple(q for q in [*queues, own] if q is not None)
            return AgentConfig(user, profile, listed, default, await permissions_of(uow, user))

    async def states(self, who: AgentSession) -> list[AgentStatus]:
        async with self.storage.transaction() as uow:
            statuses = await uow.resources.all(AgentStatus, who.instance_id)
        return sorted((s for s in statuses if s.state == "ENABLED"), key=lambda s: (s.display_order, s.sort_key))

    async def set_state(self, who: AgentSession, state_id: str | None, name: str | None) -> Presence:
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            statuses = await uow.resources.all(AgentStatus, who.instance_id)
            status = next((s for s in statuses if (state_id and s.id == state_id) or (not state_id and s.name == name)),
                          None)
            if status is None:
                raise InvalidParameter(f"There is no agent status {state_id or name!r} in this instance.")
            presence = await presence_txn(uow, user, now, for_update=True)
            kind = STATUS_TYPES.get(status.status_type, "not_routable")
            became_routable = kind == "routable" and not presence.routable
            presence = replace(presence, state_name=status.name or "", state_type=kind, state_id=status.id, since=now,
                               idle_since=now if became_routable else presence.idle_since)
            await uow.presences.save(presence)
            self.notifier.poke_agents_after_commit(uow, [user.id])
        if presence.routable:
            self.router.kick()
        return presence

    async def endpoints(self, who: AgentSession, queue_ids: list[str] | None) -> list[tuple[QuickConnect, str]]:
        """The quick connects of the agent's queues, each with the name of what it points at."""
        config = await self.configuration(who)
        allowed = {q.id for q in config.queues}
        wanted = [q for q in config.queues if q.id in allowed and (queue_ids is None or q.id in queue_ids)]
        found: dict[str, tuple[QuickConnect, str]] = {}
        async with self.storage.transaction() as uow:
            for queue in wanted:
                for qc_id in queue.quick_connect_ids:
                    qc = await uow.resources.find(QuickConnect, who.instance_id, qc_id)
                    if qc is not None and qc.id not in found:
                        found[qc.id] = (qc, await _target_name(uow, qc))
        return sorted(found.values(), key=lambda pair: pair[0].sort_key)

    # offers ----------------------------------------------------------------------------------------
    async def accept(self, who: AgentSession, contact_id: str) -> None:
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            instance = await get_instance(uow, who.instance_id)
            segment, chat = await lock_segment(uow, who.instance_id, contact_id)
            if segment.agent_user_id != user.id:
                raise NotFound(f"Contact {contact_id} is not offered to you.")
            if segment.state == CONNECTED:
                return  # accepted already (another tab of the same agent)
            if segment.state != CONNECTING:
                raise ContactStateError(f"Contact {contact_id} is no longer offered to you.")
            if chat is None or chat.ended:
                raise ContactStateError("The customer has already left this chat.")
            await accept_txn(uow, self.notifier, instance, segment, user, now)

    async def reject(self, who: AgentSession, contact_id: str) -> None:
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            segment, _chat = await lock_segment(uow, who.instance_id, contact_id)
            if segment.agent_user_id != user.id or segment.state != CONNECTING:
                raise ContactStateError(f"Contact {contact_id} is not offered to you.")
            await decline_txn(uow, self.notifier, segment, now, "REJECTED")
        self.router.kick()

    async def clear(self, who: AgentSession, contact_id: str) -> None:
        """Close after-contact work (or a contact that ended before the agent joined)."""
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            segment = await get_segment(uow, who.instance_id, contact_id, for_update=True)
            if segment.agent_user_id != user.id:
                raise NotFound(f"Contact {contact_id} is not one of yours.")
            if segment.state in (CONNECTED, CONNECTING):
                raise ContactStateError(
                    f"Contact {contact_id} is still active; leave it (destroy your connection) before clearing it."
                )
            if segment.state == ENDED:
                await uow.contacts.update(closed(segment, now))
                presence = await presence_txn(uow, user, now, for_update=True)
                await uow.presences.save(replace(presence, idle_since=now))
            self.notifier.poke_agents_after_commit(uow, [user.id])
        self.router.kick()

    async def complete(self, who: AgentSession, contact_id: str) -> None:
        """``contact.complete()``: leave if still connected, then clear."""
        async with self.storage.transaction() as uow:
            segment = await get_segment(uow, who.instance_id, contact_id)
        if segment.state == CONNECTED and segment.agent_participant_id:
            await self.destroy_connection(who, contact_id, segment.agent_participant_id)
        await self.clear(who, contact_id)

    # the conference --------------------------------------------------------------------------------
    async def _connected_segment(self, uow: UnitOfWork, user: User, contact_id: str) -> Contact:
        segment = await get_segment(uow, user.instance_id, contact_id)
        if segment.agent_user_id != user.id or segment.state != CONNECTED:
            raise ContactStateError(f"You are not connected to contact {contact_id}.")
        return segment

    async def _quick_connect(self, uow: UnitOfWork, user: User, endpoint_arn: str | None,
                             endpoint_type: str) -> QuickConnect:
        if endpoint_type == "phone_number":
            raise InvalidParameter("A phone number cannot join a chat: choose an agent or a queue quick connect.")
        parsed = parse_resource_arn(endpoint_arn or "")
        if parsed is None or parsed[1] != "transfer-destination" or parsed[0] != user.instance_id:
            raise InvalidParameter(f"Endpoint {endpoint_arn!r} is not a quick connect of this instance.")
        allow(await member_of(uow, user), user.instance_id, "UseQuickConnect")
        qc = await uow.resources.find(QuickConnect, user.instance_id, parsed[2])
        if qc is None:
            raise NotFound(f"Quick connect {parsed[2]} was not found.")
        if qc.quick_connect_type == "PHONE_NUMBER":
            raise InvalidParameter(f"Quick connect '{qc.name}' dials a phone number, which cannot join a chat.")
        if qc.quick_connect_type not in ("USER", "QUEUE"):
            raise InvalidParameter(f"Quick connect '{qc.name}' is a {qc.quick_connect_type} quick connect; "
                                   "a chat can add agents through USER and QUEUE quick connects.")
        profile = await uow.resources.find(RoutingProfile, user.instance_id, user.routing_profile_id)
        queue_ids = {c.queue_id for c in profile.queue_configs} if profile else set()
        queue_ids |= {user.agent_queue_id}
        visible = False
        for queue_id in queue_ids:
            queue = await uow.resources.find(Queue, user.instance_id, queue_id)
            visible = visible or (queue is not None and qc.id in queue.quick_connect_ids)
        if not visible:
            raise AccessDenied(f"Quick connect '{qc.name}' is not on any queue of your routing profile.")
        return qc

    async def _target(self, uow: UnitOfWork, qc: QuickConnect) -> tuple[Queue, User | None]:
        if qc.quick_connect_type == "USER":
            target = await uow.resources.find(User, qc.instance_id, qc.user_id or "")
            if target is None:
                raise NotFound(f"The agent of quick connect '{qc.name}' no longer exists.")
            return await get_resource(uow, Queue, qc.instance_id, target.agent_queue_id), target
        return await get_resource(uow, Queue, qc.instance_id, qc.queue_id or ""), None

    async def _leg(self, uow: UnitOfWork, who: AgentSession, contact_id: str, endpoint_arn: str | None,
                   endpoint_type: str) -> Leg:
        """What an invitation or a transfer starts from: the agent's connected segment, the quick connect and
        its target, and the chat, locked (before any segment, as everywhere)."""
        user = await self._user(uow, who)
        instance = await get_instance(uow, who.instance_id)
        segment = await self._connected_segment(uow, user, contact_id)
        qc = await self._quick_connect(uow, user, endpoint_arn, endpoint_type)
        queue, target = await self._target(uow, qc)
        chat = await uow.chats.find(segment.initial_contact_id, for_update=True)
        if chat is None or chat.ended:
            raise ContactStateError("The chat has ended.")
        check_acts(next((p for p in await uow.participants.of_chat(chat.id) if p.id == segment.agent_participant_id),
                        None))
        return Leg(instance, segment, qc, queue, target, chat)

    async def invite(self, who: AgentSession, contact_id: str, endpoint_arn: str | None, endpoint_type: str) -> str:
        """``contact.addParticipant(endpoint)``: a new segment for the invited agent; returns its contact id."""
        now = utcnow()
        async with self.storage.transaction() as uow:
            leg = await self._leg(uow, who, contact_id, endpoint_arn, endpoint_type)
            instance, segment, qc, queue, target, chat = (
                leg.instance, leg.segment, leg.quick_connect, leg.queue, leg.target, leg.chat
            )
            participants = await uow.participants.of_chat(chat.id)
            segments = await uow.contacts.of_chat(chat.id)
            if target is not None:
                _refuse_if_present(target, participants, segments)
            check_invite(instance.multi_party_chat, conference_size(participants, segments), instance.conference_cap)
            new = await self._new_segment(uow, instance, segment, qc, queue, target, INVITE_SEGMENT, now)
            invited = Participant(new.agent_participant_id or "", chat.id, new.id, "AGENT", new.target_name or "",
                                  "", now, now)
            await append_txn(uow, self.notifier, chat.id, [event(chat.id, new.id, INVITED, invited, now)])
            # The chat's row is locked: its segments are still those read above (the new one has no agent yet).
            self.notifier.poke_agents_after_commit(uow, {s.agent_user_id for s in segments if s.agent_user_id})
        self.router.kick()
        return new.id

    async def transfer(self, who: AgentSession, contact_id: str, endpoint_arn: str | None, endpoint_type: str) -> str:
        """``contact.transfer(endpoint)``: the chat goes to the target and every agent in it is disconnected."""
        now = utcnow()
        async with self.storage.transaction() as uow:
            leg = await self._leg(uow, who, contact_id, endpoint_arn, endpoint_type)
            segment, chat = leg.segment, leg.chat
            new = await self._new_segment(uow, leg.instance, segment, leg.quick_connect, leg.queue, leg.target,
                                          TRANSFER_SEGMENT, now)
            me = next(p for p in await uow.participants.of_chat(chat.id) if p.id == segment.agent_participant_id)
            await append_txn(uow, self.notifier, chat.id, [event(chat.id, segment.id, TRANSFER_SUCCEEDED, me, now)])
            for pending in await uow.contacts.of_chat(chat.id):
                if pending.pending and pending.id != new.id and pending.segment_kind == INVITE_SEGMENT:
                    await uow.contacts.update(close_segment(pending, now, "TRANSFERRED"))
            for agent in active_agents(await uow.participants.of_chat(chat.id)):
                await remove_agent_txn(uow, self.notifier, agent, now, "TRANSFERRED")
            for monitor in active_monitors(await uow.participants.of_chat(chat.id)):  # monitors end with a transfer
                await remove_agent_txn(uow, self.notifier, monitor, now, "TRANSFERRED")
            self.notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, chat.id))
        self.router.kick()
        return new.id

    async def _new_segment(self, uow: UnitOfWork, instance: Instance, inviter: Contact, qc: QuickConnect, queue: Queue,
                           target: User | None, kind: str, now: datetime) -> Contact:
        new = Contact(
            instance_id=instance.id, id=new_id(), initial_contact_id=inviter.initial_contact_id, channel="CHAT",
            initiation_method="TRANSFER" if qc.quick_connect_type == "USER" else "QUEUE_TRANSFER",
            initiation_time=now, last_update_time=now, state=QUEUED, previous_contact_id=inviter.id,
            queue_id=queue.id, enqueue_time=now, flow_id=qc.contact_flow_id,
            chat_duration_minutes=inviter.chat_duration_minutes, customer_display_name=inviter.customer_display_name,
            multi_party=instance.multi_party_chat, supported_content_types=inviter.supported_content_types,
            segment_kind=kind, agent_participant_id=new_id(), quick_connect_id=qc.id, quick_connect_name=qc.name,
            invited_by=inviter.agent_participant_id,
            target_name=target.display_name if target else (queue.name or qc.name),
        )
        await uow.contacts.add(new)
        leg = NextContact(new.id, now, qc.id, qc.name or "", qc.quick_connect_type)
        await uow.contacts.update(replace(inviter, next_contacts=(*inviter.next_contacts, leg), last_update_time=now))
        return new

    async def destroy_connection(self, who: AgentSession, contact_id: str, connection_id: str) -> None:
        """Leave (own connection), remove another agent, cancel an invitation, or end the chat (customer)."""
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            segment = await get_segment(uow, who.instance_id, contact_id)
            if segment.agent_user_id != user.id or segment.state not in (CONNECTED, CONNECTING):
                raise ContactStateError(f"You are not connected to contact {contact_id}.")
            chat = await uow.chats.find(segment.initial_contact_id, for_update=True)
            if chat is None or chat.ended:
                raise ContactStateError("The chat has ended.")
            if segment.state == CONNECTING:
                raise ContactStateError("Accept or reject the offer first.")
            participants = {p.id: p for p in await uow.participants.of_chat(chat.id)}
            me = participants.get(segment.agent_participant_id or "")
            target = participants.get(connection_id)
            if target is not None and hidden_from(target, segment.agent_participant_id):
                target = None  # a silent monitor is no connection of the chat to anyone else
            if target is None or target.id != segment.agent_participant_id:
                check_acts(me)  # a silent monitor may leave, nothing more
            if target is not None and target.active:
                if target.role == CUSTOMER:
                    await end_chat_txn(uow, self.notifier, chat.id, "AGENT_DISCONNECT")
                elif target.role == "AGENT":
                    await remove_agent_txn(uow, self.notifier, target, now, "AGENT_DISCONNECT")
                elif is_monitor(target):
                    leaving = target.id == segment.agent_participant_id
                    await remove_agent_txn(uow, self.notifier, target, now,
                                           "SUPERVISOR_DISCONNECT" if leaving else "AGENT_DISCONNECT")
                else:
                    raise InvalidRequest("Only the customer and agents can be disconnected from the chat.")
            else:
                invitation = next((s for s in await uow.contacts.of_chat(chat.id)
                                   if s.agent_participant_id == connection_id and s.pending), None)
                if invitation is None:
                    raise NotFound(f"Connection {connection_id} is not an active connection of this chat.")
                await uow.contacts.update(close_segment(invitation, now, "CANCELLED"))
                await end_if_alone_txn(uow, self.notifier, chat.id, now)
            self.notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, chat.id))
        self.router.kick()

    # chat credentials ------------------------------------------------------------------------------
    async def participant_token(self, who: AgentSession, contact_id: str) -> tuple[Contact, str]:
        """The participant token of the agent's connection to a contact (``connectionData``)."""
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            segment = await get_segment(uow, who.instance_id, contact_id)
            if segment.agent_user_id != user.id or not segment.agent_participant_id:
                raise NotFound(f"Contact {contact_id} is not one of yours.")
            secret = await instance_secret_txn(uow, who.instance_id)
        return segment, agent_participant_token(secret, segment.agent_participant_id)

    # the snapshot ----------------------------------------------------------------------------------
    async def view(self, who: AgentSession) -> AgentView:
        now = utcnow()
        async with self.storage.transaction() as uow:
            user = await self._user(uow, who)
            presence = await presence_txn(uow, user, now)
            instance = await get_instance(uow, who.instance_id)
            secret = instance.secret or await instance_secret_txn(uow, who.instance_id)
            views = []
            segments = await uow.contacts.of_agent(user.id)
            # Every chat's participants and segments in two queries, not two per chat: an agent's snapshot is
            # read again each time anything changes in any of its chats.
            chat_ids = [s.initial_contact_id for s in segments]
            participants_by_chat: dict[str, list[Participant]] = {}
            for p in await uow.participants.of_chats(chat_ids):
                participants_by_chat.setdefault(p.chat_id, []).append(p)
            segments_by_chat: dict[str, list[Contact]] = {}
            for c in await uow.contacts.of_chats(chat_ids):
                segments_by_chat.setdefault(c.initial_contact_id, []).append(c)
            queues: dict[str, Queue | None] = {}
            for segment in segments:
                participants = tuple(participants_by_chat.get(segment.initial_contact_id, ()))
                chat_segments = tuple(segments_by_chat.get(segment.initial_contact_id, ()))
                root = next((s for s in chat_segments if s.id == segment.initial_contact_id), segment)
                queue_id = segment.queue_id or ""
                if queue_id not in queues:
                    queues[queue_id] = await uow.resources.find(Queue, who.instance_id, queue_id)
                queue = queues[queue_id]
                names = {p.id: p.display_name for p in participants}
                names.update({s.agent_participant_id: s.target_name or "" for s in chat_segments
                              if s.agent_participant_id and s.agent_participant_id not in names})
                token = (agent_participant_token(secret, segment.agent_participant_id)
                         if segment.agent_participant_id else None)
                views.append(SegmentView(segment, queue, participants, chat_segments, names, token,
                                         dict(root.attributes), instance.multi_party_chat))
        return AgentView(user, presence, tuple(views))


def _refuse_if_present(target: User, participants: list[Participant], segments: list[Contact]) -> None:
    if any(p.active and p.user_id == target.id for p in participants):
        raise InvalidRequest(f"{target.display_name} is already in this chat.")
    if any(s.pending and s.queue_id == target.agent_queue_id for s in segments):
        raise InvalidRequest(f"{target.display_name} has already been invited to this chat.")


async def _target_name(uow: UnitOfWork, qc: QuickConnect) -> str:
    if qc.quick_connect_type == "USER":
        user = await uow.resources.find(User, qc.instance_id, qc.user_id or "")
        return user.display_name if user else (qc.name or "")
    if qc.quick_connect_type == "QUEUE":
        queue = await uow.resources.find(Queue, qc.instance_id, qc.queue_id or "")
        return (queue.name if queue else None) or qc.name or ""
    return qc.name or ""

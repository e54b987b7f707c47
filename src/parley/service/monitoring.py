"""Use cases of enhanced chat monitoring: start monitoring a chat (MonitorContact), barge in (the CTI's
UpdateMonitorParticipantState), list a chat's monitors, and the per-instance monitor limit. The rules are in
parley.domain.monitoring; leaving, removal and the chat's end go through the agents' and the chat's use cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from parley.domain.agents import AgentSession
from parley.domain.arns import parse_resource_arn
from parley.domain.audit import Subject
from parley.domain.callers import Caller, Member
from parley.domain.clock import utcnow
from parley.domain.contact import CONNECTED, MONITOR_SEGMENT, SUPERVISOR, Contact, Participant
from parley.domain.errors import AccessDenied, Conflict, IdempotencyConflict, NotFound
from parley.domain.ids import hash_token, new_id
from parley.domain.instance import Instance
from parley.domain.monitoring import (
    BARGED,
    SILENT_MONITOR,
    active_monitors,
    check_capabilities,
    check_enabled,
    check_mode,
    check_monitor_cap,
    check_monitorable,
    check_newcomer,
    check_permissions,
    check_room,
    check_slot,
    check_switch,
    monitoring_enabled,
)
from parley.domain.resources import RoutingProfile, User
from parley.domain.transcript import JOINED
from parley.service.access import allow, member_of, permissions_of
from parley.service.agent_steps import agent_participant_token, agents_of_chat, instance_secret_txn, lock_segment
from parley.service.audit import record_txn
from parley.service.chat_steps import append_txn, event
from parley.service.contacts import get_contact
from parley.service.lookups import get_instance
from parley.service.notify import Notifier
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork


@dataclass(frozen=True)
class MonitorRequest:
    """MonitorContact's input: who (``user_id``, an id or ARN) monitors which contact, allowed to do what."""

    instance_id: str
    contact_id: str
    user_id: str
    capabilities: list[str] | None
    client_token: str | None = None


@dataclass(frozen=True)
class MonitorView:
    """One supervisor monitoring a chat, as the console's live view shows it."""

    contact_id: str  # the monitoring contact
    participant_id: str
    user_id: str
    name: str
    mode: str  # SILENT_MONITOR or BARGE
    capabilities: tuple[str, ...]
    since: datetime


class MonitoringService:
    def __init__(self, storage: Storage, notifier: Notifier) -> None:
        self.storage = storage
        self.notifier = notifier

    async def monitor(self, caller: Caller, request: MonitorRequest) -> Contact:
        """Connect's MonitorContact: a new monitoring contact of the chat, silent, for the user's CCP."""
        allow(caller, request.instance_id, "MonitorContact")
        capabilities = check_capabilities(request.capabilities)
        fingerprint = {"ContactId": request.contact_id, "UserId": request.user_id,
                       "AllowedMonitorCapabilities": list(capabilities)}
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, request.instance_id)
            check_enabled(instance)
            scope = f"MonitorContact/{instance.id}"
            if request.client_token:
                earlier = await uow.idempotency.find(scope, request.client_token)
                if earlier is not None:
                    if earlier.get("Request") != fingerprint:
                        raise IdempotencyConflict("This ClientToken was already used for a different MonitorContact "
                                                  "request; use a new ClientToken.")
                    return await get_contact(uow, instance.id, str(earlier["ContactId"]))
            user = await _user(uow, instance.id, request.user_id)
            if isinstance(caller, Member) and caller.user.id != user.id:
                raise AccessDenied(f"{caller.name} may not start monitoring for {user.username}: a signed-in user "
                                   "monitors as itself.")
            found = await get_contact(uow, instance.id, request.contact_id)
            check_permissions(user.username, await permissions_of(uow, user), capabilities)
            # The chat's row first, then its contacts (the lock order of every use case).
            chat = await uow.chats.find(found.initial_contact_id, for_update=True)
            contact = await get_contact(uow, instance.id, found.id, for_update=True)
            check_monitorable(contact, chat is None or chat.ended)
            assert chat is not None
            participants = await uow.participants.of_chat(chat.id)
            check_newcomer(user.display_name, user.id, participants, await uow.contacts.of_chat(chat.id))
            check_room(participants, instance.monitor_cap)
            profile = await uow.resources.find(RoutingProfile, instance.id, user.routing_profile_id)
            check_slot(user.display_name, len(await uow.contacts.of_agent(user.id)),
                       profile.concurrency("CHAT") if profile else 0)
            monitoring = await self._start_txn(uow, instance, contact, user, capabilities, chat.expires_at)
            if request.client_token:
                await uow.idempotency.save(scope, request.client_token,
                                         {"ContactId": monitoring.id, "Request": fingerprint})
            return monitoring

    async def _start_txn(self, uow: UnitOfWork, instance: Instance, contact: Contact, user: User,
                         capabilities: tuple[str, ...], expires: datetime) -> Contact:
        """The monitoring contact (connected at once: there is no offer) and the supervisor's silent participant;
        nothing is written to the transcript."""
        now = utcnow()
        participant_id = new_id()
        monitoring = Contact(
            instance_id=instance.id, id=new_id(), initial_contact_id=contact.initial_contact_id, channel="CHAT",
            initiation_method="MONITOR", initiation_time=now, last_update_time=now, state=CONNECTED,
            previous_contact_id=contact.id, agent_user_id=user.id, connected_to_agent_time=now,
            chat_duration_minutes=contact.chat_duration_minutes,
            customer_display_name=contact.customer_display_name, multi_party=contact.multi_party,
            supported_content_types=contact.supported_content_types, segment_kind=MONITOR_SEGMENT,
            agent_participant_id=participant_id, monitor_capabilities=capabilities,
        )
        secret = await instance_secret_txn(uow, instance.id)
        token = agent_participant_token(secret, participant_id)
        supervisor = Participant(
            id=participant_id, chat_id=contact.initial_contact_id, contact_id=monitoring.id, role=SUPERVISOR,
            display_name=user.display_name, token_hash=hash_token(token), token_expiry=expires, created=now,
            user_id=user.id, connected=now, monitor=SILENT_MONITOR,
        )
        await uow.contacts.add(monitoring)
        await uow.participants.add(supervisor)
        self.notifier.poke_agents_after_commit(uow, [user.id])
        return monitoring

    async def switch_mode(self, who: AgentSession, contact_id: str, target: str) -> None:
        """``contact.updateMonitorParticipantState(mode)``: a silent monitor barges in (``participant.joined``)."""
        check_mode(target)
        async with self.storage.transaction() as uow:
            user = await uow.resources.find(User, who.instance_id, who.user_id)
            if user is None:
                raise AccessDenied("This user no longer exists.")
            instance = await get_instance(uow, who.instance_id)
            segment, chat = await lock_segment(uow, who.instance_id, contact_id)
            if segment.agent_user_id != user.id or segment.segment_kind != MONITOR_SEGMENT:
                raise NotFound(f"Contact {contact_id} is not a monitoring contact of yours.",
                               resource_type="CONTACT", resource_id=contact_id)
            me = await uow.participants.find(segment.agent_participant_id or "")
            if segment.state != CONNECTED or chat is None or chat.ended or me is None or not me.active:
                raise Conflict(f"The monitoring of contact {contact_id} has ended.")
            if target == BARGED and me.monitor != BARGED:
                allow(await member_of(uow, user), instance.id, "BargeIn")
            participants = await uow.participants.of_chat(chat.id)
            if not check_switch(me, target, segment.monitor_capabilities, monitoring_enabled(instance), participants):
                return
            now = utcnow()
            barged = replace(me, monitor=target)
            await uow.participants.update(barged)
            await append_txn(uow, self.notifier, chat.id, [event(chat.id, segment.id, JOINED, barged, now)])
            await uow.contacts.update(replace(segment, last_update_time=now))
            self.notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, chat.id))

    async def monitors(self, caller: Caller, instance_id: str, contact_id: str) -> list[MonitorView]:
        """Who monitors the chat of ``contact_id`` now, in the order they started."""
        allow(caller, instance_id, "ListContactMonitors")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            contact = await get_contact(uow, instance.id, contact_id)
            participants = await uow.participants.of_chat(contact.initial_contact_id)
            segments = {s.id: s for s in await uow.contacts.of_chat(contact.initial_contact_id)}
        views = []
        for party in active_monitors(participants):
            segment = segments.get(party.contact_id)
            views.append(MonitorView(party.contact_id, party.id, party.user_id or "", party.display_name,
                                     party.monitor or SILENT_MONITOR,
                                     segment.monitor_capabilities if segment else (), party.created))
        return sorted(views, key=lambda v: (v.since, v.contact_id))

    async def set_monitor_cap(self, caller: Caller, instance_id: str, cap: int) -> Instance:
        """How many supervisors may monitor one chat of the instance at a time (1 to Connect's 5)."""
        allow(caller, instance_id, "SetMonitorCap")
        check_monitor_cap(cap)
        async with self.storage.transaction() as uow:
            instance = replace(await get_instance(uow, instance_id, for_update=True), monitor_cap=cap)
            await uow.instances.update(instance)
            await record_txn(uow, caller, "SetMonitorCap", Subject(instance.id, "instance", instance.id,
                                                                  instance.alias or instance.id), f"Monitor cap {cap}")
            return instance


async def _user(uow: UnitOfWork, instance_id: str, user_id: str) -> User:
    """A user of the instance by id or ARN (MonitorContact's UserId takes either)."""
    parsed = parse_resource_arn(user_id)
    key = parsed[2] if parsed is not None and parsed[0] == instance_id and parsed[1] == "agent" else user_id
    found = await uow.resources.find(User, instance_id, key)
    if found is None:
        raise NotFound(f"User {user_id} was not found in instance {instance_id}.", resource_type="USER",
                       resource_id=user_id)
    return found

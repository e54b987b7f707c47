"""Routing: the longest-waiting contact goes to the longest-idle available agent with a free chat slot.

Every step claims its work with row locks (SQLite: one writer at a time; PostgreSQL: ``FOR UPDATE`` on the
contact and the agent), so several nodes may route the same instance at once without double offers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from parley.domain.agents import ERROR, MISSED, OFFER_SECONDS
from parley.domain.clock import utcnow
from parley.domain.contact import CONNECTING, CUSTOMER_SEGMENT, QUEUED, Contact
from parley.domain.ids import new_id
from parley.domain.resources import CHAT_CONCURRENCY_RANGE, Queue, RoutingProfile, User
from parley.service.agent_steps import accept_txn, agents_of_chat, end_if_alone_txn, lock_segment, presence_txn
from parley.service.chat_steps import close_segment
from parley.service.lookups import get_instance
from parley.service.notify import Notifier
from parley.service.pokes import ROUTING_CHANNEL
from parley.service.ports import Storage, StorageUnavailable
from parley.service.repositories import UnitOfWork

log = logging.getLogger(__name__)

# Contacts looked at per routing pass; the pass repeats while it makes offers.
BATCH = 200
# A pass runs at least this often, for offers that expire and agents whose capacity came back.
TICK_SECONDS = 1.0


class Router:
    def __init__(self, storage: Storage, notifier: Notifier, offer_seconds: float = OFFER_SECONDS) -> None:
        self.storage = storage
        self.notifier = notifier
        self.offer_seconds = offer_seconds
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def kick(self) -> None:
        """Ask for a routing pass soon (passes coalesce)."""
        self._wake.set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run()), loop.create_task(self._listen())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        """Wake-ups from any node (a contact was queued there) start a pass here too."""
        async with self.notifier.bus.subscribe(ROUTING_CHANNEL) as messages:
            async for _ in messages:
                self.kick()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            self._wake.clear()
            try:
                await self.expire_offers()
                while await self.route_pass() > 0:
                    pass
            except StorageUnavailable as exc:  # the database is down: no traceback, the next round retries
                log.warning("routing pass failed: %s", exc)
            except Exception:
                log.exception("routing pass failed")

    async def route_pass(self) -> int:
        """Offer what can be offered now; returns the number of offers made."""
        async with self.storage.transaction() as uow:
            waiting = await uow.contacts.in_state(None, QUEUED, BATCH)
            staffed = {iid for iid in {c.instance_id for c in waiting} if await uow.presences.routable(iid)}
        offers = 0
        for contact in waiting:
            # Nobody routable in the instance: nothing to offer (the pass costs one query, not one per contact).
            if contact.instance_id in staffed and await self.offer(contact.instance_id, contact.id):
                offers += 1
        return offers

    async def offer(self, instance_id: str, contact_id: str) -> bool:
        now = utcnow()
        async with self.storage.transaction() as uow:
            waiting = await uow.contacts.find(instance_id, contact_id)
            if waiting is None or waiting.state != QUEUED:
                return False
            segment, chat = await lock_segment(uow, instance_id, contact_id, read=waiting)
            if segment.state != QUEUED:
                return False
            if chat is None or chat.ended:
                await uow.contacts.update(close_segment(segment, now, "CHAT_ENDED"))
                return False
            queue = await uow.resources.find(Queue, instance_id, segment.queue_id or "")
            if queue is None:
                return False
            present = {p.user_id for p in await uow.participants.of_chat(chat.id) if p.active and p.user_id}
            present |= {s.agent_user_id for s in await uow.contacts.of_chat(chat.id)
                        if s.pending and s.agent_user_id and s.id != segment.id}
            candidates = await uow.presences.routable(instance_id)
            if not candidates:
                return False
            # One aggregate query tells which candidates are full; users and routing profiles are read only for
            # the others (profiles once per offer); the chosen agent's rows are then locked and re-checked.
            in_use = await uow.contacts.slots_in_use(instance_id)
            profiles: dict[str, RoutingProfile | None] = {}
            for candidate in candidates:
                if candidate in segment.skip_user_ids or candidate in present:
                    continue
                if in_use.get(candidate, 0) >= CHAT_CONCURRENCY_RANGE[1]:
                    continue  # full whatever their routing profile says: no need to read it
                user = await uow.resources.find(User, instance_id, candidate)
                if user is None:
                    continue
                if user.routing_profile_id not in profiles:
                    profiles[user.routing_profile_id] = await uow.resources.find(
                        RoutingProfile, instance_id, user.routing_profile_id)
                profile = profiles[user.routing_profile_id]
                if profile is None or not _serves(user, profile, queue):
                    continue
                if profile.concurrency("CHAT") - in_use.get(user.id, 0) < 1:
                    continue
                presence = await presence_txn(uow, user, now, for_update=True)
                if not presence.routable or profile.concurrency("CHAT") - len(await uow.contacts.of_agent(user.id)) < 1:
                    continue
                offered = replace(
                    segment, state=CONNECTING, agent_user_id=user.id, last_update_time=now,
                    offer_expires=now + timedelta(seconds=self.offer_seconds),
                    agent_participant_id=segment.agent_participant_id or new_id(),
                )
                await uow.contacts.update(offered)
                # An offer is activity: the agent goes to the back of the longest-idle line (Connect's default
                # agent availability timer, TIME_SINCE_LAST_ACTIVITY), so idle agents are offered before busy ones.
                await uow.presences.save(replace(presence, idle_since=now))
                if user.auto_accept_chat:
                    await accept_txn(uow, self.notifier, await get_instance(uow, instance_id), offered, user, now)
                self.notifier.poke_agents_after_commit(uow, await agents_of_chat(uow, chat.id) | {user.id})
                return True
        return False

    async def expire_offers(self) -> int:
        """Offers nobody accepted in time are missed: the agent goes to MissedCallAgent, the contact moves on."""
        now = utcnow()
        async with self.storage.transaction() as uow:
            offered = await uow.contacts.in_state(None, CONNECTING, BATCH)
        missed = 0
        for contact in offered:
            if contact.offer_expires is None or contact.offer_expires > now:
                continue
            async with self.storage.transaction() as uow:
                segment, _chat = await lock_segment(uow, contact.instance_id, contact.id)
                if segment.state != CONNECTING or not segment.agent_user_id:
                    continue
                if segment.offer_expires is None or segment.offer_expires > now:
                    continue
                user = await uow.resources.find(User, segment.instance_id, segment.agent_user_id)
                if user is not None:
                    presence = await presence_txn(uow, user, now, for_update=True)
                    await uow.presences.save(replace(presence, state_name=MISSED, state_type=ERROR, since=now,
                                                   state_id=None))
                await decline_txn(uow, self.notifier, segment, now, "MISSED")
                missed += 1
        if missed:
            self.kick()
        return missed


async def decline_txn(uow: UnitOfWork, notifier: Notifier, segment: Contact, now: datetime, reason: str) -> None:
    """An offer was rejected or missed: a queue's contact waits for another agent; an invitation to one named
    agent is over (its seat is free again)."""
    agent = segment.agent_user_id
    queue = await uow.resources.find(Queue, segment.instance_id, segment.queue_id or "")
    to_one_agent = queue is not None and queue.queue_type == "AGENT" and segment.segment_kind != CUSTOMER_SEGMENT
    if to_one_agent:
        await uow.contacts.update(replace(close_segment(segment, now, reason), agent_user_id=agent))
        await end_if_alone_txn(uow, notifier, segment.initial_contact_id, now)
    else:
        await uow.contacts.update(replace(
            segment, state=QUEUED, agent_user_id=None, offer_expires=None, last_update_time=now,
            skip_user_ids=(agent,) if agent else (),
        ))
    notifier.poke_agents_after_commit(uow, (await agents_of_chat(uow, segment.initial_contact_id)) | {agent or ""})


def _serves(user: User, profile: RoutingProfile, queue: Queue) -> bool:
    """Does ``user`` take chats from ``queue``: its own agent queue, or a queue of its routing profile."""
    if queue.queue_type == "AGENT":
        return queue.owner_user_id == user.id
    return any(c.queue_id == queue.id and c.channel == "CHAT" for c in profile.queue_configs)

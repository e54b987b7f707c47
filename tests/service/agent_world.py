"""A contact center in one process for service tests of routing and agents: storage on a SQLite file (or any URL, or
a storage handed in, such as the in-memory fake of ``tests.fakes.memory``), an in-process bus, and the services wired
as ``parley.app.build`` wires them, with a router that never runs on its own (the tests call ``route_pass`` and
``expire_offers``) and a fake clock.

The instance manages its identities in SAML mode, so users need no password (no Argon2 work in these tests); it
has its built-in resources (BasicQueue, Basic Routing Profile with CHAT concurrency 3, the Available and Offline
statuses, the default flows) and multi-party chat switched on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType

import pytest

import parley.service.agents
import parley.service.chat
import parley.service.chat_steps
import parley.service.contacts
import parley.service.directory
import parley.service.quick_connects
import parley.service.routing
from parley.aws.participant.items import chat_frame
from parley.domain.agents import AgentSession, Presence
from parley.domain.arns import Account
from parley.domain.callers import SYSTEM
from parley.domain.clock import utcnow
from parley.domain.contact import Contact, Participant
from parley.domain.ids import new_id
from parley.domain.permissions import AGENT_PERMISSIONS
from parley.domain.resources import (
    AgentStatus,
    ContactFlow,
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    QuickConnect,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
)
from parley.domain.transcript import Item
from parley.fanout.local import LocalBus
from parley.service.agents import AgentService
from parley.service.chat import ChatService
from parley.service.contacts import ChatRequest, ContactService, StartedChat
from parley.service.directory import DirectoryService
from parley.service.instances import (
    AGENT_TRANSFER_FLOW,
    BASIC_QUEUE,
    BASIC_ROUTING_PROFILE,
    QUEUE_TRANSFER_FLOW,
    SAMPLE_INBOUND_FLOW,
    InstanceService,
)
from parley.service.notify import Notifier
from parley.service.passwords import Passwords
from parley.service.ports import Storage
from parley.service.quick_connects import QuickConnectConfig, QuickConnectService
from parley.service.routing import Router
from parley.storage import open_storage

# Where quick-connect ARNs say the instance lives (any account works: only the ARN's path is read).
ACCOUNT = Account("us-west-2", "123456789012")
# The modules whose ``utcnow`` the fake clock replaces: everything that stamps contacts, offers and presence.
CLOCKED: tuple[ModuleType, ...] = (
    parley.service.agents, parley.service.chat, parley.service.chat_steps, parley.service.contacts,
    parley.service.directory, parley.service.quick_connects, parley.service.routing,
)


class FakeClock:
    """Time for the services: starts at the real time and moves 1 ms per reading (so two events are never
    stamped alike and their order is the order they happened), plus whatever the test skips with ``skip``."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def skip(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def says(message: str, *, whole: bool = True) -> str:
    """A ``pytest.raises(match=...)`` pattern for exactly ``message`` (or, not ``whole``, a message starting so)."""
    return "^" + re.escape(message) + ("$" if whole else "")


def install_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    for module in CLOCKED:
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


@dataclass(frozen=True)
class Staff:
    """An agent: the user and the session its CTI calls would carry."""

    user: User
    who: AgentSession

    @property
    def id(self) -> str:
        return self.user.id


@dataclass
class World:
    storage: Storage
    bus: LocalBus
    clock: FakeClock
    instances: InstanceService
    directory: DirectoryService
    quick_connects: QuickConnectService
    contacts: ContactService
    chat: ChatService
    router: Router
    agents: AgentService
    instance_id: str = ""
    inbound_flow: str = ""
    basic_queue: str = ""
    basic_profile: str = ""
    agent_security_profile: str = ""

    async def close(self) -> None:
        await self.bus.close()
        await self.storage.close()

    # setup -----------------------------------------------------------------------------------------
    async def agent(self, name: str, *, profile_id: str | None = None, auto_accept: bool = False,
                    available: bool = True) -> Staff:
        """A new agent on ``profile_id`` (default: the Basic Routing Profile), Available unless told otherwise."""
        user = await self.directory.create_user(
            SYSTEM, self.instance_id, name, None, IdentityInfo(first_name=name.title()), PhoneConfig(),
            [self.agent_security_profile], profile_id or self.basic_profile, auto_accept_chat=auto_accept,
        )
        now = self.clock()
        staff = Staff(user, AgentSession("access", self.instance_id, user.id, now, now + timedelta(hours=1)))
        if available:
            await self.set_state(staff, "Available")
        return staff

    async def set_state(self, staff: Staff, name: str) -> Presence:
        return await self.agents.set_state(staff.who, None, name)

    async def routing_profile(self, name: str, chats: int, queue_ids: list[str]) -> RoutingProfile:
        return await self.directory.create_routing_profile(
            SYSTEM, self.instance_id, name, "", self.basic_queue, [MediaConcurrency("CHAT", chats)],
            [RoutingQueueConfig(q, "CHAT", 1, 0) for q in queue_ids],
        )

    async def queue_with_flow(self, name: str) -> tuple[Queue, str]:
        """A new standard queue and an inbound flow that routes chats to it (flows have no Connect API here)."""
        basic = await self.directory.get_queue(SYSTEM, self.instance_id, self.basic_queue)
        queue = await self.directory.create_queue(
            SYSTEM, self.instance_id, name, "", basic.hours_of_operation_id, None, []
        )
        flow = ContactFlow(self.instance_id, new_id(), f"To {name}", self.clock(), flow_type="CONTACT_FLOW",
                           target_queue_id=queue.id)
        async with self.storage.transaction() as uow:
            await uow.resources.add(flow)
        return queue, flow.id

    async def custom_status(self, name: str) -> AgentStatus:
        """A CUSTOM (not routable) agent status, like "Lunch" (statuses have no service of their own yet)."""
        status = AgentStatus(self.instance_id, new_id(), name, self.clock(), status_type="CUSTOM", display_order=3)
        async with self.storage.transaction() as uow:
            await uow.resources.add(status)
        return status

    async def user_quick_connect(self, staff: Staff) -> str:
        """A USER quick connect to ``staff`` on BasicQueue (so every Basic agent sees it); returns its ARN."""
        flow = await self._flow(AGENT_TRANSFER_FLOW)
        qc = await self.quick_connects.create(SYSTEM, self.instance_id, f"To {staff.user.username}", None,
                                              QuickConnectConfig("USER", user_id=staff.id, contact_flow_id=flow))
        return await self._on_basic_queue(qc)

    async def queue_quick_connect(self, queue_id: str | None = None) -> str:
        flow = await self._flow(QUEUE_TRANSFER_FLOW)
        qc = await self.quick_connects.create(
            SYSTEM, self.instance_id, f"To queue {new_id()[:8]}", None,
            QuickConnectConfig("QUEUE", queue_id=queue_id or self.basic_queue, contact_flow_id=flow),
        )
        return await self._on_basic_queue(qc)

    async def _flow(self, name: str) -> str:
        async with self.storage.transaction() as uow:
            flow = await uow.resources.find_by_name(ContactFlow, self.instance_id, name)
        assert flow is not None
        return flow.id

    async def _on_basic_queue(self, qc: QuickConnect) -> str:
        await self.quick_connects.associate_with_queue(SYSTEM, self.instance_id, self.basic_queue, [qc.id])
        return ACCOUNT.arn(self.instance_id, "transfer-destination", qc.id)

    # customers and what the tests look at ----------------------------------------------------------
    async def customer(self, name: str = "Jane", flow_id: str | None = None) -> StartedChat:
        request = ChatRequest(self.instance_id, flow_id or self.inbound_flow, name, {})
        return await self.contacts.start_chat(SYSTEM, request)

    async def contact(self, contact_id: str) -> Contact:
        return await self.contacts.describe(SYSTEM, self.instance_id, contact_id)

    async def offered_to(self, staff: Staff) -> list[str]:
        """Ids of the contacts offered to ``staff`` right now."""
        view = await self.agents.view(staff.who)
        return [v.segment.id for v in view.contacts if v.segment.state == "CONNECTING"]

    async def segments(self, chat_id: str) -> list[Contact]:
        async with self.storage.transaction() as uow:
            return await uow.contacts.of_chat(chat_id)

    async def participants(self, chat_id: str) -> list[Participant]:
        async with self.storage.transaction() as uow:
            return await uow.participants.of_chat(chat_id)

    async def transcript(self, chat_id: str) -> list[Item]:
        async with self.storage.transaction() as uow:
            return await uow.chats.items_after(chat_id, 0, 1000)

    async def presence(self, staff: Staff) -> Presence:
        return (await self.agents.view(staff.who)).presence

    async def route(self) -> int:
        """Routing passes until nothing more can be offered; the number of offers made."""
        total = 0
        while made := await self.router.route_pass():
            total += made
        return total

    async def offer_and_accept(self, staff: Staff, chat: StartedChat) -> None:
        """Route, check the offer went to ``staff``, and accept it."""
        await self.route()
        assert chat.contact_id in await self.offered_to(staff)
        await self.agents.accept(staff.who, chat.contact_id)


async def open_world(db: str | Storage, monkeypatch: pytest.MonkeyPatch) -> World:
    """A world on database URL ``db`` (or on the storage ``db``, which it closes) with one instance ready for agents."""
    clock = install_clock(monkeypatch)
    storage = await open_storage(db) if isinstance(db, str) else db
    bus = LocalBus()
    notifier = Notifier(bus, chat_frame)
    router = Router(storage, notifier)
    world = World(
        storage, bus, clock, InstanceService(storage), DirectoryService(storage, Passwords()),
        QuickConnectService(storage), ContactService(storage, notifier), ChatService(storage, notifier), router,
        AgentService(storage, notifier, router),
    )
    instance = await world.instances.create_instance(SYSTEM, f"desk-{new_id()[:8]}", "SAML", True, True)
    await world.instances.set_attribute(SYSTEM, instance.id, "MULTI_PARTY_CHAT_CONFERENCE", "true")
    async with storage.transaction() as uow:
        flow = await uow.resources.find_by_name(ContactFlow, instance.id, SAMPLE_INBOUND_FLOW)
        queue = await uow.resources.find_by_name(Queue, instance.id, BASIC_QUEUE)
        profile = await uow.resources.find_by_name(RoutingProfile, instance.id, BASIC_ROUTING_PROFILE)
        security = await uow.resources.find_by_name(SecurityProfile, instance.id, "Agent")
    assert flow and queue and profile and security
    assert set(AGENT_PERMISSIONS) <= set(security.permissions)
    world.instance_id, world.inbound_flow, world.basic_queue = instance.id, flow.id, queue.id
    world.basic_profile, world.agent_security_profile = profile.id, security.id
    return world

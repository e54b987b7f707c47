"""Who may do what, asked inside the services (``parley.service.access``), so every edge gets the same answer.

Each kind of administrative and Connect-facing use case is run, on a real storage, by a signed-in member without
the permission (refused with the sentence naming the permission and the action, and nothing changed), by a member
of another instance (refused), by a member whose security profile grants it (allowed), and by an operator (a SigV4
access key) and by Parley itself (always allowed). The CCP's own check (BasicAgentAccess) is asked the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from parley.aws.participant.items import chat_frame
from parley.domain.callers import SYSTEM, Caller, Member, Operator
from parley.domain.errors import AccessDenied, InvalidRequest
from parley.domain.permissions import NEEDS
from parley.domain.resources import (
    RESOURCE_TYPES,
    ContactFlow,
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
)
from parley.fanout.local import LocalBus
from parley.service.access import member_of, permissions_of, require
from parley.service.auth import AuthService
from parley.service.chat import ChatService
from parley.service.contacts import ChatRequest, ContactService, StartedChat
from parley.service.directory import DirectoryService
from parley.service.instances import (
    AGENT_TRANSFER_FLOW,
    BASIC_QUEUE,
    BASIC_ROUTING_PROFILE,
    SAMPLE_INBOUND_FLOW,
    InstanceService,
)
from parley.service.notify import Notifier
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectConfig, QuickConnectService
from parley.storage import open_storage
from parley.storage.database import SqlStorage
from tests.service.agent_world import says

PASSWORD = "Parley-test-1"
OPERATOR = Operator("AKIDEXAMPLE")


@dataclass
class Desk:
    """Two instances ("desk" and "other") with their built-in resources, and the services over them."""

    storage: SqlStorage
    instances: InstanceService
    directory: DirectoryService
    quick_connects: QuickConnectService
    contacts: ContactService
    chat: ChatService
    auth: AuthService
    bus: LocalBus
    instance_id: str = ""
    other_id: str = ""
    basic_queue: str = ""
    basic_profile: str = ""
    inbound_flow: str = ""
    agent_flow: str = ""
    profiles: dict[str, str] = field(default_factory=dict)
    made: int = 0

    def name(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    async def user(self, profiles: list[str], instance_id: str | None = None, username: str | None = None) -> User:
        """A user of ``instance_id`` (default: the desk) with the named built-in security profiles."""
        iid = instance_id or self.instance_id
        async with self.storage.transaction() as uow:
            ids = [p.id for p in await uow.resources.all(SecurityProfile, iid) if p.name in profiles]
            routing = await uow.resources.find_by_name(RoutingProfile, iid, BASIC_ROUTING_PROFILE)
        assert routing is not None and len(ids) == len(profiles)
        return await self.directory.create_user(
            SYSTEM, iid, username or self.name("user"), PASSWORD, IdentityInfo(), PhoneConfig(), ids, routing.id,
        )

    async def member(self, profiles: list[str], instance_id: str | None = None, username: str | None = None) -> Member:
        return await member_of(self.storage, await self.user(profiles, instance_id, username))

    async def chat_now(self) -> StartedChat:
        return await self.contacts.start_chat(SYSTEM, ChatRequest(self.instance_id, self.inbound_flow, "Jane", {}))

    async def quick_connect(self) -> str:
        config = QuickConnectConfig("QUEUE", queue_id=self.basic_queue, contact_flow_id=await self.flow("QUEUE"))
        return (await self.quick_connects.create(SYSTEM, self.instance_id, self.name("qc"), None, config)).id

    async def flow(self, kind: str) -> str:
        async with self.storage.transaction() as uow:
            flows = await uow.resources.all(ContactFlow, self.instance_id)
        return next(f.id for f in flows if f.flow_type == f"{kind}_TRANSFER")

    async def state(self) -> dict[str, Any]:
        """Everything a refused use case could have changed, in both instances."""
        found: dict[str, Any] = {}
        async with self.storage.transaction() as uow:
            found["instances"] = await uow.instances.list(None, 100)
            for iid in (self.instance_id, self.other_id):
                for kind in RESOURCE_TYPES:
                    found[f"{iid}/{kind.KIND}"] = await uow.resources.all(kind, iid)
                for state in ("QUEUED", "CONNECTING", "CONNECTED", "ENDED", "CLOSED"):
                    contacts = await uow.contacts.in_state(iid, state, 1000)
                    found[f"{iid}/{state}"] = contacts
                    for contact in contacts:
                        found[f"chat/{contact.id}"] = await uow.participants.of_chat(contact.initial_contact_id)
                        found[f"chat-row/{contact.id}"] = await uow.chats.find(contact.initial_contact_id)
        return found


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    bus = LocalBus()
    notifier = Notifier(bus, chat_frame)
    passwords = Passwords(fast=True)
    world = Desk(
        storage, InstanceService(storage), DirectoryService(storage, passwords), QuickConnectService(storage),
        ContactService(storage, notifier), ChatService(storage, notifier), AuthService(storage, passwords), bus,
    )
    try:
        instance = await world.instances.create_instance(SYSTEM, "desk", "CONNECT_MANAGED", True, True)
        other = await world.instances.create_instance(SYSTEM, "other", "CONNECT_MANAGED", True, True)
        async with storage.transaction() as uow:
            queue = await uow.resources.find_by_name(Queue, instance.id, BASIC_QUEUE)
            profile = await uow.resources.find_by_name(RoutingProfile, instance.id, BASIC_ROUTING_PROFILE)
            inbound = await uow.resources.find_by_name(ContactFlow, instance.id, SAMPLE_INBOUND_FLOW)
            agent_flow = await uow.resources.find_by_name(ContactFlow, instance.id, AGENT_TRANSFER_FLOW)
            profiles = {p.name or "": p.id for p in await uow.resources.all(SecurityProfile, instance.id)}
        assert queue and profile and inbound and agent_flow
        world.instance_id, world.other_id, world.basic_queue = instance.id, other.id, queue.id
        world.basic_profile, world.inbound_flow, world.agent_flow = profile.id, inbound.id, agent_flow.id
        world.profiles = profiles
        yield world
    finally:
        await bus.close()
        await storage.close()


Prepare = Callable[[Desk], Awaitable[Any]]
Act = Callable[[Desk, Caller, Any], Awaitable[object]]


async def nothing(_desk: Desk) -> None:
    return None


@dataclass(frozen=True)
class Case:
    """One use case: what it needs (written out here, not read from the table), how to set it up, how to call it."""

    use_case: str
    permission: str | None
    action: str
    act: Act
    prepare: Prepare = nothing


async def new_user(d: Desk) -> User:
    return await d.user(["Agent"])


CASES = [
    # instances: creating and listing them is no instance's, so no member may
    Case("CreateInstance", None, "create instances",
         lambda d, c, _: d.instances.create_instance(c, d.name("new"), "SAML", True, True)),
    Case("ListInstances", None, "list instances", lambda d, c, _: d.instances.list_instances(c, None, 10)),
    Case("DescribeInstance", "TelephonyAndChat.View", "view the instance's settings",
         lambda d, c, _: d.instances.get_instance(c, d.instance_id)),
    Case("ListInstanceAttributes", "TelephonyAndChat.View", "view the instance's settings",
         lambda d, c, _: d.instances.list_attributes(c, d.instance_id, None, 7)),
    Case("UpdateInstanceAttribute", "TelephonyAndChat.Edit", "change the instance's settings",
         lambda d, c, _: d.instances.set_attribute(c, d.instance_id, "CONTACT_LENS", "false")),
    Case("ListApprovedOrigins", "TelephonyAndChat.View", "view approved origins",
         lambda d, c, _: d.instances.list_origins(c, d.instance_id, None, 25)),
    Case("AssociateApprovedOrigin", "TelephonyAndChat.Edit", "approve origins",
         lambda d, c, _: d.instances.associate_origin(c, d.instance_id, f"https://{d.name('site')}.example")),
    # users
    Case("CreateUser", "Users.Create", "create users",
         lambda d, c, _: d.directory.create_user(c, d.instance_id, d.name("made"), PASSWORD, IdentityInfo(),
                                                 PhoneConfig(), [d.profiles["Agent"]], d.basic_profile)),
    Case("DescribeUser", "Users.View", "view users", lambda d, c, u: d.directory.get_user(c, d.instance_id, u.id),
         new_user),
    Case("ListUsers", "Users.View", "view users", lambda d, c, _: d.directory.list_users(c, d.instance_id, None, 5)),
    Case("DeleteUser", "Users.Delete", "delete users",
         lambda d, c, u: d.directory.delete_user(c, d.instance_id, u.id), new_user),
    Case("UpdateUserIdentityInfo", "Users.Edit", "edit users",
         lambda d, c, u: d.directory.update_user_identity(c, d.instance_id, u.id, IdentityInfo(first_name="X")),
         new_user),
    Case("SetUserPassword", "Users.Edit", "edit users",
         lambda d, c, u: d.directory.set_password(c, d.instance_id, u.id, "Another-one-2"), new_user),
    Case("UpdateUserSecurityProfiles", "Users.EditPermission", "change users' security profiles",
         lambda d, c, u: d.directory.update_user_security_profiles(c, d.instance_id, u.id, [d.profiles["Admin"]]),
         new_user),
    # security profiles
    Case("CreateSecurityProfile", "SecurityProfiles.Create", "create security profiles",
         lambda d, c, _: d.directory.create_security_profile(c, d.instance_id, d.name("sp"), "", ["Users.View"])),
    Case("ListSecurityProfilePermissions", "SecurityProfiles.View", "view security profiles",
         lambda d, c, _: d.directory.security_profile_permissions(c, d.instance_id, d.profiles["Agent"], None, 10)),
    # routing profiles
    Case("CreateRoutingProfile", "RoutingPolicies.Create", "create routing profiles",
         lambda d, c, _: d.directory.create_routing_profile(c, d.instance_id, d.name("rp"), "", d.basic_queue,
                                                            [MediaConcurrency("CHAT", 2)], [])),
    Case("DescribeRoutingProfile", "RoutingPolicies.View", "view routing profiles",
         lambda d, c, _: d.directory.describe_routing_profile(c, d.instance_id, d.basic_profile)),
    Case("AssociateRoutingProfileQueues", "RoutingPolicies.Edit", "edit routing profiles",
         lambda d, c, queue: d.directory.associate_routing_profile_queues(
             c, d.instance_id, d.basic_profile, [RoutingQueueConfig(queue, "CHAT", 3, 0)]),
         lambda d: _queue(d)),
    # queues
    Case("CreateQueue", "Queues.Create", "create queues",
         lambda d, c, hours: d.directory.create_queue(c, d.instance_id, d.name("q"), "", hours, None, []),
         lambda d: _hours(d)),
    Case("ListQueues", "Queues.View", "view queues",
         lambda d, c, _: d.directory.list_queues(c, d.instance_id, None, None, 10)),
    Case("AssociateQueueQuickConnects", "Queues.Edit", "edit queues",
         lambda d, c, qc: d.quick_connects.associate_with_queue(c, d.instance_id, d.basic_queue, [qc]),
         lambda d: d.quick_connect()),
    # quick connects
    Case("CreateQuickConnect", "TransferDestinations.Create", "create quick connects",
         lambda d, c, flow: d.quick_connects.create(
             c, d.instance_id, d.name("qc"), None,
             QuickConnectConfig("QUEUE", queue_id=d.basic_queue, contact_flow_id=flow)),
         lambda d: d.flow("QUEUE")),
    Case("UpdateQuickConnectName", "TransferDestinations.Edit", "edit quick connects",
         lambda d, c, qc: d.quick_connects.update_name(c, d.instance_id, qc, d.name("renamed"), None),
         lambda d: d.quick_connect()),
    Case("DeleteQuickConnect", "TransferDestinations.Delete", "delete quick connects",
         lambda d, c, qc: d.quick_connects.delete(c, d.instance_id, qc), lambda d: d.quick_connect()),
    Case("ListQueueQuickConnects", "TransferDestinations.View", "view quick connects",
         lambda d, c, _: d.quick_connects.of_queue(c, d.instance_id, d.basic_queue, None, 10)),
    # flows
    Case("ListContactFlows", "ContactFlows.View", "view flows",
         lambda d, c, _: d.quick_connects.list_flows(c, d.instance_id, None, None, 10)),
    # contacts: starting, stopping and changing them, and adding bots, are the Connect API's only
    Case("StartChatContact", None, "start chat contacts",
         lambda d, c, _: d.contacts.start_chat(c, ChatRequest(d.instance_id, d.inbound_flow, "Jane", {}))),
    Case("StopContact", None, "stop contacts",
         lambda d, c, chat: d.contacts.stop(c, d.instance_id, chat.contact_id), lambda d: d.chat_now()),
    Case("UpdateContactAttributes", None, "change contact attributes",
         lambda d, c, chat: d.contacts.update_attributes(c, d.instance_id, chat.contact_id, {"k": "v"}),
         lambda d: d.chat_now()),
    Case("CreateParticipant", None, "add participants to contacts",
         lambda d, c, chat: d.chat.add_bot(c, d.instance_id, chat.contact_id, "Bot", None), lambda d: d.chat_now()),
    Case("DescribeContact", "ContactSearchView", "view contacts",
         lambda d, c, chat: d.contacts.describe(c, d.instance_id, chat.contact_id), lambda d: d.chat_now()),
    Case("GetContactAttributes", "ContactSearchView", "view contacts",
         lambda d, c, chat: d.contacts.get_attributes(c, d.instance_id, chat.contact_id), lambda d: d.chat_now()),
]
IDS = [case.use_case for case in CASES]


async def _queue(d: Desk) -> str:
    return (await d.directory.create_queue(SYSTEM, d.instance_id, d.name("q"), "", await _hours(d), None, [])).id


async def _hours(d: Desk) -> str:
    async with d.storage.transaction() as uow:
        queue = await uow.resources.find(Queue, d.instance_id, d.basic_queue)
    assert queue is not None
    return queue.hours_of_operation_id


def refusal(who: str, case: Case) -> str:
    if case.permission is None:
        return (f"{who} may not {case.action}: no security profile permission allows it; it takes an AWS access "
                "key (the Connect API).")
    return f"{who} may not {case.action}: none of the user's security profiles grants {case.permission}."


def test_the_cases_are_what_the_table_says() -> None:
    """The expectations above are written out by hand; the table in parley.domain.permissions must agree."""
    assert {case.use_case: (case.permission, case.action) for case in CASES} == {
        case.use_case: (NEEDS[case.use_case].permission, NEEDS[case.use_case].action) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_member_without_the_permission_is_refused_and_nothing_changes(desk: Desk, case: Case) -> None:
    # QualityAnalyst: monitoring and metrics only, none of the administrative permissions
    analyst = await desk.member(["QualityAnalyst"], username="quinn")
    prepared = await case.prepare(desk)
    before = await desk.state()
    with pytest.raises(AccessDenied, match=says(refusal("quinn", case))):
        await case.act(desk, analyst, prepared)
    assert await desk.state() == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_member_of_another_instance_is_refused(desk: Desk, case: Case) -> None:
    outsider = await desk.member(["Admin"], desk.other_id, username="olga")
    prepared = await case.prepare(desk)
    before = await desk.state()
    expected = refusal("olga", case) if case.permission is None else (
        f"olga may not {case.action} in instance {desk.instance_id}: a user acts only in the user's own instance.")
    with pytest.raises(AccessDenied, match=says(expected)):
        await case.act(desk, outsider, prepared)
    assert await desk.state() == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_an_admin_member_may_do_what_a_security_profile_can_grant(desk: Desk, case: Case) -> None:
    admin = await desk.member(["Admin"], username="ada")
    prepared = await case.prepare(desk)
    if case.permission is None:
        with pytest.raises(AccessDenied, match=says(refusal("ada", case))):
            await case.act(desk, admin, prepared)
    else:
        await case.act(desk, admin, prepared)


@pytest.mark.parametrize("caller", [OPERATOR, SYSTEM], ids=["operator", "system"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_operators_and_parley_itself_may_do_everything(desk: Desk, case: Case, caller: Caller) -> None:
    await case.act(desk, caller, await case.prepare(desk))


async def test_a_member_acts_in_its_own_instance_named_by_id_or_arn(desk: Desk) -> None:
    admin = await desk.member(["Admin"], username="ada")
    arn = f"arn:aws:connect:us-west-2:123456789012:instance/{desk.instance_id}"
    assert (await desk.instances.get_instance(admin, arn)).id == desk.instance_id
    require(admin, desk.instance_id, "Users.View", "view users")
    other = f"arn:aws:connect:us-west-2:123456789012:instance/{desk.other_id}"
    with pytest.raises(AccessDenied, match=says(
            f"ada may not view users in instance {desk.other_id}: a user acts only in the user's own instance.")):
        require(admin, other, "Users.View", "view users")


async def test_a_member_has_what_its_security_profiles_grant_together(desk: Desk) -> None:
    user = await desk.user(["Agent", "QualityAnalyst"])
    member = await member_of(desk.storage, user)
    async with desk.storage.transaction() as uow:
        assert await member_of(uow, user) == member
        assert member.permissions == await permissions_of(uow, user)
    assert member.permissions == {
        "BasicAgentAccess", "OutboundCallAccess", "TransferDestinations.View", "AccessMetrics", "ManagerListenIn"}
    assert member.instance_id == desk.instance_id and member.name == user.username


async def test_the_ccp_needs_basic_agent_access(desk: Desk) -> None:
    """The CTI API's caller is resolved and checked by one service method: an agent passes, an analyst (no
    BasicAgentAccess) is refused, a bad token is nobody."""
    agent = await desk.user(["Agent"], username="alma")
    analyst = await desk.user(["QualityAnalyst"], username="quinn")
    for user in (agent, analyst):
        session, _ = await desk.auth.login("desk", user.username, PASSWORD)
        issued = await desk.auth.issue_access_token(session)
        assert issued is not None
        if user is agent:
            who = await desk.auth.resolve_agent(issued[0])
            assert who is not None and who.user_id == agent.id
        else:
            with pytest.raises(AccessDenied, match=says(
                    "quinn may not use the Contact Control Panel: none of the user's security profiles grants "
                    "BasicAgentAccess.")):
                await desk.auth.resolve_agent(issued[0])
    assert await desk.auth.resolve_agent("not-a-token") is None


# Enhanced chat monitoring's entries of the table (MonitorContact, ListContactMonitors, BargeIn): the QualityAnalyst
# profile the table's cases above use grants ManagerListenIn, so these are checked with an Agent-only member here.
MONITORING_CASES = [("MonitorContact", "ManagerListenIn", "monitor contacts"),
                    ("ListContactMonitors", "ManagerListenIn", "see who monitors contacts"),
                    ("BargeIn", "ManagerBargeIn", "barge in on contacts")]


def test_the_monitoring_entries_are_what_the_table_says() -> None:
    assert {use_case: (NEEDS[use_case].permission, NEEDS[use_case].action) for use_case, _, _ in MONITORING_CASES} \
        == {use_case: (permission, action) for use_case, permission, action in MONITORING_CASES}


async def test_monitoring_needs_manager_listen_in(desk: Desk) -> None:
    from parley.service.monitoring import MonitoringService, MonitorRequest

    monitoring = MonitoringService(desk.storage, Notifier(desk.bus, chat_frame))
    await desk.instances.set_attribute(SYSTEM, desk.instance_id, "ENHANCED_CHAT_MONITORING", "true")
    chat = await desk.chat_now()
    agent = await desk.member(["Agent"], username="ana")
    request = MonitorRequest(desk.instance_id, chat.contact_id, agent.user.id, ["SILENT_MONITOR"])
    before = await desk.state()
    with pytest.raises(AccessDenied, match=says(
            "ana may not monitor contacts: none of the user's security profiles grants ManagerListenIn.")):
        await monitoring.monitor(agent, request)
    with pytest.raises(AccessDenied, match=says(
            "ana may not see who monitors contacts: none of the user's security profiles grants ManagerListenIn.")):
        await monitoring.monitors(agent, desk.instance_id, chat.contact_id)
    for use_case, permission, action in MONITORING_CASES:
        with pytest.raises(AccessDenied, match=says(
                f"ana may not {action}: none of the user's security profiles grants {permission}.")):
            require(agent, desk.instance_id, NEEDS[use_case].permission, NEEDS[use_case].action)
    assert await desk.state() == before

    # With ManagerListenIn (and the CCP), the access check passes: the chat, still queued, is the next refusal.
    analyst = await desk.member(["QualityAnalyst", "Agent"], username="quinn")
    assert await monitoring.monitors(analyst, desk.instance_id, chat.contact_id) == []
    with pytest.raises(InvalidRequest, match="is not a live chat with an agent"):
        await monitoring.monitor(analyst, MonitorRequest(desk.instance_id, chat.contact_id, analyst.user.id,
                                                         ["SILENT_MONITOR"]))
    # Barging in needs ManagerBargeIn, which the QualityAnalyst profile does not grant and CallCenterManager does.
    with pytest.raises(AccessDenied, match=says(
            "quinn may not barge in on contacts: none of the user's security profiles grants ManagerBargeIn.")):
        require(analyst, desk.instance_id, "ManagerBargeIn", "barge in on contacts")
    manager = await desk.member(["CallCenterManager"], username="mona")
    require(manager, desk.instance_id, NEEDS["BargeIn"].permission, NEEDS["BargeIn"].action)

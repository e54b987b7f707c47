"""Connect's MonitorContact through boto3: the monitoring contact it answers, ClientToken idempotency, and each
refusal with Connect's error code, status and a clear message, changing nothing (docs/monitoring.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.agents.cti import Agent, World, dedicated_server
from tests.agents.monitoring import BOTH, monitor, refused, user_id
from tests.aws.conftest import PASSWORD
from tests.conftest import Server


@pytest.fixture(scope="module")
def agents_server() -> Iterator[Server]:
    with dedicated_server(["--demo"]) as srv:
        yield srv


@pytest.fixture(scope="module")
async def supervisor(world: World) -> AsyncIterator[Agent]:
    signed = await Agent.sign_in(world.server.url, "supervisor", world.participants)
    yield signed
    await signed.close()


@pytest.fixture(autouse=True)
async def supervisor_reset(supervisor: Agent) -> AsyncIterator[None]:
    yield
    await supervisor.reset()


async def live_chat(world: World, name: str = "Jane Customer") -> str:
    a1 = world["agent1"]
    await a1.available()
    customer = world.start_chat(name)
    chat, _member = await world.answer(a1, customer)
    return chat


def new_user(world: World, username: str, profile: str, routing_profile: str | None = None,
             permissions: list[str] | None = None) -> str:
    """A user of the demo instance with one security profile (created once per server): a built-in one, or a new
    one named ``profile`` granting ``permissions``."""
    listed = world.connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    found = next((u["Id"] for u in listed if u["Username"] == username), None)
    if found:
        return str(found)
    if permissions is not None:
        world.connect.create_security_profile(InstanceId=world.instance_id, SecurityProfileName=profile,
                                              Permissions=permissions)
    profiles = {p["Name"]: p["Id"] for p in
                world.connect.list_security_profiles(InstanceId=world.instance_id)["SecurityProfileSummaryList"]}
    routing = routing_profile or world.connect.list_routing_profiles(
        InstanceId=world.instance_id)["RoutingProfileSummaryList"][0]["Id"]
    created = world.connect.create_user(InstanceId=world.instance_id, Username=username, Password=PASSWORD,
                                        IdentityInfo={"FirstName": username.title()},
                                        PhoneConfig={"PhoneType": "SOFT_PHONE"},
                                        SecurityProfileIds=[profiles[profile]], RoutingProfileId=routing)
    return str(created["UserId"])


def call(world: World, contact_id: str, user: str, capabilities: Any = BOTH, **extra: Any) -> Any:
    """MonitorContact with a raw user id (or ARN); ``capabilities=None`` leaves the list out."""
    params: dict[str, Any] = {"InstanceId": world.instance_id, "ContactId": contact_id, "UserId": user, **extra}
    if capabilities is not None:
        params["AllowedMonitorCapabilities"] = list(capabilities)
    return lambda: world.connect.monitor_contact(**params)


async def test_monitor_contact_answers_the_monitoring_contact(world: World, supervisor: Agent) -> None:
    chat = await live_chat(world)
    sup = user_id(world, "supervisor")
    started = world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=sup,
                                            AllowedMonitorCapabilities=["SILENT_MONITOR"], ClientToken="watch-1")
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 200
    mon = started["ContactId"]
    assert started["ContactArn"] == f"arn:aws:connect:us-west-2:123456789012:instance/{world.instance_id}/contact/{mon}"
    described = world.describe(mon)
    assert described["InitiationMethod"] == "MONITOR" and described["Channel"] == "CHAT"
    assert (described["InitialContactId"], described["PreviousContactId"]) == (chat, chat)
    assert described["AgentInfo"]["Id"] == sup and "QueueInfo" not in described
    contact = await supervisor.wait_contact(lambda c: c["contactId"] == mon, "the monitoring contact")
    mine = next(c for c in contact["connections"] if c["type"] == "agent")
    assert mine["monitorCapabilities"] == ["SILENT_MONITOR"] and mine["monitorStatus"] == "SILENT_MONITOR"

    # the same request with the same ClientToken answers the same contact, even after the monitoring ended
    again = world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=sup,
                                          AllowedMonitorCapabilities=["SILENT_MONITOR"], ClientToken="watch-1")
    assert (again["ContactId"], again["ContactArn"]) == (mon, started["ContactArn"])
    # a different request with it is refused
    refused(call(world, chat, sup, ClientToken="watch-1"), "IdempotencyException", 409, "ClientToken")
    await supervisor.leave(mon)
    assert world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=sup,
                                         AllowedMonitorCapabilities=["SILENT_MONITOR"],
                                         ClientToken="watch-1")["ContactId"] == mon
    await supervisor.clear(mon)


async def test_user_by_arn_and_capabilities_in_any_order(world: World, supervisor: Agent) -> None:
    chat = await live_chat(world)
    arn = f"arn:aws:connect:us-west-2:123456789012:instance/{world.instance_id}/agent/{user_id(world, 'supervisor')}"
    mon = world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=arn,
                                        AllowedMonitorCapabilities=["BARGE", "SILENT_MONITOR"])["ContactId"]
    contact = await supervisor.wait_contact(lambda c: c["contactId"] == mon, "the monitoring contact")
    mine = next(c for c in contact["connections"] if c["type"] == "agent")
    assert mine["monitorCapabilities"] == ["SILENT_MONITOR", "BARGE"]


async def test_refusals(world: World, supervisor: Agent) -> None:
    chat = await live_chat(world)
    sup = user_id(world, "supervisor")
    analyst = new_user(world, "quinn", "QualityAnalyst")  # ManagerListenIn, without the CCP
    listener = new_user(world, "lena", "Listen only", permissions=["BasicAgentAccess", "ManagerListenIn"])
    bad = "InvalidRequestException", 400

    refused(call(world, chat, sup, capabilities=None), *bad, "AllowedMonitorCapabilities is required")
    refused(call(world, chat, sup, capabilities=[]), *bad, "AllowedMonitorCapabilities is required")
    refused(call(world, chat, user_id(world, "agent2")), "AccessDeniedException", 403,
            "User agent2 cannot monitor contacts", "ManagerListenIn")
    refused(call(world, chat, analyst, capabilities=["SILENT_MONITOR"]), "AccessDeniedException", 403,
            "User quinn cannot monitor contacts", "Contact Control Panel", "BasicAgentAccess")
    refused(call(world, chat, listener), "AccessDeniedException", 403, "User lena cannot barge in", "ManagerBargeIn")
    refused(call(world, "0f1e2d3c-0000-4000-8000-000000000000", sup), "ResourceNotFoundException", 404,
            "Contact 0f1e2d3c-0000-4000-8000-000000000000 was not found")
    refused(call(world, chat, "0f1e2d3c-0000-4000-8000-000000000001"), "ResourceNotFoundException", 404,
            "User 0f1e2d3c-0000-4000-8000-000000000001 was not found")
    refused(lambda: world.connect.monitor_contact(InstanceId="0f1e2d3c-0000-4000-8000-000000000002", ContactId=chat,
                                                  UserId=sup, AllowedMonitorCapabilities=["SILENT_MONITOR"]),
            "ResourceNotFoundException", 404, "Instance")
    # the agent answering the chat cannot monitor it (no permission), a supervisor twice neither
    admin = user_id(world, "admin")
    mon = world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=admin,
                                        AllowedMonitorCapabilities=["SILENT_MONITOR"])["ContactId"]
    refused(call(world, chat, admin), *bad, "Admin is already in this chat")
    # a monitoring contact is not a chat one can monitor
    refused(call(world, mon, sup), *bad, "is not a live chat with an agent")
    assert world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=chat, UserId=listener,
                                         AllowedMonitorCapabilities=["SILENT_MONITOR"])["ContactId"]
    # a chat still waiting in its queue and a chat that has ended are not live chats with an agent
    waiting = world.start_chat("Waiting Customer").party.contact_id
    refused(call(world, waiting, sup), *bad, f"Contact {waiting} is not a live chat with an agent")
    world.connect.stop_contact(InstanceId=world.instance_id, ContactId=waiting)
    refused(call(world, waiting, sup), *bad, "is not a live chat")
    assert await supervisor.contacts() == [], "no refused request started a monitoring"
    admin_agent = await Agent.sign_in(world.server.url, "admin", world.participants)
    listener_agent = await Agent.sign_in(world.server.url, "lena", world.participants, PASSWORD)
    try:
        for holder in (admin_agent, listener_agent):
            await holder.reset()
    finally:
        await admin_agent.close()
        await listener_agent.close()


async def test_monitoring_is_refused_while_the_switch_is_off(world: World, supervisor: Agent) -> None:
    chat = await live_chat(world)
    sup = user_id(world, "supervisor")
    mon = monitor(world, chat)["ContactId"]
    world.connect.update_instance_attribute(InstanceId=world.instance_id, AttributeType="ENHANCED_CHAT_MONITORING",
                                            Value="false")
    try:
        refused(call(world, chat, user_id(world, "admin")), "InvalidRequestException", 400,
                "Enhanced chat monitoring is not enabled on this instance", "ENHANCED_CHAT_MONITORING")
        # a monitoring already running goes on, silently, but cannot barge in
        failure = await supervisor.refused("UpdateMonitorParticipantState", "InvalidStateException", "turned off",
                                           contactId=mon, targetMonitorMode="BARGE")
        assert failure.status == 400
        contact = await supervisor.contact(mon)
        assert contact is not None and contact["state"]["type"] == "connected"
    finally:
        world.connect.update_instance_attribute(InstanceId=world.instance_id,
                                                AttributeType="ENHANCED_CHAT_MONITORING", Value="true")
    refused(call(world, chat, sup), "InvalidRequestException", 400, "Supervisor is already in this chat")


async def test_a_supervisor_needs_a_free_chat_slot(world: World) -> None:
    routing = world.connect.create_routing_profile(
        InstanceId=world.instance_id, Name="One chat at a time", Description="Monitors one chat",
        DefaultOutboundQueueId=world.connect.list_queues(InstanceId=world.instance_id, QueueTypes=["STANDARD"])[
            "QueueSummaryList"][0]["Id"],
        MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 1}])["RoutingProfileId"]
    solo = new_user(world, "solo", "CallCenterManager", routing)
    a1 = world["agent1"]
    await a1.available()
    first = await live_chat(world, "First Customer")
    second_customer = world.start_chat("Second Customer")
    second, _m = await world.answer(a1, second_customer)
    mon = world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=first, UserId=solo,
                                        AllowedMonitorCapabilities=["SILENT_MONITOR"])["ContactId"]
    refused(call(world, second, solo, capabilities=["SILENT_MONITOR"]), "ServiceQuotaExceededException", 402,
            "Solo already has 1 chats open, the limit of the user's routing profile (1)")
    # the slot is held through after-contact work too, and freed when it is cleared
    world.connect.stop_contact(InstanceId=world.instance_id, ContactId=mon)
    refused(call(world, second, solo, capabilities=["SILENT_MONITOR"]), "ServiceQuotaExceededException", 402)
    holder = await Agent.sign_in(world.server.url, "solo", world.participants, PASSWORD)
    try:
        await holder.clear(mon)
        assert world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=second, UserId=solo,
                                             AllowedMonitorCapabilities=["SILENT_MONITOR"])["ContactId"]
        await holder.reset()
    finally:
        await holder.close()

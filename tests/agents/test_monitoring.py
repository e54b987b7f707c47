"""Enhanced chat monitoring with scripted agents and a scripted supervisor (docs/monitoring.md): a silent monitor
sees everything and nobody sees it; barging in makes it a party that writes and removes agents; seats, the monitor
limit and one barge per chat; receipts with a silent and a barged supervisor; how monitoring ends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.agents.cti import (
    CHAT_ENDED,
    JOINED,
    LEFT,
    TRANSFER_SUCCEEDED,
    Agent,
    Member,
    World,
    dedicated_server,
    message_ids,
)
from tests.agents.monitoring import (
    SUPERVISOR,
    barge,
    by_id,
    monitor,
    own,
    refused,
    switch,
    trace_of,
    user_id,
    watching,
)
from tests.aws.chat_helpers import READ, TYPING
from tests.aws.conftest import PASSWORD
from tests.conftest import Server

EXTRA_SUPERVISORS = ("sup2", "sup3", "sup4", "sup5", "sup6")


@pytest.fixture(scope="module")
def agents_server() -> Iterator[Server]:
    with dedicated_server(["--demo"]) as srv:
        yield srv


@pytest.fixture(scope="module")
async def supervisor(world: World) -> AsyncIterator[Agent]:
    """The demo's ``supervisor`` (CallCenterManager: ManagerListenIn and ManagerBargeIn), signed in; it stays
    Offline, so routing never offers it the tests' chats."""
    signed = await Agent.sign_in(world.server.url, "supervisor", world.participants)
    yield signed
    await signed.close()


@pytest.fixture(autouse=True)
async def supervisor_reset(supervisor: Agent) -> AsyncIterator[None]:
    yield
    await supervisor.reset()


async def answered(world: World, name: str = "Jane Customer") -> tuple[str, Member, Member]:
    """A chat agent1 answered: (chat id, the customer, agent1)."""
    a1 = world["agent1"]
    await a1.available()
    customer = world.start_chat(name)
    chat, m1 = await world.answer(a1, customer)
    return chat, customer, m1


def read_receipt(member: Member, message_id: str) -> dict[str, Any]:
    return member.party.event(READ, json.dumps({"messageId": message_id}))


def receipt_refused(member: Member, message_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        read_receipt(member, message_id)
    response = caught.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == ("ConflictException", 409)


async def test_a_silent_monitor_sees_everything_and_nobody_sees_it(world: World, supervisor: Agent) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    chat, customer, m1 = await answered(world)
    earlier = [customer.send("My parcel never came"), m1.send("Let me look into it")]
    seen_by_agent = await a1.contact(chat)

    started = monitor(world, chat)
    mon = started["ContactId"]
    assert mon != chat and started["ContactArn"].endswith(f":instance/{world.instance_id}/contact/{mon}")
    contact = await supervisor.wait_contact(lambda c: c["contactId"] == mon, "the monitoring contact")
    assert (contact["initialContactId"], contact["type"], contact["state"]["type"]) == (chat, "chat", "connected")
    assert contact["initiationMethod"] == "monitor" and contact["queue"] is None
    mine = own(contact)
    assert mine["state"]["type"] == "silent_monitor"
    assert mine["monitorStatus"] == "SILENT_MONITOR"
    assert mine["monitorCapabilities"] == ["SILENT_MONITOR", "BARGE"]
    assert mine["monitoringInfo"]["agent"] == {"agentName": "Agent1"}
    assert isinstance(mine["monitoringInfo"]["joinTimeStamp"], float)
    assert json.loads(mine["chatMediaInfo"]["connectionData"])["ConnectionAuthenticationToken"]
    others = {(c["type"], c["state"]["type"], (c["chatMediaInfo"] or {}).get("customerName")
               if c["type"] == "inbound" else c["endpoint"]["name"]) for c in contact["connections"]}
    assert others == {("inbound", "connected", "Jane Customer"), ("agent", "silent_monitor", "Supervisor"),
                      ("outbound", "connected", "Agent1")}
    described = world.describe(mon)
    assert (described["InitiationMethod"], described["PreviousContactId"], described["InitialContactId"]) == (
        "MONITOR", chat, chat)
    assert described["AgentInfo"]["Id"] == user_id(world, "supervisor")

    # it joins through the Participant Service like an agent and sees the whole transcript, then every new item
    ms = await supervisor.join(mon)
    world.members.append(ms)
    sup_id = ms.party.participant_id
    assert message_ids(ms.transcript()) == earlier
    later = [customer.send("Hello?"), m1.send("Still here")]
    for message in later:
        ms.socket.wait_item(lambda i, m=message: i["Id"] == m)
    customer.party.event(TYPING)
    ms.socket.wait_item(lambda i: i["ContentType"] == TYPING and i["ParticipantRole"] == "CUSTOMER")

    # it cannot write: messages, events (typing, receipts) and attachments are refused with AccessDenied
    denied = ("AccessDeniedException", 403, "monitoring this chat silently")
    refused(lambda: ms.party.send("I am watching"), *denied)
    refused(lambda: ms.party.event(TYPING), *denied)
    refused(lambda: read_receipt(ms, later[0]), *denied)
    refused(lambda: ms.party.client.start_attachment_upload(
        ConnectionToken=ms.party.connection_token, ContentType="text/plain", AttachmentSizeInBytes=5,
        AttachmentName="note.txt", ClientToken="note-1"), *denied)
    # nor act: no removing, inviting or transferring
    await supervisor.refused("DestroyConnection", "InvalidStateException", "barge in first", contactId=mon,
                             connectionId=m1.party.participant_id)
    for op in ("AddNewConnection", "TransferContact"):
        await supervisor.refused(op, "InvalidStateException", "barge in first", contactId=mon,
                                 endpoint=await supervisor.endpoint("Transfer-to-agent-2"))
    assert await a2.contacts() == []

    # nobody sees it: not the customer's transcript or socket, not the agent's snapshot (unchanged, field for field)
    assert trace_of(customer.transcript(), sup_id) == [] and trace_of(customer.socket.items, sup_id) == []
    assert trace_of(m1.socket.items, sup_id) == []
    assert await a1.contact(chat) == seen_by_agent
    # and an agent cannot remove what it cannot see
    await a1.refused("DestroyConnection", "ResourceNotFoundException", "not an active connection", contactId=chat,
                     connectionId=sup_id)
    # receipts: customer, agent and a silent monitor are two active participants
    assert read_receipt(customer, later[1])["Id"]

    # leaving: nothing is announced; its socket is closed; the monitoring contact goes to after-contact work
    await supervisor.leave(mon)
    ms.socket.wait_closed()
    ended = await supervisor.wait_state(mon, "ended")
    assert own(ended)["state"]["type"] == "disconnected"
    after = customer.send("Anyone?")
    m1.socket.wait_item(lambda i: i["Id"] == after)
    assert after not in message_ids(ms.socket.items)
    assert trace_of(customer.transcript(), sup_id) == [] and trace_of(m1.socket.items, sup_id) == []
    assert await a1.contact(chat) == seen_by_agent
    refused(lambda: ms.party.send("late"), "AccessDeniedException", 403)
    await supervisor.clear(mon)
    await supervisor.wait_gone(mon)


async def test_barge_in_writes_and_removes_an_agent_then_leaves(world: World, supervisor: Agent) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    chat, customer, m1 = await answered(world)
    c2, m2 = await world.bring_in(a1, chat, a2, chat)
    mon, ms = await watching(world, supervisor, chat)
    sup_id = ms.party.participant_id
    assert by_id(await a1.contact(chat) or {}, sup_id) is None

    await barge(supervisor, mon)
    for member in (customer, m1, m2, ms):
        joined = member.socket.wait_item(lambda i: i["ContentType"] == JOINED and i.get("ParticipantId") == sup_id)
        assert (joined["DisplayName"], joined["ParticipantRole"]) == ("Supervisor", SUPERVISOR)
    mine = own(await supervisor.wait_contact(
        lambda c: c["contactId"] == mon and own(c)["monitorStatus"] == "BARGE", "the barge in the snapshot"))
    assert mine["state"]["type"] == "barge"
    # the agents see a barged supervisor: a third-party connection with monitorStatus BARGE (isUnderSupervision)
    for agent, contact_id in ((a1, chat), (a2, c2)):
        seen = await agent.wait_contact(lambda c, k=contact_id: c["contactId"] == k and by_id(c, sup_id) is not None,
                                        "the barged supervisor")
        row = by_id(seen, sup_id)
        assert row is not None
        assert (row["type"], row["state"]["type"], row["monitorStatus"]) == ("outbound", "connected", "BARGE")
        assert row["chatMediaInfo"]["agentName"] == "Supervisor" and row["endpoint"]["name"] == "Supervisor"
        assert "monitorCapabilities" not in row

    # back to silent is refused; barging again changes nothing
    status, body = await switch(supervisor, mon, "SILENT_MONITOR")
    assert (status, body["__type"]) == (400, "InvalidStateException") and "cannot go back" in body["message"]
    await barge(supervisor, mon)
    assert len([i for i in customer.transcript() if i["ContentType"] == JOINED and i["ParticipantId"] == sup_id]) == 1

    # it writes like any party
    said = ms.send("Supervisor here, I will help you")
    got = customer.socket.wait_item(lambda i: i["Id"] == said)
    assert (got["DisplayName"], got["ParticipantRole"]) == ("Supervisor", SUPERVISOR)
    ms.party.event(TYPING)
    customer.socket.wait_item(lambda i: i["ContentType"] == TYPING and i["ParticipantRole"] == SUPERVISOR)

    # it removes agent2 (amazon-connect-streams #979: on Connect only this way round, in Parley too)
    await supervisor.call("DestroyConnection", contactId=mon, connectionId=m2.party.participant_id)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent2")
    await a2.wait_state(c2, "ended")

    # it leaves: the customer sees it go, and the chat goes on between the customer and agent1
    await supervisor.leave(mon)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i.get("ParticipantId") == sup_id)
    await supervisor.wait_state(mon, "ended")
    row = by_id(await a1.wait_contact(
        lambda c: c["contactId"] == chat and (by_id(c, sup_id) or {}).get("state", {}).get("type") == "disconnected",
        "the supervisor gone"), sup_id)
    assert row is not None and row["monitorStatus"] == "BARGE"
    words = [customer.send("Thanks"), m1.send("You're welcome")]
    for word in words:
        m1.socket.wait_item(lambda i, w=word: i["Id"] == w)
        customer.socket.wait_item(lambda i, w=word: i["Id"] == w)
    assert (await a1.contact(chat) or {})["state"]["type"] == "connected"
    assert not any(i["ContentType"] == CHAT_ENDED for i in customer.socket.items)


async def test_agents_may_remove_a_barged_supervisor(world: World, supervisor: Agent) -> None:
    chat, customer, _m1 = await answered(world)
    mon, ms = await watching(world, supervisor, chat)
    await barge(supervisor, mon)
    sup_id = ms.party.participant_id
    await world["agent1"].call("DestroyConnection", contactId=chat, connectionId=sup_id)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i.get("ParticipantId") == sup_id)
    ms.socket.wait_closed()
    await supervisor.wait_state(mon, "ended")
    refused(lambda: ms.party.send("still here?"), "AccessDeniedException", 403)
    assert (await world["agent1"].contact(chat) or {})["state"]["type"] == "connected"


async def test_a_barged_supervisor_keeps_the_chat_when_the_last_agent_leaves(world: World,
                                                                              supervisor: Agent) -> None:
    chat, customer, _m1 = await answered(world)
    mon, ms = await watching(world, supervisor, chat)
    await barge(supervisor, mon)
    await world["agent1"].leave(chat)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent1")
    said = ms.send("I am taking over")
    customer.socket.wait_item(lambda i: i["Id"] == said)
    await supervisor.leave(mon)  # now the customer is alone: the chat ends
    customer.socket.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)


async def test_silent_monitors_do_not_keep_a_chat_alive_nor_show_at_its_end(world: World,
                                                                            supervisor: Agent) -> None:
    chat, customer, _m1 = await answered(world)
    mon, ms = await watching(world, supervisor, chat)
    await world["agent1"].leave(chat)
    customer.socket.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)
    ms.socket.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)
    await supervisor.wait_state(mon, "ended")
    left = [i["DisplayName"] for i in customer.transcript() if i["ContentType"] == LEFT]
    assert sorted(left) == ["Agent1", "Jane Customer"]
    assert trace_of(customer.transcript(), ms.party.participant_id) == []


async def test_receipts_with_a_silent_and_a_barged_supervisor(world: World, supervisor: Agent) -> None:
    chat, customer, m1 = await answered(world)
    first = m1.send("How can I help?")
    mon, ms = await watching(world, supervisor, chat)
    assert read_receipt(customer, first)["Id"], "customer, agent and a silent monitor: receipts work"
    assert read_receipt(m1, customer.send("My order"))["Id"]
    await barge(supervisor, mon)
    second = m1.send("My supervisor joined us")
    before = customer.transcript()
    for member in (customer, m1, ms):
        receipt_refused(member, second)
    assert customer.transcript() == before
    await supervisor.leave(mon)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i.get("ParticipantRole") == SUPERVISOR)
    assert read_receipt(customer, second)["Id"], "back to two: receipts work again"


async def test_six_parties_a_silent_monitor_the_monitor_limit_and_one_barge(world: World,
                                                                           supervisor: Agent) -> None:
    a1 = world["agent1"]
    chat, _customer, _m1 = await answered(world)
    for n in range(2, 6):
        await world.bring_in(a1, chat, world[f"agent{n}"], chat)
    mon, _ms = await watching(world, supervisor, chat)
    rows = (await a1.contact(chat) or {})["connections"]
    assert len(rows) == 6 and all(r["state"]["type"] == "connected" for r in rows)
    # a silent monitor takes no seat: the chat still has six of six, and the seventh agent is refused
    await a1.refused("AddNewConnection", "LimitExceededException", "6 of its 6", contactId=chat,
                     endpoint=await a1.endpoint("Transfer-to-BasicQueue"))

    # the monitor limit: five supervisors (the demo's and four more); the sixth is refused
    profiles = {p["Name"]: p["Id"] for p in
                world.connect.list_security_profiles(InstanceId=world.instance_id)["SecurityProfileSummaryList"]}
    routing = world.connect.list_routing_profiles(InstanceId=world.instance_id)["RoutingProfileSummaryList"][0]["Id"]
    existing = {u["Username"] for u in world.connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]}
    for name in EXTRA_SUPERVISORS:
        if name not in existing:
            world.connect.create_user(InstanceId=world.instance_id, Username=name, Password=PASSWORD,
                                      IdentityInfo={"FirstName": name.title()},
                                      PhoneConfig={"PhoneType": "SOFT_PHONE"},
                                      SecurityProfileIds=[profiles["CallCenterManager"]], RoutingProfileId=routing)
    for name in EXTRA_SUPERVISORS[:4]:
        monitor(world, chat, name)
    refused(lambda: monitor(world, chat, EXTRA_SUPERVISORS[4]), "ServiceQuotaExceededException", 402,
            "already has 5 supervisors monitoring it")
    assert len((await a1.contact(chat) or {})["connections"]) == 6, "monitors are in no agent's roster"

    # one barge at a time: sup2 barges, the supervisor's barge is refused
    sup2 = await Agent.sign_in(world.server.url, "sup2", world.participants, PASSWORD)
    try:
        mon2 = next(c["contactId"] for c in await sup2.contacts() if c["initialContactId"] == chat)
        await barge(sup2, mon2)
        status, body = await switch(supervisor, mon, "BARGE")
        assert (status, body["__type"]) == (400, "LimitExceededException"), body
        assert "Sup2 is barged in on this chat already" in body["message"]
        assert len((await a1.contact(chat) or {})["connections"]) == 7
    finally:
        await sup2.reset()
        await sup2.close()
    for name in EXTRA_SUPERVISORS[1:4]:
        extra = await Agent.sign_in(world.server.url, name, world.participants, PASSWORD)
        await extra.reset()
        await extra.close()


async def test_stop_contact_and_disconnect_end_only_the_monitoring(world: World, supervisor: Agent) -> None:
    chat, customer, m1 = await answered(world)
    mon, ms = await watching(world, supervisor, chat)
    world.connect.stop_contact(InstanceId=world.instance_id, ContactId=mon)
    await supervisor.wait_state(mon, "ended")
    ms.socket.wait_closed()
    said = customer.send("Still talking to agent1")
    m1.socket.wait_item(lambda i: i["Id"] == said)
    refused(lambda: world.connect.stop_contact(InstanceId=world.instance_id, ContactId=mon),
            "ContactNotFoundException", 410)
    await supervisor.clear(mon)

    mon2, ms2 = await watching(world, supervisor, chat)
    await barge(supervisor, mon2)
    ms2.party.disconnect()  # DisconnectParticipant with the supervisor's connection token
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i.get("ParticipantId") == ms2.party.participant_id)
    await supervisor.wait_state(mon2, "ended")
    assert (await world["agent1"].contact(chat) or {})["state"]["type"] == "connected"


async def test_a_transfer_ends_every_monitoring(world: World, supervisor: Agent) -> None:
    chat, customer, _m1 = await answered(world)
    mon, ms = await watching(world, supervisor, chat)
    await world["agent1"].transfer(chat, "Transfer-to-agent-3")
    ms.socket.wait_item(lambda i: i["ContentType"] == TRANSFER_SUCCEEDED)
    await supervisor.wait_state(mon, "ended")
    assert trace_of(customer.transcript(), ms.party.participant_id) == []

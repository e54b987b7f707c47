"""Every refusal of the conference has a clear, specific message and leaves the chat unchanged: phone numbers,
quick connects the agent cannot see, multi-party off (while transfer still works), an agent already in the
chat, a user without the quick-connect permission, and receipts while more than two parties are active."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.agents.cti import (
    LEFT,
    PLACEHOLDER,
    TRANSFER_SUCCEEDED,
    Agent,
    Member,
    World,
    connections,
    dedicated_server,
    message_ids,
)
from tests.aws.chat_helpers import READ
from tests.conftest import Server


@pytest.fixture(scope="module")
def agents_server() -> Iterator[Server]:
    with dedicated_server(["--demo"]) as srv:
        yield srv



class Unchanged:
    """What a refusal must not change: every involved agent's contacts and the chat's transcript."""

    def __init__(self, agents: list[Agent], customer: Member) -> None:
        self.agents = agents
        self.customer = customer
        self.before: Any = None

    async def state(self) -> Any:
        contacts = {a.username: json.dumps(await a.contacts(), sort_keys=True) for a in self.agents}
        return contacts, json.dumps(self.customer.transcript(), sort_keys=True)

    async def __aenter__(self) -> Unchanged:
        self.before = await self.state()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert await self.state() == self.before


async def one_agent_chat(world: World, name: str = "Jane Customer") -> tuple[Agent, str, Member]:
    a1 = world["agent1"]
    await a1.available()
    customer = world.start_chat(name)
    chat, _m1 = await world.answer(a1, customer)
    return a1, chat, customer


def arn_of(world: World, quick_connect_id: str) -> str:
    instance = f"arn:aws:connect:us-west-2:123456789012:instance/{world.instance_id}"
    return f"{instance}/transfer-destination/{quick_connect_id}"


def flow_id(world: World, name: str) -> str:
    flows = world.connect.list_contact_flows(InstanceId=world.instance_id)["ContactFlowSummaryList"]
    return str(next(f["Id"] for f in flows if f["Name"] == name))


def user_id(world: World, username: str) -> str:
    users = world.connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    return str(next(u["Id"] for u in users if u["Username"] == username))


async def test_phone_number_endpoints_are_refused(world: World) -> None:
    a1, chat, customer = await one_agent_chat(world)
    queues = world.connect.list_queues(InstanceId=world.instance_id, QueueTypes=["STANDARD"])["QueueSummaryList"]
    basic = next(q["Id"] for q in queues if q.get("Name") == "BasicQueue")
    created = world.connect.create_quick_connect(
        InstanceId=world.instance_id, Name="Call-the-supplier",
        QuickConnectConfig={"QuickConnectType": "PHONE_NUMBER", "PhoneConfig": {"PhoneNumber": "+15555550100"}})
    world.connect.associate_queue_quick_connects(InstanceId=world.instance_id, QueueId=basic,
                                                 QuickConnectIds=[created["QuickConnectId"]])
    listed = await a1.endpoint("Call-the-supplier")
    assert listed["type"] == "phone_number" and listed["phoneNumber"] == "+15555550100"
    dialed = {"type": "phone_number", "phoneNumber": "+15555550100", "name": "+15555550100"}
    async with Unchanged([a1], customer):
        for op in ("AddNewConnection", "TransferContact"):
            await a1.refused(op, "InvalidParameterException", "phone number", "cannot join a chat",
                             contactId=chat, endpoint=listed)
            await a1.refused(op, "InvalidParameterException", "phone number", "cannot join a chat",
                             contactId=chat, endpoint=dialed)
        # the quick connect of a phone number, presented as if it were an agent's, is refused all the same
        disguised = {**listed, "type": "agent"}
        await a1.refused("AddNewConnection", "InvalidParameterException", "Call-the-supplier", "phone number",
                         contactId=chat, endpoint=disguised)


async def test_quick_connect_not_on_the_agents_queues_is_refused(world: World) -> None:
    a1, chat, customer = await one_agent_chat(world)
    hidden = world.connect.create_quick_connect(
        InstanceId=world.instance_id, Name="Hidden-agent-2",
        QuickConnectConfig={"QuickConnectType": "USER", "UserConfig": {
            "UserId": user_id(world, "agent2"), "ContactFlowId": flow_id(world, "Default agent transfer")}})
    assert "Hidden-agent-2" not in await a1.endpoints()
    endpoint = {"endpointARN": hidden["QuickConnectARN"], "type": "agent", "name": "Hidden-agent-2"}
    missing = {"endpointARN": arn_of(world, "00000000-0000-0000-0000-000000000000"), "type": "agent", "name": "?"}
    not_a_qc = {"endpointARN": arn_of(world, "x").replace("transfer-destination", "queue"), "type": "queue"}
    async with Unchanged([a1], customer):
        for op in ("AddNewConnection", "TransferContact"):
            failure = await a1.refused(op, "AccessDeniedException", "Hidden-agent-2",
                                       "not on any queue of your routing profile", contactId=chat, endpoint=endpoint)
            assert failure.status == 403
            await a1.refused(op, "ResourceNotFoundException", "was not found", contactId=chat, endpoint=missing)
            await a1.refused(op, "InvalidParameterException", "is not a quick connect", contactId=chat,
                             endpoint=not_a_qc)
    assert world["agent2"] and await world["agent2"].contacts() == []


async def test_multi_party_off_refuses_invitations_but_transfer_works(world: World) -> None:
    a1, a2, a3 = world["agent1"], world["agent2"], world["agent3"]
    _a1, chat, customer = await one_agent_chat(world)
    c2, m2 = await world.bring_in(a1, chat, a2, chat)
    m1 = next(m for m in world.members if m.name == "agent1")
    world.connect.update_instance_attribute(InstanceId=world.instance_id, AttributeType="MULTI_PARTY_CHAT_CONFERENCE",
                                            Value="false")
    try:
        async with Unchanged([a1, a2], customer):
            await a1.refused("AddNewConnection", "InvalidStateException", "MULTI_PARTY_CHAT_CONFERENCE",
                             "transfer the contact instead", contactId=chat,
                             endpoint=await a1.endpoint("Transfer-to-agent-3"))
            await a2.refused("AddNewConnection", "InvalidStateException", "Multi-party chat is not enabled",
                             contactId=c2, endpoint=await a2.endpoint("Transfer-to-BasicQueue"))
        assert (await a1.contact(chat) or {})["contactFeatures"]["multiPartyConferenceEnabled"] is False

        # transfer still works: both agents are disconnected, agent3 gets the chat
        await a1.transfer(chat, "Transfer-to-agent-3")
        for agent, contact_id in ((a1, chat), (a2, c2)):
            await agent.wait_state(contact_id, "ended")
        for name in ("Agent1", "Agent2"):
            customer.socket.wait_item(lambda i, n=name: i["ContentType"] == LEFT and i["DisplayName"] == n)
        for member in (m1, m2):  # ChatJS breaks an agent's connection on transfer.succeeded
            member.socket.wait_item(lambda i: i["ContentType"] == TRANSFER_SUCCEEDED)
            member.socket.wait_closed()
        await a3.available()
        offer = await a3.wait_offer(chat)
        assert offer["initiationMethod"] == "transfer"
        await a3.accept(offer["contactId"])
        m3 = await a3.join(offer["contactId"])
        world.members.append(m3)
        sent = [customer.send("Are you still there?"), m3.send("Agent3 here, I have your chat now")]
        assert message_ids(m3.transcript())[-2:] == sent
        m3.socket.wait_item(lambda i: i["Id"] == sent[0])
        customer.socket.wait_item(lambda i: i["Id"] == sent[1])
        described = world.describe(offer["contactId"])
        assert described["PreviousContactId"] == chat and described["InitialContactId"] == chat
        assert described["InitiationMethod"] == "TRANSFER"
        rows = connections(await a3.wait_state(offer["contactId"], "connected"))
        assert ("inbound", "connected", "Jane Customer") in rows and ("agent", "connected", "Agent3") in rows
        for agent, contact_id in ((a1, chat), (a2, c2)):
            await agent.clear(contact_id)
            await agent.wait_gone(contact_id)
    finally:
        world.connect.update_instance_attribute(InstanceId=world.instance_id,
                                                AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="true")


async def test_inviting_an_agent_already_in_the_chat_is_refused(world: World) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    _a1, chat, customer = await one_agent_chat(world)
    c2, _m2 = await world.bring_in(a1, chat, a2, chat)
    await a1.invite(chat, "Transfer-to-agent-3")  # agent3 is Offline: the invitation waits
    async with Unchanged([a1, a2], customer):
        await a1.refused("AddNewConnection", "InvalidStateException", "Agent2 is already in this chat",
                         contactId=chat, endpoint=await a1.endpoint("Transfer-to-agent-2"))
        await a2.refused("AddNewConnection", "InvalidStateException", "Agent1 is already in this chat",
                         contactId=c2, endpoint=await a2.endpoint("Transfer-to-agent-1"))
        await a1.refused("AddNewConnection", "InvalidStateException", "Agent1 is already in this chat",
                         contactId=chat, endpoint=await a1.endpoint("Transfer-to-agent-1"))
        await a2.refused("AddNewConnection", "InvalidStateException", "Agent3 has already been invited",
                         contactId=c2, endpoint=await a2.endpoint("Transfer-to-agent-3"))


async def test_user_without_quick_connect_permission_is_refused(world: World) -> None:
    a1, a5 = world["agent1"], world["agent5"]
    _a1, chat, customer = await one_agent_chat(world)
    c5, _m5 = await world.bring_in(a1, chat, a5, chat)
    profiles = world.connect.list_security_profiles(InstanceId=world.instance_id)["SecurityProfileSummaryList"]
    agent_profile = next(p["Id"] for p in profiles if p["Name"] == "Agent")
    bare = world.connect.create_security_profile(InstanceId=world.instance_id, SecurityProfileName="CCP only",
                                                 Permissions=["BasicAgentAccess"])
    agent5 = user_id(world, "agent5")
    world.connect.update_user_security_profiles(InstanceId=world.instance_id, UserId=agent5,
                                                SecurityProfileIds=[bare["SecurityProfileId"]])
    try:
        async with Unchanged([a1, a5], customer):
            for op in ("AddNewConnection", "TransferContact"):
                failure = await a5.refused(op, "AccessDeniedException", "agent5 may not use quick connects",
                                           "TransferDestinations.View", contactId=c5,
                                           endpoint=await a1.endpoint("Transfer-to-agent-2"))
                assert failure.status == 403
        # the agent still works the chat: the CCP permission is there
        assert (await a5.contact(c5) or {})["state"]["type"] == "connected"
    finally:
        world.connect.update_user_security_profiles(InstanceId=world.instance_id, UserId=agent5,
                                                    SecurityProfileIds=[agent_profile])


def read_receipt(member: Member, message_id: str) -> Any:
    return member.party.event(READ, json.dumps({"messageId": message_id}))


async def test_receipts_only_between_two_participants(world: World) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    _a1, chat, customer = await one_agent_chat(world)
    m1 = next(m for m in world.members if m.name == "agent1")
    first = customer.send("Is anyone there?")
    read_receipt(m1, first)  # two active participants: receipts work
    c2, m2 = await world.bring_in(a1, chat, a2, chat)
    second = m2.send("Two of us are here now")
    before = customer.transcript()
    for member in (customer, m1, m2):
        with pytest.raises(ClientError) as caught:
            read_receipt(member, second)
        response = caught.value.response
        assert response["Error"]["Code"] == "ConflictException", response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert "more than two participants" in response["Error"]["Message"]
    assert customer.transcript() == before
    await a2.leave(c2)
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent2")
    stored = read_receipt(customer, second)  # back to two: receipts work again
    assert stored["Id"]
    receipts = [i for i in customer.transcript() if i["Type"] == "MESSAGEMETADATA"]
    assert [i["MessageMetadata"]["MessageId"] for i in receipts] == [first, second]
    assert [i["ParticipantId"] for i in receipts] == [m1.party.participant_id, customer.party.participant_id]
    assert not any(PLACEHOLDER in body for a in (a1, a2) for body in a.bodies)

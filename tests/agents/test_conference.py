"""The seed scenario of issue 4 with scripted agents, the consistent roster, and the races: a customer chat
grows to six parties through quick connects, everyone sees every message once and in order, agent1 leaves,
the customer leaves; two invitations for the last seat; one offer accepted by two tabs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agents.cti import (
    CHAT_ENDED,
    INVITED,
    JOINED,
    LEFT,
    PLACEHOLDER,
    Agent,
    CtiFailure,
    Member,
    World,
    connections,
    dedicated_server,
    message_ids,
    of_type,
)
from tests.conftest import Server


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def agents_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The whole module runs on SQLite (one writer) and on PostgreSQL (row locks), where races differ."""
    with dedicated_server(["--demo"], storage=request.param) as srv:
        yield srv



def check_stream(member: Member, sent: list[str], opened_at: int) -> None:
    """The socket saw each message once, in transcript order: a contiguous run of ``sent`` that starts no
    later than the socket opened and ends with the last message ``sent`` (when the member was still there)."""
    seen = message_ids(member.socket.items)
    assert len(seen) == len(set(seen)), f"{member.name} saw a message twice: {seen}"
    assert seen, f"{member.name} saw no messages"
    start = sent.index(seen[0])
    assert start <= opened_at, f"{member.name} started at message {start}, opened at {opened_at}"
    assert seen == sent[start:start + len(seen)], f"{member.name} saw {seen}, expected a run of {sent}"


async def snapshots(agents: list[Agent]) -> dict[str, str]:
    """Every agent's contacts, serialized (to compare before/after a refusal)."""
    return {a.username: json.dumps(await a.contacts(), sort_keys=True) for a in agents}


async def test_seed_scenario(world: World) -> None:
    a1, a2, a3, a4, a5 = (world[f"agent{n}"] for n in range(1, 6))
    await a1.available()
    customer = world.start_chat("Jane Customer")
    chat = customer.party.contact_id
    sent: list[str] = []
    opened_at = {"Jane Customer": 0}

    # agent1, the only agent Available, gets the customer's contact and accepts it.
    offer = await a1.wait_offer(chat)
    assert offer["contactId"] == chat and offer["initiationMethod"] == "api"
    for other in (a2, a3, a4, a5):
        assert await other.contacts() == [], other.username
    await a1.accept(chat)
    m1 = await a1.join(chat, via="connection")
    world.members.append(m1)
    opened_at["agent1"] = len(sent)
    members: dict[str, Member] = {"agent1": m1}
    contacts: dict[str, str] = {"agent1": chat}
    sent.append(customer.send("Hi, my order never arrived"))
    sent.append(m1.send("Hello Jane, I'm Agent1; let me ask my colleagues"))

    # agent1 invites agent2..agent5 by USER quick connect; each goes Available and accepts the offer.
    for n, invitee in enumerate((a2, a3, a4, a5), start=2):
        await a1.invite(chat, f"Transfer-to-agent-{n}")
        await invitee.available()
        offer = await invitee.wait_offer(chat)
        assert offer["initiationMethod"] == "transfer", offer
        assert offer["initialContactId"] == chat, offer
        assert offer["contactId"] != chat
        await invitee.accept(offer["contactId"])
        member = await invitee.join(offer["contactId"], via="transport" if n % 2 else "connection")
        world.members.append(member)
        opened_at[invitee.username] = len(sent)
        members[invitee.username] = member
        contacts[invitee.username] = offer["contactId"]
        # the invited agent sees the whole earlier transcript, also when asking by its own contact id (ChatJS)
        assert message_ids(member.transcript()) == sent, invitee.username
        own = member.party.transcript(ContactId=offer["contactId"], SortOrder="ASCENDING", MaxResults=100)
        assert own["InitialContactId"] == chat and message_ids(own["Transcript"]) == sent
        sent.append(member.send(f"Agent{n} here, reading the history"))
        sent.append(customer.send(f"Welcome Agent{n}"))

    agents = [a1, a2, a3, a4, a5]
    for agent in agents:
        contact = await agent.contact(contacts[agent.username])
        assert contact is not None
        rows = connections(contact)
        assert len(rows) == 6, rows
        assert {name for _t, _s, name in rows} == {"Jane Customer", "Agent1", "Agent2", "Agent3", "Agent4",
                                                   "Agent5"}, rows
        assert all(state == "connected" for _t, state, _n in rows), rows

    # the QUEUE quick connect as the 7th participant is refused and nothing changes
    before = await snapshots(agents), message_ids(customer.transcript()), len(customer.transcript())
    failure = await a1.refused("AddNewConnection", "LimitExceededException", "6 of its 6",
                               contactId=chat, endpoint=await a1.endpoint("Transfer-to-BasicQueue"))
    assert failure.status == 400
    after = await snapshots(agents), message_ids(customer.transcript()), len(customer.transcript())
    assert after == before

    # every party speaks; every socket sees every message once and in the transcript's order
    for name, member in [("Jane Customer", customer), *members.items()]:
        sent.append(member.send(f"a word from {name}"))
    transcript = customer.transcript()
    assert message_ids(transcript) == sent
    for name, member in [("Jane Customer", customer), *members.items()]:
        member.socket.wait_item(lambda i: i["Id"] == sent[-1])
        check_stream(member, sent, opened_at[name])
        assert message_ids(member.transcript()) == sent, name
    assert [i["DisplayName"] for i in of_type(customer.socket.items, INVITED)] == ["Agent2", "Agent3", "Agent4",
                                                                                   "Agent5"]
    for agent in agents:
        joined = [i for i in of_type(transcript, JOINED) if i["DisplayName"] == f"Agent{agent.username[-1]}"]
        assert len(joined) == 1, joined

    await a2.refused("ClearContact", "InvalidStateException", "still active", contactId=contacts["agent2"])
    # agent1 leaves; the chat goes on; agent1's contact is in after-contact work until cleared
    await a1.leave(chat)
    await a1.wait_state(chat, "ended")
    for name in ("agent2", "agent3", "agent4", "agent5"):
        members[name].socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent1")
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent1")
    still = ["agent2", "agent3", "agent4", "agent5"]
    for name in still:
        sent.append(members[name].send(f"{name} still here"))
    sent.append(customer.send("Thanks, all of you"))
    for name in still:
        members[name].socket.wait_item(lambda i: i["Id"] == sent[-1])
        check_stream(members[name], sent, opened_at[name])
    customer.socket.wait_item(lambda i: i["Id"] == sent[-1])
    check_stream(customer, sent, 0)
    for agent in (a2, a3, a4, a5):
        contact = await agent.contact(contacts[agent.username])
        assert contact is not None and contact["state"]["type"] == "connected"
        assert ("outbound", "disconnected", "Agent1") in connections(contact)
    await a1.clear(chat)
    await a1.wait_gone(chat)

    # the customer disconnects: every agent sees participant.left then chat.ended, and enters ACW
    customer.party.disconnect()
    for name in still:
        socket = members[name].socket
        socket.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)
        kinds = [i["ContentType"] for i in socket.items]
        customer_left = next(n for n, i in enumerate(socket.items)
                             if i["ContentType"] == LEFT and i["ParticipantRole"] == "CUSTOMER")
        assert customer_left < kinds.index(CHAT_ENDED), kinds
        assert kinds.count(CHAT_ENDED) == 1
    for agent in (a2, a3, a4, a5):
        await agent.wait_state(contacts[agent.username], "ended")

    # DescribeContact of the segments
    for agent in (a2, a3, a4, a5):
        described = world.describe(contacts[agent.username])
        assert described["InitiationMethod"] == "TRANSFER"
        assert described["PreviousContactId"] == chat
        assert described["InitialContactId"] == chat
        assert described["AgentInfo"]["Id"]
    for agent in (a2, a3, a4, a5):
        await agent.clear(contacts[agent.username])
        await agent.wait_gone(contacts[agent.username])
    assert not any(PLACEHOLDER in body for a in agents for body in a.bodies)
    assert not any(PLACEHOLDER in json.dumps(m.socket.items) for m in [customer, *members.values()])


async def test_inviter_contact_lists_next_contacts(world: World) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    await a1.available()
    customer = world.start_chat()
    chat, _m1 = await world.answer(a1, customer)
    invited, _m2 = await world.bring_in(a1, chat, a2, chat)
    described = world.describe(chat)
    legs = described.get("NextContacts") or []
    assert [leg["Type"] for leg in legs] == ["QUICK_CONNECT"], described
    data = legs[0]["NextContactMetadata"]["QuickConnectContactData"]
    assert data["ContactId"] == invited
    assert data["QuickConnectName"] == "Transfer-to-agent-2" and data["QuickConnectType"] == "USER"


async def test_consistent_roster(world: World) -> None:
    """Every agent's snapshot lists every connection of the chat with its name and state."""
    a1, a2, a3, a4 = (world[f"agent{n}"] for n in range(1, 5))
    await a1.available()
    customer = world.start_chat("Rosa Customer")
    chat, _m1 = await world.answer(a1, customer)
    c2, _m2 = await world.bring_in(a1, chat, a2, chat)
    await a2.invite(c2, "Transfer-to-agent-3")  # agent3 is Offline: the invitation waits
    expected = {("inbound", "connected", "Rosa Customer"), ("outbound", "connecting", "Agent3")}

    def settled(want: set[tuple[str, str, str]], contact_id: str) -> Any:
        return lambda s: next((c for c in s["contacts"] if c["contactId"] == contact_id
                               and want <= set(connections(c))), None)

    one = await a1.wait_for(settled(expected | {("agent", "connected", "Agent1"),
                                                ("outbound", "connected", "Agent2")}, chat), "agent1's roster")
    two = await a2.wait_for(settled(expected | {("agent", "connected", "Agent2"),
                                                ("outbound", "connected", "Agent1")}, c2), "agent2's roster")
    assert len(one["connections"]) == len(two["connections"]) == 4
    # the same connection ids everywhere; the invited agent's pending connection is the same id on both sides
    assert {c["connectionId"] for c in one["connections"]} == {c["connectionId"] for c in two["connections"]}
    assert one["contactFeatures"]["multiPartyConferenceEnabled"] is True

    await a3.available()
    offer = await a3.wait_offer(chat)
    # the agent being offered the chat sees the roster too, with itself connecting
    assert set(connections(offer)) == {("inbound", "connected", "Rosa Customer"), ("agent", "connecting", "Agent3"),
                                       ("outbound", "connected", "Agent1"), ("outbound", "connected", "Agent2")}
    c3 = offer["contactId"]
    await a3.accept(c3)
    await a2.leave(c2)
    await a1.wait_for(settled({("outbound", "disconnected", "Agent2"), ("outbound", "connected", "Agent3")}, chat),
                      "agent2 disconnected in agent1's roster")
    three = await a3.wait_for(settled({("outbound", "disconnected", "Agent2"), ("agent", "connected", "Agent3")},
                                      c3), "agent2 disconnected in agent3's roster")
    assert next(c for c in three["connections"] if c["type"] == "inbound")["initial"] is True
    # a fourth agent that never joined the chat sees nothing of it
    assert await a4.contacts() == []
    texts = [*(b for a in (a1, a2, a3) for b in a.bodies), json.dumps(customer.transcript()),
             json.dumps([world.describe(c) for c in (chat, c2, c3)], default=str)]
    assert not any(PLACEHOLDER in text for text in texts)


async def seat_five(world: World) -> tuple[str, str, str, Member]:
    """customer + agent1 + agent2 in the chat, agent3 and agent4 invited (Offline, pending): one seat left."""
    a1, a2 = world["agent1"], world["agent2"]
    await a1.available()
    customer = world.start_chat()
    chat, _m1 = await world.answer(a1, customer)
    c2, _m2 = await world.bring_in(a1, chat, a2, chat)
    await a1.invite(chat, "Transfer-to-agent-3")
    await a2.invite(c2, "Transfer-to-agent-4")
    return chat, chat, c2, customer


async def pending_connections(agent: Agent, contact_id: str) -> list[dict[str, Any]]:
    contact = await agent.contact(contact_id)
    assert contact is not None
    return [c for c in contact["connections"] if c["state"]["type"] == "connecting"]


async def test_two_invitations_race_for_the_last_seat(world: World) -> None:
    a1, a2 = world["agent1"], world["agent2"]
    chat, c1, c2, customer = await seat_five(world)
    rounds = [(a1, c1, "Transfer-to-agent-5", a2, c2, "Transfer-to-BasicQueue"),
              (a2, c2, "Transfer-to-agent-5", a1, c1, "Transfer-to-BasicQueue"),
              (a1, c1, "Transfer-to-BasicQueue", a2, c2, "Transfer-to-agent-5")]
    for first, first_contact, first_qc, second, second_contact, second_qc in rounds:
        endpoints = (await first.endpoint(first_qc), await second.endpoint(second_qc))
        invited_before = len(of_type(customer.transcript(), INVITED))
        results = await asyncio.gather(
            first.attempt("AddNewConnection", contactId=first_contact, endpoint=endpoints[0]),
            second.attempt("AddNewConnection", contactId=second_contact, endpoint=endpoints[1]),
        )
        statuses = sorted(status for status, _body in results)
        assert statuses == [200, 400], results
        loser = next(body for status, body in results if status != 200)
        assert loser["__type"] == "LimitExceededException", loser
        assert "6 of its 6" in loser["message"]
        assert len(of_type(customer.transcript(), INVITED)) == invited_before + 1
        pending = await pending_connections(a1, c1)
        assert len(pending) == 3, pending  # agent3, agent4 and the one winner
        # cancel the winner's invitation (DestroyConnection on its pending connection) to free the seat again
        winner = next(c for c in pending if c["endpoint"]["name"] not in ("Agent3", "Agent4"))
        await a1.call("DestroyConnection", contactId=c1, connectionId=winner["connectionId"])
        await a1.wait_for(lambda s: len([c for c in s["contacts"][0]["connections"]
                                         if c["state"]["type"] == "connecting"]) == 2, "the seat to be free")
    assert chat == c1


async def test_two_tabs_accept_the_same_offer(world: World) -> None:
    """Two AcceptContact calls at once with the same token: one contact, one participant, one join event."""
    a1 = world["agent1"]
    await a1.available()
    customers = [world.start_chat(f"Tab Customer {n}") for n in range(3)]
    for customer in customers:
        chat = customer.party.contact_id
        await a1.wait_offer(chat)
        results = await asyncio.gather(a1.attempt("AcceptContact", contactId=chat),
                                       a1.attempt("AcceptContact", contactId=chat))
        for status, body in results:
            assert status == 200 or body.get("__type") == "InvalidStateException", results
        assert any(status == 200 for status, _body in results), results
        contact = await a1.wait_state(chat, "connected")
        agents = [c for c in contact["connections"] if c["type"] == "agent"]
        assert len(agents) == 1
        joined = [i for i in of_type(customer.transcript(), JOINED) if i["ParticipantRole"] == "AGENT"]
        assert len(joined) == 1, joined
        assert joined[0]["ParticipantId"] == agents[0]["connectionId"]
    assert len([c for c in await a1.contacts() if c["state"]["type"] == "connected"]) == 3


async def test_invitation_refused_while_not_connected(world: World) -> None:
    """Only a connected agent may invite; an offer still ringing cannot."""
    a1 = world["agent1"]
    await a1.available()
    customer = world.start_chat()
    chat = customer.party.contact_id
    await a1.wait_offer(chat)
    failure = await a1.refused("AddNewConnection", "InvalidStateException", "not connected",
                               contactId=chat, endpoint=await a1.endpoint("Transfer-to-agent-2"))
    assert isinstance(failure, CtiFailure)
    assert of_type(customer.transcript(), INVITED) == []


async def test_any_agent_may_remove_another_and_the_last_one_out_ends_the_chat(world: World) -> None:
    a1, a2, a3 = world["agent1"], world["agent2"], world["agent3"]
    await a1.available()
    customer = world.start_chat()
    chat, _m1 = await world.answer(a1, customer)
    c2, m2 = await world.bring_in(a1, chat, a2, chat)
    c3, m3 = await world.bring_in(a2, c2, a3, chat)

    async def connection_of(viewer: Agent, contact_id: str, name: str) -> str:
        contact = await viewer.contact(contact_id)
        assert contact is not None
        return str(next(c["connectionId"] for c in contact["connections"]
                        if c["type"] == "outbound" and c["endpoint"]["name"] == name))

    # agent3, invited by agent2, removes agent1 (who started it all)
    await a3.call("DestroyConnection", contactId=c3, connectionId=await connection_of(a3, c3, "Agent1"))
    await a1.wait_state(chat, "ended")
    customer.socket.wait_item(lambda i: i["ContentType"] == LEFT and i["DisplayName"] == "Agent1")
    said = customer.send("Still talking to two of you")
    for member in (m2, m3):  # agent2 and agent3 are still in the chat
        member.socket.wait_item(lambda i: i["Id"] == said)
    # agent2 removes agent3; agent2 is the last agent, and when agent2 leaves the chat ends for the customer
    await a2.call("DestroyConnection", contactId=c2, connectionId=await connection_of(a2, c2, "Agent3"))
    await a3.wait_state(c3, "ended")
    assert (await a2.contact(c2) or {})["state"]["type"] == "connected"
    await a2.leave(c2)
    customer.socket.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)
    for agent, contact_id in ((a1, chat), (a2, c2), (a3, c3)):
        await agent.wait_state(contact_id, "ended")
        await agent.refused("DestroyConnection", "InvalidStateException", "not connected", contactId=contact_id,
                            connectionId=customer.party.participant_id)
        await agent.clear(contact_id)
        await agent.wait_gone(contact_id)

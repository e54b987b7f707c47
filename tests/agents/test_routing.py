"""Routing of chat offers on a server whose offers expire after 2 s: longest-idle agent first, missed and
rejected offers move on, chat concurrency (ACW included) is respected, Offline agents get nothing, and
DescribeContact shows the queue while a contact waits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.agents.cti import WAIT, Agent, World, connections, dedicated_server
from tests.conftest import Server

# Offers expire after this many seconds on this module's server (parley serve --offer-timeout).
OFFER_TIMEOUT = 2
# Long enough for a few routing passes (they run at least once a second): nothing was offered by then.
SETTLE = 1.5


@pytest.fixture(scope="module")
def agents_server() -> Iterator[Server]:
    with dedicated_server(["--demo", "--offer-timeout", str(OFFER_TIMEOUT)]) as srv:
        yield srv



def user_id(world: World, username: str) -> str:
    users = world.connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    return str(next(u["Id"] for u in users if u["Username"] == username))


async def nothing_offered(agents: list[Agent]) -> None:
    await asyncio.sleep(SETTLE)
    for agent in agents:
        assert [c for c in await agent.contacts() if c["state"]["type"] == "connecting"] == [], agent.username


async def test_longest_idle_available_agent_gets_the_offer(world: World) -> None:
    a2, a3, a4 = world["agent2"], world["agent3"], world["agent4"]
    await a3.available()
    await asyncio.sleep(0.05)
    await a2.available()
    await asyncio.sleep(0.05)
    await a4.available()
    first = world.start_chat("First Customer")
    offer = await a3.wait_offer(first.party.contact_id)
    await a3.accept(offer["contactId"])
    assert await a2.contacts() == [] and await a4.contacts() == []
    # agent3 now has a chat: the next contact goes to agent2, idle the longest of those without one. Had it been
    # offered to agent4 first, agent4 would miss it (MissedCallAgent, checked below) before agent2 got it.
    second = world.start_chat("Second Customer")
    offer = await a2.wait_offer(second.party.contact_id)
    await a2.accept(offer["contactId"])
    assert await a4.contacts() == [] and (await a4.agent_state())["name"] == "Available"
    third = world.start_chat("Third Customer")
    offer = await a4.wait_offer(third.party.contact_id)
    await a4.accept(offer["contactId"])
    for agent in (a2, a3, a4):
        assert (await agent.agent_state())["name"] == "Available", agent.username  # nobody missed an offer
        assert len(await agent.contacts()) == 1, agent.username
    for contact, username in ((first, "agent3"), (second, "agent2"), (third, "agent4")):
        assert world.describe(contact.party.contact_id)["AgentInfo"]["Id"] == user_id(world, username)


async def test_missed_offer_goes_to_the_next_agent(world: World) -> None:
    a2, a3 = world["agent2"], world["agent3"]
    await a2.available()
    await asyncio.sleep(0.05)
    await a3.available()
    customer = world.start_chat()
    chat = customer.party.contact_id
    offer = await a2.wait_offer(chat)
    assert offer["contactId"] == chat
    # agent2 lets it ring: after the offer window the offer is missed and agent2 is in MissedCallAgent
    state = await a2.wait_for(lambda s: s["state"] if s["state"]["name"] == "MissedCallAgent" else None,
                              "agent2 to miss the offer", timeout=OFFER_TIMEOUT + WAIT)
    assert state["type"] == "error" and state["agentStateARN"] is None
    await a2.wait_gone(chat)
    offer = await a3.wait_offer(chat)
    assert offer["contactId"] == chat
    await a3.accept(chat)
    assert world.describe(chat)["AgentInfo"]["Id"] == user_id(world, "agent3")
    # the missed agent takes no offers until it goes Available again
    late = await a2.refused("AcceptContact", "ResourceNotFoundException", "not offered to you", contactId=chat)
    assert late.status == 400


async def test_rejected_offer_goes_to_another_agent(world: World) -> None:
    a4, a5 = world["agent4"], world["agent5"]
    await a4.available()
    await asyncio.sleep(0.05)
    await a5.available()
    customer = world.start_chat()
    chat = customer.party.contact_id
    await a4.wait_offer(chat)
    await a4.call("RejectContact", contactId=chat)
    offer = await a5.wait_offer(chat)
    await a5.accept(offer["contactId"])
    assert (await a4.agent_state())["name"] == "Available"
    assert await a4.contacts() == []
    assert world.describe(chat)["AgentInfo"]["Id"] == user_id(world, "agent5")


async def test_chat_concurrency_counts_after_contact_work(world: World) -> None:
    a1 = world["agent1"]
    await a1.available()
    customers = [world.start_chat(f"Customer {n}") for n in range(3)]
    for customer in customers:
        await a1.accept((await a1.wait_offer(customer.party.contact_id))["contactId"])
    fourth = world.start_chat("Customer 4")
    waiting = fourth.party.contact_id
    await nothing_offered([a1])
    assert len(await a1.contacts()) == 3
    assert world.describe(waiting).get("AgentInfo") is None
    # the first customer leaves: agent1's contact is in after-contact work and still holds its slot
    world.connect.stop_contact(InstanceId=world.instance_id, ContactId=customers[0].party.contact_id)
    await a1.wait_state(customers[0].party.contact_id, "ended")
    await nothing_offered([a1])
    # clearing it frees the slot: the waiting contact is offered to agent1
    await a1.clear(customers[0].party.contact_id)
    offer = await a1.wait_offer(waiting)
    await a1.accept(offer["contactId"])
    assert len(await a1.contacts()) == 3


async def test_offline_agents_get_nothing_and_the_contact_waits_in_its_queue(world: World) -> None:
    customer = world.start_chat()
    chat = customer.party.contact_id
    await nothing_offered(list(world.agents.values()))
    for agent in world.agents.values():
        assert await agent.contacts() == [], agent.username
    described = world.describe(chat)
    queues = world.connect.list_queues(InstanceId=world.instance_id, QueueTypes=["STANDARD"])["QueueSummaryList"]
    basic = next(q["Id"] for q in queues if q.get("Name") == "BasicQueue")
    assert described["QueueInfo"]["Id"] == basic
    assert described["QueueInfo"]["EnqueueTimestamp"] <= described["LastUpdateTimestamp"]
    assert described.get("AgentInfo") is None
    assert described["InitiationMethod"] == "API"
    a4 = world["agent4"]
    await a4.available()
    offer = await a4.wait_offer(chat)
    assert offer["queue"]["name"] == "BasicQueue"
    await a4.accept(chat)
    assert world.describe(chat)["AgentInfo"]["Id"] == user_id(world, "agent4")


async def test_missed_invitation_frees_its_seat(world: World) -> None:
    """An invitation to an agent who lets it expire is over: visible to the inviter, its seat free again."""
    a1, a2 = world["agent1"], world["agent2"]
    await a1.available()
    customer = world.start_chat()
    chat, _member = await world.answer(a1, customer)
    await a1.invite(chat, "Transfer-to-agent-2")
    await a2.available()
    await a2.wait_offer(chat)
    await a2.wait_for(lambda s: s["state"]["name"] == "MissedCallAgent", "agent2 to miss the invitation",
                      timeout=OFFER_TIMEOUT + WAIT)
    await a1.wait_for(lambda s: ("outbound", "disconnected", "Agent2") in connections(s["contacts"][0]),
                      "the expired invitation in agent1's roster")
    # agent2 may be invited again, and this time joins
    await a2.available()
    _c2, _m2 = await world.bring_in(a1, chat, a2, chat)


async def test_rejected_invitation_is_over_and_visible(world: World) -> None:
    a1, a3 = world["agent1"], world["agent3"]
    await a1.available()
    customer = world.start_chat()
    chat, _member = await world.answer(a1, customer)
    await a1.invite(chat, "Transfer-to-agent-3")
    await a1.wait_for(lambda s: ("outbound", "connecting", "Agent3") in connections(s["contacts"][0]),
                      "the invitation in agent1's roster")
    await a3.available()
    offer = await a3.wait_offer(chat)
    await a3.call("RejectContact", contactId=offer["contactId"])
    await a1.wait_for(lambda s: ("outbound", "disconnected", "Agent3") in connections(s["contacts"][0]),
                      "the rejected invitation in agent1's roster")
    await a3.wait_gone(offer["contactId"])
    assert (await a3.agent_state())["name"] == "Available"
    assert (await a1.contact(chat) or {})["state"]["type"] == "connected"

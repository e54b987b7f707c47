"""Agents, customers and routing spread over three nodes behind HAProxy act as one contact center.

Every node runs its own router and timers; these tests check that, with agents signed in through different
nodes and customers arriving through the balancer or other nodes, each queued contact is offered to one agent at a
time (also under 20 chats started at once), an agent never holds more chats than its concurrency, invitations made
on one node reach an agent on another, a missed offer is missed exactly once, and a snapshot long poll held on one
node is woken by what happens on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from parley.client import JOINED, Agent, AgentContact, ChatParticipant, ParleyError, customer, is_message, message_with
from tests.cluster.conftest import OFFER_SECONDS, Cluster
from tests.conftest import connect_client

pytestmark = pytest.mark.postgres
PASSWORD = "Parley-demo-1"


def demo_ids(cluster: Cluster) -> tuple[Any, str, str]:
    connect = connect_client(cluster.url)
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    queue = next(q["Id"] for q in connect.list_queues(InstanceId=iid, QueueTypes=["STANDARD"])["QueueSummaryList"]
                 if q["Name"] == "BasicQueue")
    return connect, iid, queue


def give_concurrency(cluster: Cluster, concurrency: dict[str, int]) -> None:
    """A routing profile on BasicQueue with the given chat concurrency for each user."""
    connect, iid, queue = demo_ids(cluster)
    users = {u["Username"]: u["Id"] for u in connect.list_users(InstanceId=iid)["UserSummaryList"]}
    for username, slots in concurrency.items():
        profile = connect.create_routing_profile(
            InstanceId=iid, Name=f"Chat-{username}-{uuid.uuid4().hex[:6]}", Description=f"{slots} chats",
            DefaultOutboundQueueId=queue,
            MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": slots}],
            QueueConfigs=[{"QueueReference": {"QueueId": queue, "Channel": "CHAT"}, "Priority": 1, "Delay": 0}],
        )["RoutingProfileId"]
        connect.update_user_routing_profile(InstanceId=iid, UserId=users[username], RoutingProfileId=profile)


@contextlib.asynccontextmanager
async def agents(*signed_in: tuple[str, str], poll_seconds: float = 20.0) -> AsyncIterator[list[Agent]]:
    """Agents signed in, each through the URL given with it."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(Agent(url, name, PASSWORD, poll_seconds=poll_seconds))
               for url, name in signed_in]


def served_by(item: dict[str, Any]) -> bool:
    return bool(is_message(item) and item["Content"].startswith("served by "))


def agents_joined(participant: ChatParticipant) -> list[str]:
    return [i["DisplayName"] for i in participant.received
            if i["ContentType"] == JOINED and i["ParticipantRole"] == "AGENT"]


async def no_offer(agent: Agent, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        offer = await agent.wait_for_offer(timeout=seconds)
        raise AssertionError(f"{agent.username} was offered {offer.contact_id} too")


async def test_twenty_chats_at_once_are_each_offered_to_one_agent_within_its_concurrency(cluster: Cluster) -> None:
    concurrency = {"agent1": 1, "agent2": 2, "agent3": 3}
    give_concurrency(cluster, concurrency)
    chats = 20
    offers: list[tuple[str, str]] = []
    accepted: list[tuple[str, str]] = []
    held_at_offer: dict[str, int] = Counter()
    missed: list[tuple[str, str]] = []  # offers that ran out before the accept arrived (a very busy machine)
    failures: list[str] = []

    async def serve(agent: Agent, done: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()

        async def handle(offer: AgentContact) -> None:
            try:
                chat = await agent.accept(offer)
                accepted.append((agent.username, offer.initial_contact_id))
                await chat.send(f"served by {agent.username}")
                await agent.complete(offer)  # leave (the chat ends: only the customer is left), then clear
                await chat.close()
            except ParleyError as exc:
                # Only a missed offer may fail an accept: then the agent is in MissedCallAgent (an offer taken
                # away by another node's double offer would leave it Available) and goes back to Available.
                state = (await agent.snapshot())["state"]["name"]
                if "not offered to you" in exc.message and state == "MissedCallAgent":
                    missed.append((agent.username, offer.initial_contact_id))
                    await agent.go_available()
                else:
                    failures.append(f"{agent.username} {offer.contact_id} ({state}): {exc!r}")
            except TimeoutError as exc:
                failures.append(f"{agent.username} {offer.contact_id}: {exc!r}")
            if len(accepted) + len(failures) >= chats:
                done.set()

        async for offer in agent.offers():
            offers.append((agent.username, offer.initial_contact_id))
            # What the agent holds when the offer arrives (the offer included), as the server's snapshot says.
            held = len((agent.latest or {}).get("contacts") or [])
            held_at_offer[agent.username] = max(held_at_offer[agent.username], held)
            task = asyncio.get_running_loop().create_task(handle(offer))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    # Each agent signs in through its own node; the customers arrive through the balancer (round-robin).
    signed_in = [(cluster.nodes[n], name) for n, name in enumerate(concurrency)]
    async with agents(*signed_in) as staff:
        for agent in staff:
            await agent.go_available()
        done = asyncio.Event()
        workers = [asyncio.get_running_loop().create_task(serve(agent, done)) for agent in staff]
        customers = await asyncio.gather(*(customer(cluster.url, f"Customer{n}") for n in range(chats)))
        try:
            served = await asyncio.wait_for(asyncio.gather(*(
                c.wait_for(served_by, timeout=90) for c in customers)), 100)
            await asyncio.wait_for(done.wait(), 30)
            for c in customers:
                await c.wait_for(lambda i: i["ContentType"].endswith("chat.ended"), timeout=30)
        finally:
            for worker in workers:
                worker.cancel()
            for c in customers:
                await c.close()

    assert not failures
    contact_ids = {c.contact_id for c in customers}
    # Each contact offered to one agent at a time: once, plus once more after each offer that ran out.
    assert Counter(contact for _, contact in offers) == Counter(contact_ids) + Counter(c for _, c in missed)
    assert Counter(contact for _, contact in accepted) == Counter(contact_ids)  # and accepted once
    for c, answer in zip(customers, served, strict=True):
        assert len(agents_joined(c)) == 1, c.received  # one agent joined each chat
        owner = next(agent for agent, contact in accepted if contact == c.contact_id)
        assert answer["Content"] == f"served by {owner}"
    for name, slots in concurrency.items():
        assert 1 <= held_at_offer[name] <= slots, (name, held_at_offer)
    assert {agent for agent, _ in accepted} == set(concurrency)  # the work was spread over every node's agent


async def test_an_invitation_made_on_one_node_is_accepted_by_an_agent_on_another(cluster: Cluster) -> None:
    async with agents((cluster.nodes[0], "agent4"), (cluster.nodes[2], "agent5")) as (agent4, agent5):
        await agent4.go_available()
        async with await customer(cluster.nodes[1], "Jane") as jane:
            offer = await agent4.wait_for_offer(timeout=15)
            chat4 = await agent4.accept(offer)
            await jane.send("my parcel is late")
            await chat4.wait_for(message_with("my parcel is late"))
            await agent5.go_available()
            await agent4.invite(offer, "Transfer-to-agent-5")  # AddNewConnection on node 1
            invited = await agent5.wait_for_offer(timeout=15)  # offered through node 3's long poll
            assert invited.initial_contact_id == offer.contact_id and invited.initiation_method == "transfer"
            chat5 = await agent5.accept(invited, history=True)
            await chat5.wait_for(message_with("my parcel is late"))
            await jane.wait_for(lambda i: i["ContentType"] == JOINED and i["DisplayName"] == "Agent5", timeout=15)
            await chat5.send("I can help")
            await jane.wait_for(message_with("I can help"))
            await no_offer(agent5, 2)
            assert agents_joined(jane) == ["Agent4", "Agent5"]
            await jane.disconnect()
        for agent, contact in ((agent4, offer), (agent5, invited)):
            await agent.wait_for_contact_state(contact, "ended", timeout=15)
            await agent.clear(contact)
            await chat4.close()
            await chat5.close()


async def test_a_missed_offer_is_missed_once_and_goes_to_one_other_agent(cluster: Cluster) -> None:
    async with agents((cluster.nodes[1], "agent1"), (cluster.nodes[2], "agent2"),
                      (cluster.nodes[0], "agent3")) as (slow, second, third):
        await slow.go_available()
        async with await customer(cluster.url, "Ola") as ola:
            offer = await slow.wait_for_offer(timeout=15)
            # Two more agents, on the other nodes, are available while the offer runs out unanswered.
            await second.go_available()
            await third.go_available()
            await slow.wait_for_contact_gone(offer, timeout=OFFER_SECONDS + 20)
            assert (await slow.snapshot())["state"]["name"] == "MissedCallAgent"
            first, pending = await asyncio.wait(
                [asyncio.ensure_future(a.wait_for_offer(timeout=15)) for a in (second, third)],
                return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            again = next(iter(first)).result()
            taker, other = (second, third) if again.contact_id in {c.contact_id for c in await second.contacts()} \
                else (third, second)
            assert again.contact_id == offer.contact_id
            chat = await taker.accept(again)
            await ola.wait_for(lambda i: i["ContentType"] == JOINED and i["ParticipantRole"] == "AGENT", timeout=15)
            # Missed once: the offer is not made again, to anyone, while the chat goes on past another expiry time.
            await asyncio.gather(no_offer(other, 3), no_offer(slow, 1))
            assert agents_joined(ola) == [taker.username.replace("agent", "Agent")], ola.received
            assert [c.state for c in await taker.contacts()] == ["connected"]
            await taker.complete(again)
            await chat.close()


async def test_a_long_poll_held_on_one_node_is_woken_by_a_chat_started_on_another(cluster: Cluster) -> None:
    # The server holds a poll up to 25 s; the offer must arrive well before a poll would time out on its own.
    async with agents((cluster.nodes[0], "agent5"), poll_seconds=25) as (agent,):
        await agent.go_available()
        await asyncio.sleep(1)  # the agent's next poll is now held on node 1
        async with await customer(cluster.nodes[2], "Kim") as kim:
            offer = await agent.wait_for_offer(timeout=10)
            assert offer.contact_id == kim.contact_id
            chat = await agent.accept(offer)
            await kim.wait_for(lambda i: i["ContentType"] == JOINED and i["DisplayName"] == "Agent5", timeout=15)
            await agent.complete(offer)
            await chat.close()

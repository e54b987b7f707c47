"""Node failures on a three-node cluster behind HAProxy (round-robin, no stickiness), with a real ChatJS customer in
Node.js, Python customers and scripted agents (``parley.client``):

* ``kill -9`` of the node that holds the ChatJS customer's websocket, mid-chat, while an invitation and an offer are
  pending and a chat's duration has just run out: sockets reconnect through the balancer to the other nodes, no
  acknowledged message is lost or shown twice, and every offer, invitation, offer timeout, chat-duration expiry and
  after-contact work happens exactly once;
* a rolling restart (SIGTERM, drain, start again) of every node while messages flow: no client that retries as
  ChatJS and StreamsJS do (boto3 with standard retries; websockets reconnecting) sees an error.

The CCP (StreamsJS in Chromium) is left out: a browser per agent would make these tests minutes long on two cores;
the scripted agents speak the same CTI protocol through the balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from parley.client import CHAT_ENDED, JOINED, LEFT, Agent, AgentContact, ChatParticipant, customer, is_message
from tests.cluster.conftest import FAILURE_OFFER_SECONDS, ChatJsCustomer, Cluster, websocket_accepts
from tests.cluster.test_agents_across_nodes import give_concurrency
from tests.conftest import REGION

pytestmark = pytest.mark.postgres
PASSWORD = "Parley-demo-1"
INVITED = "application/vnd.amazonaws.connect.event.participant.invited"
# How long HAProxy takes to see a node that answers /ready again (a check every 2 s, rise 1), plus slack.
BALANCER_SECONDS = 3.0
# A chat whose duration ran out is ended by the next timer round of some node (every 5 s), plus slack.
EXPIRY_WAIT = 20.0


class Offers:
    """Every offer each agent's snapshot showed, in order (``agent.offers()`` hands each out once)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, AgentContact]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def watch(self, agent: Agent) -> None:
        async def collect() -> None:
            async for offer in agent.offers():
                self.seen.append((agent.username, offer))

        self._tasks.append(asyncio.get_running_loop().create_task(collect()))

    def of(self, initial_contact_id: str) -> list[tuple[str, AgentContact]]:
        return [(name, o) for name, o in self.seen if o.initial_contact_id == initial_contact_id]

    async def wait(self, agent: Agent, initial_contact_id: str, timeout: float = 15.0, count: int = 1,
                   ) -> AgentContact:
        """The ``count``-th offer of the contact to ``agent``."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [o for name, o in self.of(initial_contact_id) if name == agent.username]
            if len(mine) >= count:
                return mine[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{agent.username} was not offered {initial_contact_id} (offers: {self.seen})")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def staff(url: str, *names: str) -> AsyncIterator[tuple[list[Agent], Offers]]:
    """Agents signed in through the balancer, each watched for offers."""
    offers = Offers()
    async with contextlib.AsyncExitStack() as stack:
        agents = [await stack.enter_async_context(Agent(url, name, PASSWORD, poll_seconds=10)) for name in names]
        for agent in agents:
            offers.watch(agent)
        try:
            yield agents, offers
        finally:
            await offers.stop()


def count_wire(participant: ChatParticipant) -> Counter[str]:
    """Counts every item the participant's stream receives, by Id, before its de-duplication (pushed frames and
    the transcript reloaded after each reconnect)."""
    wire: Counter[str] = Counter()
    log = participant._log  # what reaches the de-duplication
    add = log.add

    def counting(item: dict[str, Any]) -> bool:
        wire[str(item.get("Id"))] += 1
        return add(item)

    log.add = counting  # type: ignore[method-assign]
    return wire


def of_type(items: list[dict[str, Any]], content_type: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("ContentType") == content_type]


def messages(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(Id, Content) of the messages among ``items``, in their order."""
    return [(i["Id"], i["Content"]) for i in items if is_message(i)]


def assert_once_each(sent: list[tuple[str, str]], items: list[dict[str, Any]], who: str) -> None:
    """Every acknowledged message (Id, text) of one sender is among ``items`` exactly once, in the order it was sent,
    and no text appears under a second Id (a retry stored twice would)."""
    got = messages(items)
    ids = [item_id for item_id, _ in got]
    for item_id, text in sent:
        assert ids.count(item_id) == 1, f"{who}: acknowledged {text!r} ({item_id}) seen {ids.count(item_id)} times"
    order = [item_id for item_id in ids if item_id in dict(sent)]
    assert order == [item_id for item_id, _ in sent], f"{who}: out of order"
    texts = Counter(text for _, text in got)
    assert not [t for t, n in texts.items() if n > 1], f"{who}: shown twice: {texts}"


async def until(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.05)


def database(cluster: Cluster) -> str:
    return cluster.storage.rsplit("/", 1)[1]


async def test_kill_9_of_a_node_mid_chat_loses_nothing_and_does_everything_once(
        failure_cluster: Cluster, failure_services: Any) -> None:
    cluster = failure_cluster
    # One chat at a time each, so who is offered what is known: a contact waits for its one agent.
    give_concurrency(cluster, {"agent1": 1, "agent2": 1, "agent3": 1, "agent4": 1})
    victim = 0
    ana: ChatJsCustomer | None = None
    try:
        async with staff(cluster.url, "agent1", "agent2", "agent3", "agent4") as ((a1, a2, a3, a4), offers):
            # Chat A: a ChatJS customer and agent1; which node holds Ana's websocket tells which node to kill.
            await a1.go_available()
            before = websocket_accepts(cluster)
            ana = await ChatJsCustomer.start(cluster.url, "Ana")
            await until(lambda: websocket_accepts(cluster) != before, "Ana's websocket", 10)
            after = websocket_accepts(cluster)
            assert sum(after) - sum(before) == 1, (before, after)
            victim = next(n for n in range(1, 4) if after[n - 1] > before[n - 1])
            offer_a = await offers.wait(a1, ana.contact_id)
            chat1 = await a1.accept(offer_a)
            wire1 = count_wire(chat1)
            ana_sent = [(await ana.send(f"ana {n}"), f"ana {n}") for n in range(3)]
            agent_sent = [(await chat1.send(f"agent1 {n}"), f"agent1 {n}") for n in range(3)]
            await ana.wait_for(lambda i: i.get("Content") == "agent1 2", "agent1's messages")

            # Chat C: agent4 with a Python customer; its duration is made to run out just before the kill.
            await a4.go_available()
            cy = await customer(cluster.url, "Cy")
            offer_c = await offers.wait(a4, cy.contact_id)
            chat4 = await a4.accept(offer_c)
            await cy.wait_for(lambda i: i["ContentType"] == JOINED and i["DisplayName"] == "Agent4", timeout=15)

            # Chat B: offered to agent3, who never answers: the offer runs out after the kill.
            await a3.go_available()
            bo = await customer(cluster.url, "Bo")
            await offers.wait(a3, bo.contact_id)
            offered_b = time.monotonic()

            # An invitation of agent2 into chat A, pending across the kill.
            await a2.go_available()
            await a1.invite(offer_a, "Transfer-to-agent-2")
            invited = await offers.wait(a2, ana.contact_id)

            failure_services.psql(f"UPDATE chats SET expires_at = '2000-01-01T00:00:00+00:00' "
                                  f"WHERE id = '{cy.contact_id}'", database(cluster))
            cluster.kill_node(victim)  # kill -9
            assert time.monotonic() - offered_b < FAILURE_OFFER_SECONDS, "the offer of B ran out before the kill"

            # The chat goes on through the other nodes; agent2 takes the invitation made before the kill.
            ana_sent += [(await ana.send(f"ana {n}"), f"ana {n}") for n in range(3, 6)]
            agent_sent += [(await chat1.send(f"agent1 {n}"), f"agent1 {n}") for n in range(3, 6)]
            chat2 = await a2.accept(invited, history=True)
            agent2_sent = [(await chat2.send("agent2 0"), "agent2 0")]
            await ana.wait_for(lambda i: i.get("Content") == "agent2 0", "agent2's message", timeout=20)
            await ana.wait_for(lambda i: i.get("Content") == "agent1 5", "agent1's last message", timeout=20)
            await chat1.wait_for(lambda i: i.get("Content") == "ana 5", timeout=20)

            # Chat C's duration ran out: another node's timer ends it, once.
            await cy.wait_for(lambda i: i["ContentType"] == CHAT_ENDED, timeout=EXPIRY_WAIT)
            await a4.wait_for_contact_state(offer_c, "ended", timeout=15)

            # Chat B's offer ran out, once: agent3 missed it, and it is offered once more, to agent4 once agent4's
            # after-contact work of chat C is cleared (the others hold a chat each; a missed contact skips agent3).
            await a3.wait_for_contact_gone(await offers.wait(a3, bo.contact_id), timeout=FAILURE_OFFER_SECONDS + 15)
            assert (await a3.snapshot())["state"]["name"] == "MissedCallAgent"
            assert len({c.contact_id for c in await a4.contacts() if c.state == "ended"}) == 1  # C's ACW, once
            await a4.clear(offer_c)
            taker = a4
            again = await offers.wait(a4, bo.contact_id, timeout=20)
            chat_b = await taker.accept(again)
            await bo.wait_for(lambda i: i["ContentType"] == JOINED and i["ParticipantRole"] == "AGENT", timeout=15)

            # The sockets on the killed node came back through the balancer.
            assert ana.count("onConnectionLost") >= 1 or ana.count("onConnectionBroken") >= 1, ana.events()
            await until(lambda: ana.count("onConnectionEstablished") >= 3, "Ana's reconnect", 30)

            # Everyone leaves: after-contact work, once per agent.
            await ana.call("disconnect")
            await bo.disconnect()
            for agent, contact in ((a1, offer_a), (a2, invited), (taker, again)):
                await agent.wait_for_contact_state(contact, "ended", timeout=15)
            for agent in (a1, a2, a4):
                ended = [c for c in await agent.contacts() if c.state == "ended"]
                assert len({c.contact_id for c in ended}) == len(ended), ended  # one ACW per contact
            for agent, contact in ((a1, offer_a), (a2, invited), (taker, again)):
                await agent.clear(contact)
            for agent in (a1, a2, a3, a4):
                assert [c for c in await agent.contacts() if c.state == "ended"] == []

            transcript_a = await chat1.full_transcript()
            transcript_c = await cy.full_transcript()
            transcript_b = await chat_b.full_transcript()
            ana_wire = Counter(ana.pushed())
            for event in ana.events():  # and what ChatJS fetched again with GetTranscript after reconnecting
                if event["event"] == "catchUp":
                    ana_wire.update(i["Id"] for i in event["data"]["Transcript"])
            for participant in (chat1, chat2, chat4, chat_b, cy, bo):
                await participant.close()

        # Nothing acknowledged lost, nothing shown twice (after de-duplication by Id, as ChatJS's users do).
        for sender in (ana_sent, agent_sent, agent2_sent):
            assert_once_each(sender, transcript_a, "the transcript")
        ana_items = sorted(ana.items().values(), key=lambda i: i["AbsoluteTime"])
        assert_once_each(agent_sent, ana_items, "Ana (ChatJS)")
        assert_once_each(agent2_sent, ana_items, "Ana (ChatJS)")
        assert_once_each(ana_sent, chat1.received, "agent1")
        assert_once_each(agent2_sent, chat1.received, "agent1")
        assert [i for i, _ in messages(chat1.received)] == [i for i, _ in messages(transcript_a)]  # one order
        # Each happened once: agent joins, the invitation, chat ends, duration expiry, offers.
        assert [i["DisplayName"] for i in of_type(transcript_a, JOINED) if i["ParticipantRole"] == "AGENT"] == [
            "Agent1", "Agent2"]
        assert len(of_type(transcript_a, INVITED)) == 1
        assert len(of_type(transcript_a, CHAT_ENDED)) == 1
        assert len(of_type(transcript_c, CHAT_ENDED)) == 1
        assert Counter(i["ParticipantId"] for i in of_type(transcript_c, LEFT)) == Counter(
            {cy.participant_id: 1, chat4.participant_id: 1})
        assert len(of_type(transcript_b, CHAT_ENDED)) == 1
        assert [n for n, _ in offers.of(ana.contact_id)] == ["agent1", "agent2"]
        assert [n for n, _ in offers.of(cy.contact_id)] == ["agent4"]
        assert [n for n, _ in offers.of(bo.contact_id)] == ["agent3", "agent4"]
        # What came over the wire twice (pushed, or reloaded after the reconnect) before de-duplication.
        shown_twice = sum(n - 1 for n in Counter(text for _, text in messages(ana_items)).values())
        print(f"\nkilled node{victim}; Ana's websocket reconnected {ana.count('onConnectionEstablished') - 2} "
              f"time(s); items received more than once (pushed, or fetched again after the reconnect): Ana "
              f"{sum(n - 1 for n in ana_wire.values())}, agent1 {sum(n - 1 for n in wire1.values())}; messages "
              f"shown twice after de-duplication by Id: {shown_twice}")
    finally:
        if ana is not None:
            ana.close()
        if victim:
            cluster.start_node(victim)
            await asyncio.sleep(BALANCER_SECONDS)  # HAProxy sees it up again before the next test


def participant_boto(url: str) -> Any:
    """boto3 ``connectparticipant`` with the standard retry mode (as AWS SDKs retry: 5xx, throttling, resets)."""
    return boto3.client("connectparticipant", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x", config=BotoConfig(retries={"mode": "standard",
                                                                              "max_attempts": 10}))


async def test_a_rolling_restart_of_every_node_is_invisible_to_clients_that_retry(failure_cluster: Cluster) -> None:
    cluster = failure_cluster
    errors: list[str] = []
    sent: dict[str, list[tuple[str, str]]] = {"rui": [], "rosa": [], "agent1": [], "agent2": []}
    stop = asyncio.Event()
    rui: ChatJsCustomer | None = None
    async with staff(cluster.url, "agent1", "agent2") as ((a1, a2), offers):
        try:
            await a1.go_available()
            rui = await ChatJsCustomer.start(cluster.url, "Rui")
            offer_r = await offers.wait(a1, rui.contact_id)
            chat1 = await a1.accept(offer_r)
            await a2.go_available()
            rosa = await customer(cluster.url, "Rosa")
            offer_s = await offers.wait(a2, rosa.contact_id)
            chat2 = await a2.accept(offer_s)
            boto = participant_boto(cluster.url)
            assert rosa.connection_token is not None

            async def talk(who: str, say: Callable[[str], Any], pause: float = 0.3) -> None:
                n = 0
                while not stop.is_set():
                    text = f"{who} {n}"
                    try:
                        sent[who].append((await say(text), text))
                    except Exception as exc:
                        errors.append(f"{who} {n}: {exc!r}")
                    n += 1
                    await asyncio.sleep(pause)

            async def rosa_says(text: str) -> str:
                out = await asyncio.to_thread(boto.send_message, ConnectionToken=rosa.connection_token,
                                              ContentType="text/plain", Content=text)
                return str(out["Id"])

            talkers = [asyncio.get_running_loop().create_task(t) for t in (
                # ChatJS does not retry a sendMessage: back to back, one is in flight whenever a node stops.
                talk("rui", rui.send, 0.0), talk("rosa", rosa_says), talk("agent1", chat1.send),
                talk("agent2", chat2.send))]
            pids = [cluster.pid(n) for n in range(1, 4)]
            for n in range(1, 4):
                cluster.kill_node(n, signal.SIGTERM)  # drain: answers in flight, sockets closed 1001
                cluster.start_node(n)
                await asyncio.sleep(BALANCER_SECONDS)  # HAProxy sends to it again before the next one stops
            stop.set()
            await asyncio.gather(*talkers)
            assert [cluster.pid(n) for n in range(1, 4)] != pids

            last = {who: messages[-1][1] for who, messages in sent.items()}
            await rui.wait_for(lambda i: i.get("Content") == last["agent1"], "agent1's last message", timeout=20)
            await chat1.wait_for(lambda i: i.get("Content") == last["rui"], timeout=20)
            await chat2.wait_for(lambda i: i.get("Content") == last["rosa"], timeout=20)
            await rosa.wait_for(lambda i: i.get("Content") == last["agent2"], timeout=20)
            assert errors == []
            rui_items = sorted(rui.items().values(), key=lambda i: i["AbsoluteTime"])
            assert_once_each(sent["agent1"], rui_items, "Rui (ChatJS)")
            assert_once_each(sent["rui"], chat1.received, "agent1")
            assert_once_each(sent["rosa"], chat2.received, "agent2")
            assert_once_each(sent["agent2"], rosa.received, "Rosa")
            transcript = await chat2.full_transcript()
            assert_once_each(sent["rosa"], transcript, "chat 2's transcript")
            assert_once_each(sent["agent2"], transcript, "chat 2's transcript")
            assert a1._poll_error is None and a2._poll_error is None  # the long polls never failed
            assert rui.count("onConnectionEstablished") >= 3  # ChatJS reconnected after a 1001 close
            assert rosa.sockets_opened >= 2
            print(f"\nrolling restart: {sum(len(m) for m in sent.values())} messages sent, 0 errors; Rui reconnected "
                  f"{rui.count('onConnectionEstablished') - 2} time(s), Rosa {rosa.sockets_opened - 1}")
            await rui.call("disconnect")
            await rosa.disconnect()
            for agent, contact in ((a1, offer_r), (a2, offer_s)):
                await agent.wait_for_contact_state(contact, "ended", timeout=15)
                await agent.clear(contact)
            for participant in (chat1, chat2, rosa):
                await participant.close()
        finally:
            stop.set()
            if rui is not None:
                rui.close()

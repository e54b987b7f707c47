"""Redis and PostgreSQL restarted under a three-node cluster (HAProxy, round-robin) while a real ChatJS customer in
Node.js chats with a scripted agent (``parley.client``):

* Redis down: messages are still accepted and reach the other side within a few seconds (the hubs' periodic
  catch-up from PostgreSQL stands in for the pokes), new websockets still open, a new chat's offer reaches an
  agent long-polling on any node (waiting long polls look again every few seconds); Redis back: every node
  subscribes again, and everything arrives, in order, once.
* PostgreSQL down: requests are answered 503 with the operation's own error shape (boto3 and the other AWS SDKs
  retry it), nothing is half-written, and everything works again once it is back, without restarting Parley.

Both restart a private Redis / PostgreSQL that only this cluster uses (tests/cluster/conftest.py says why), and
start it again in a ``finally``. The CCP is left out for speed; the scripted agent speaks its CTI protocol.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from botocore.exceptions import ClientError

from parley.client import Agent, customer, is_message
from parley.service.pokes import AGENT_CHANNEL, CHAT_CHANNEL, ROUTING_CHANNEL
from tests.cluster.conftest import ChatJsCustomer, Cluster, Services
from tests.cluster.test_failures_nodes import PASSWORD, assert_once_each, participant_boto, until
from tests.conftest import connect_client

pytestmark = pytest.mark.postgres
# While Redis is down a message reaches the other nodes' sockets at their next catch-up round (every 2 s), so
# within a few seconds; the bound leaves room for a busy machine.
DEGRADED_SECONDS = 6.0
# How long nodes may take to notice Redis is back and subscribe again.
RESUBSCRIBE_SECONDS = 20.0
# How long the database stays down: long enough for several requests to meet the outage.
OUTAGE_SECONDS = 3.0


async def delivered(send: Callable[[str], Any], text: str, wait: Callable[[str], Any]) -> tuple[str, float]:
    """Send ``text``; its Id and the seconds until the other side had it."""
    started = time.monotonic()
    item_id = await send(text)
    await wait(text)
    return str(item_id), time.monotonic() - started


async def chat_with_agent(cluster: Cluster, agent: Agent, name: str) -> tuple[ChatJsCustomer, Any, Any]:
    await agent.go_available()
    chatjs = await ChatJsCustomer.start(cluster.url, name)
    offer = await agent.wait_for_offer(timeout=15)
    assert offer.initial_contact_id == chatjs.contact_id
    return chatjs, offer, await agent.accept(offer)


def arrival_order(chatjs: ChatJsCustomer) -> list[str]:
    """The Ids of the messages ChatJS got, in the order it first got each (pushed or fetched)."""
    seen: list[str] = []
    for event in chatjs.events():
        batch = [event["data"]] if event["event"] == "onMessage" and event.get("data") else (
            event["data"]["Transcript"] if event["event"] == "catchUp" else [])
        seen += [i["Id"] for i in batch if is_message(i) and i["Id"] not in seen]
    return seen


async def test_a_redis_restart_degrades_pokes_to_polling_and_every_node_subscribes_again(
        failure_cluster: Cluster, failure_services: Services) -> None:
    cluster = failure_cluster
    async with Agent(cluster.url, "agent5", PASSWORD, poll_seconds=10) as agent:
        zoe, offer, chat = await chat_with_agent(cluster, agent, "Zoe")
        try:
            zoe_sent: list[tuple[str, str]] = []
            agent_sent: list[tuple[str, str]] = []
            took: list[tuple[str, float]] = []  # (text, seconds from send to the other side) while Redis is down

            async def zoe_says(text: str) -> None:
                item_id, seconds = await delivered(zoe.send, text, lambda t: chat.wait_for(
                    lambda i: i.get("Content") == t, timeout=DEGRADED_SECONDS))
                zoe_sent.append((item_id, text))
                took.append((text, round(seconds, 2)))

            async def agent_says(text: str) -> None:
                item_id, seconds = await delivered(chat.send, text, lambda t: zoe.wait_for(
                    lambda i: i.get("Content") == t, t, timeout=DEGRADED_SECONDS))
                agent_sent.append((item_id, text))
                took.append((text, round(seconds, 2)))

            await zoe_says("zoe before")
            await agent_says("agent before")
            failure_services.redis_stop()
            try:
                for n in range(3):
                    await zoe_says(f"zoe down {n}")
                    await agent_says(f"agent down {n}")
                # A new customer's websocket opens while Redis is down (its socket slots cannot be counted).
                neo = await customer(cluster.url, "Neo")
                assert neo.sockets_opened == 1
                await neo.send("hello while Redis is down")
                # Its offer reaches the agent, whose long poll (10 s) waits on whichever node HAProxy gave it: the
                # node that routed the chat could not poke it through Redis, and the waiting node looks again.
                started = time.monotonic()
                neo_offer = await agent.wait_for_offer(timeout=DEGRADED_SECONDS)
                assert neo_offer.initial_contact_id == neo.contact_id
                took.append(("offer while down", round(time.monotonic() - started, 2)))
                await neo.disconnect()  # ends the chat: its offer goes away
                await neo.close()
                down = [(text, seconds) for text, seconds in took if "down" in text]
            finally:
                if not failure_services.redis_up():
                    failure_services.redis_start()
            channels = (CHAT_CHANNEL, ROUTING_CHANNEL, AGENT_CHANNEL)
            await until(lambda: all(failure_services.subscribers(c) == len(cluster.nodes) for c in channels),
                        "every node subscribing again", RESUBSCRIBE_SECONDS)
            for n in range(3):
                await zoe_says(f"zoe after {n}")
                await agent_says(f"agent after {n}")

            transcript = await chat.full_transcript()
            zoe_ids, agent_ids = zoe_sent, agent_sent
            for sent in (zoe_ids, agent_ids):
                assert_once_each(sent, transcript, "the transcript")
            assert_once_each(zoe_ids, chat.received, "the agent")
            order = [i["Id"] for i in transcript if is_message(i)]
            assert [i["Id"] for i in chat.received if is_message(i)] == order  # in order, as stored
            assert arrival_order(zoe) == order  # ChatJS too (it gets its own messages back as well)
            print(f"\nwhile Redis was down, seconds from send to the other side: {down}")
            await zoe.call("disconnect")
            await agent.wait_for_contact_state(offer, "ended", timeout=15)
            await agent.clear(offer)
            await chat.close()
        finally:
            zoe.close()


def status_of(call: Callable[[], Any]) -> tuple[int, str]:
    """(HTTP status, error code) of one boto3 call that is not retried; (200, "") when it succeeds."""
    try:
        call()
    except ClientError as exc:
        meta = exc.response["ResponseMetadata"]
        return int(meta["HTTPStatusCode"]), str(exc.response["Error"].get("Code"))
    return 200, ""


async def test_a_postgresql_restart_answers_retryable_503s_and_resumes_without_restarting_parley(
        failure_cluster: Cluster, failure_services: Services) -> None:
    cluster = failure_cluster
    from tests.e2e.chatjs.harness import demo_ids, participant_client

    instance, flow = demo_ids(cluster.url)
    pids = [cluster.pid(n) for n in range(1, 4)]
    async with Agent(cluster.url, "agent5", PASSWORD, poll_seconds=10) as agent:
        zoe, offer, chat = await chat_with_agent(cluster, agent, "Yan")
        try:
            assert chat.connection_token is not None
            once = participant_client(cluster.url)  # no retries: sees each answer
            connect_once = connect_client(cluster.url)
            patient = participant_boto(cluster.url)  # standard retries, as AWS SDKs do
            zoe_sent = [(await zoe.send("yan before"), "yan before")]
            answers: list[tuple[str, int, str]] = []  # (operation, status, error code)
            during: list[tuple[str, str]] = []  # (text, client token) of each SendMessage during the outage

            def send(text: str, token: str) -> Any:
                return once.send_message(ConnectionToken=chat.connection_token, ContentType="text/plain",
                                         Content=text, ClientToken=token)

            agent_session = agent._http.cookies.get("parley_session") or ""  # the console's sign-in, as a browser's
            assert agent_session
            failure_services.pg_stop()
            try:
                outage_ends = time.monotonic() + OUTAGE_SECONDS
                retried = asyncio.get_running_loop().run_in_executor(None, lambda: patient.send_message(
                    ConnectionToken=chat.connection_token, ContentType="text/plain", Content="patient",
                    ClientToken=str(uuid.uuid4())))
                n = 0
                while time.monotonic() < outage_ends:
                    during.append((f"down {n}", str(uuid.uuid4())))
                    status, code = await asyncio.to_thread(status_of, lambda: send(*during[-1]))
                    answers.append(("SendMessage", status, code))
                    status, code = await asyncio.to_thread(status_of, lambda: connect_once.start_chat_contact(
                        InstanceId=instance, ContactFlowId=flow, ParticipantDetails={"DisplayName": "Down"}))
                    answers.append(("StartChatContact", status, code))
                    # The CTI API (the CCP's) and the pages answer 503 too, never 500.
                    cti = await asyncio.to_thread(httpx.post, cluster.url + "/api", content=orjson.dumps(
                        {"authentication": {"authToken": agent.access_token}}), headers={
                        "X-Amz-Target": "AmazonConnectCTIService.GetAgentConfiguration",
                        "Content-Type": "application/x-amz-json-1.0"}, timeout=10)
                    answers.append(("CTI", cti.status_code, str(cti.json().get("__type", ""))
                                    if cti.status_code != 200 else ""))
                    page = await asyncio.to_thread(httpx.get, cluster.url + "/admin", headers={
                        "Accept": "text/html"}, cookies={"parley_session": agent_session}, timeout=10)
                    answers.append(("page", page.status_code, "" if page.status_code in (200, 302, 403)
                                    else page.headers.get("retry-after", "")))
                    n += 1
                    await asyncio.sleep(0.2)
            finally:
                if not failure_services.pg_up():
                    failure_services.pg_start()
            patient_id = str((await retried)["Id"])  # the SDK's retries outlasted the outage

            print(f"\nanswers while PostgreSQL was down: {answers}")
            failed = [a for a in answers if a[1] != 200]
            assert failed, "no request met the outage"
            expected = {"SendMessage": "InternalServerException", "StartChatContact": "InternalServiceException",
                        "CTI": "ServiceUnavailableException", "page": "1"}
            assert all(status == 503 and code == expected[op] for op, status, code in failed), failed
            assert {op for op, _, _ in failed} == set(expected), failed

            # Everything works again, on the same processes: the failed messages retried with their tokens.
            async def resumed() -> bool:
                return await asyncio.to_thread(status_of, lambda: send("resumed", str(uuid.uuid4()))) == (200, "")

            deadline = time.monotonic() + 20
            while not await resumed():
                assert time.monotonic() < deadline, "Parley did not resume after PostgreSQL came back"
                await asyncio.sleep(0.2)
            for text, token in during:  # a retry with the same ClientToken: stored once, whatever the first try did
                await asyncio.to_thread(send, text, token)
            zoe_sent.append((await zoe.send("yan after"), "yan after"))
            await chat.wait_for(lambda i: i.get("Content") == "yan after", timeout=15)
            await zoe.wait_for(lambda i: i.get("Content") == "resumed", "the agent's message", timeout=15)
            started = connect_once.start_chat_contact(InstanceId=instance, ContactFlowId=flow,
                                                      ParticipantDetails={"DisplayName": "After"})
            assert started["ContactId"]
            assert [cluster.pid(n) for n in range(1, 4)] == pids  # no node was restarted

            # Nothing half-written: each message once, each chat's items numbered without gaps, no chat without
            # its contact and participants.
            transcript = await chat.full_transcript()
            texts = [i["Content"] for i in transcript if is_message(i)]
            assert texts.count("patient") == 1 and patient_id in {i["Id"] for i in transcript}
            for text, _ in during:
                assert texts.count(text) == 1, texts
            assert_once_each(zoe_sent, transcript, "the transcript")
            db = cluster.storage.rsplit("/", 1)[1]
            assert failure_services.psql(
                "SELECT chat_id FROM chat_items GROUP BY chat_id HAVING MAX(seq) <> COUNT(*) OR MIN(seq) <> 1",
                db) == ""
            assert failure_services.psql(
                "SELECT id FROM chats c WHERE NOT EXISTS (SELECT 1 FROM contacts k WHERE k.id = c.id) "
                "OR NOT EXISTS (SELECT 1 FROM participants p WHERE p.chat_id = c.id)", db) == ""
            await zoe.call("disconnect")
            await agent.wait_for_contact_state(offer, "ended", timeout=15)
            await agent.clear(offer)
            await chat.close()
        finally:
            zoe.close()

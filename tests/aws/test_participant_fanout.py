"""Fan-out over participant websockets: every participant sees every item exactly once and in the
transcript's order, also under 50 concurrent senders; the socket protocol ChatJS relies on; and nothing
acknowledged is lost across a server restart."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.aws.chat_helpers import (
    JOINED,
    WAIT,
    Chat,
    Party,
    Socket,
    ids,
    messages,
    new_chat,
    participant_client,
)
from tests.aws.conftest import builtin_ids
from tests.conftest import Server, serving


@pytest.fixture(scope="module")
def pc(server: Any) -> Any:
    return participant_client(server.url)


@pytest.fixture
def chat(connect: Any, pc: Any, demo: Any) -> Chat:
    return new_chat(connect, pc, demo)


def bot_of(chat: Chat) -> Party:
    assert chat.bot is not None
    return chat.bot


def after(items: list[dict[str, Any]], item_id: str) -> list[dict[str, Any]]:
    """The items that follow the one with ``item_id``."""
    return items[ids(items).index(item_id) + 1:]


def assert_same_stream(sockets: list[Socket], transcript: list[dict[str, Any]], sent: set[str]) -> None:
    """Each socket got the transcript's items after the subscription point, each once, in transcript order."""
    for sock in sockets:
        got = ids(sock.items)
        assert len(got) == len(set(got)), "an item arrived twice"
        assert set(sent) <= set(got)
    first = ids(sockets[0].items)
    for sock in sockets[1:]:
        assert ids(sock.items) == first
    start = ids(transcript).index(first[0])
    assert ids(transcript[start:]) == first


# the socket protocol ---------------------------------------------------------------------------------------


def test_subscribe_heartbeat_and_ping_replies(chat: Chat) -> None:
    sock = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
    try:
        sock.send({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
        sock.send({"topic": "aws/ping"})
        sock.send({"topic": "aws/heartbeat"})
        assert sock.wait_frame(lambda f: f.get("topic") == "aws/subscribe") == {
            "topic": "aws/subscribe", "content": {"status": "success", "topics": ["aws/chat"]}}
        ping = sock.wait_frame(lambda f: f.get("topic") == "aws/ping")
        assert (ping["statusCode"], ping["statusContent"]) == (200, "OK")
        sock.wait_frame(lambda f: f.get("topic") == "aws/heartbeat")
        sock.send({"topic": "aws/subscribe", "content": {"topics": ["aws/agent"]}})
        failure = sock.wait_frame(lambda f: f.get("content", {}).get("status") == "failure")
        assert failure["topic"] == "aws/subscribe" and failure["content"]["topics"] == ["aws/agent"]
        sock.conn.send("this is not json")
        assert "topic" in sock.wait_frame(lambda f: "topic" not in f and "message" in f)["message"]
    finally:
        sock.close()


@pytest.mark.parametrize("frame", [
    {"topic": "aws/subscribe", "content": "aws/chat"},
    {"topic": "aws/subscribe", "content": {"topics": "aws/chat"}},
    {"topic": "aws/subscribe", "content": {"topics": [1, None]}},
    {"topic": "aws/subscribe"},
    {"topic": 7},
    ["aws/ping"],
    "aws/ping",
])
def test_malformed_frames_get_an_answer_and_the_socket_lives_on(chat: Chat, frame: Any) -> None:
    sock = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
    try:
        sock.send(frame)
        answer = sock.wait_frame(lambda _f: True)
        assert answer.get("message") or answer.get("content", {}).get("status") == "failure", answer
        sock.send({"topic": "aws/ping"})
        sock.wait_frame(lambda f: f.get("topic") == "aws/ping")
        # It was not subscribed by the bad frame; a proper subscribe still works.
        said = chat.customer.send("hello")["Id"]
        sock.send({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
        sock.wait_frame(lambda f: f.get("content", {}).get("status") == "success")
        again = chat.customer.send("hello again")["Id"]
        sock.wait_item(lambda i: i["Id"] == again)
        assert said not in ids(sock.items)
    finally:
        sock.close()


def test_binary_frames_are_answered_too(chat: Chat) -> None:
    sock = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
    try:
        sock.conn.send(b'{"topic":"aws/ping"}')
        sock.wait_frame(lambda f: f.get("topic") == "aws/ping")
        sock.conn.send(bytes([0xFF, 0xFE]))
        sock.wait_frame(lambda f: "message" in f)
        assert not sock.closed.is_set()
    finally:
        sock.close()


def test_nothing_is_pushed_before_subscribe(chat: Chat) -> None:
    quiet = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
    listening = chat.customer.socket()
    try:
        first = chat.customer.send("before")["Id"]
        listening.wait_item(lambda i: i["Id"] == first)
        assert quiet.items == []
        quiet.send({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
        quiet.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        second = chat.customer.send("after")["Id"]
        quiet.wait_item(lambda i: i["Id"] == second)
        assert ids(quiet.items) == [second]
    finally:
        quiet.close()
        listening.close()


def test_at_most_five_sockets_per_participant(chat: Chat) -> None:
    sockets = [chat.customer.socket() for _ in range(5)]
    try:
        sixth = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
        assert sixth.wait_closed() == 1008
        assert any("5" in f.get("message", "") for f in sixth.frames)
        said = chat.customer.send("to all five")["Id"]
        for sock in sockets:
            sock.wait_item(lambda i: i["Id"] == said)
        sockets.pop().close()  # a slot frees when a socket closes (as soon as the server has seen the close)
        for _ in range(50):
            again = Socket.open(chat.customer.new_websocket_url(), subscribe=False)
            try:
                again.send({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}})
                again.wait_frame(lambda f: f.get("topic") == "aws/subscribe", timeout=1)
                break
            except (AssertionError, ConnectionClosed):
                again.close()
                time.sleep(0.1)
        sockets.append(again)
        said = chat.customer.send("to the new one")["Id"]
        again.wait_item(lambda i: i["Id"] == said)
    finally:
        for sock in sockets:
            sock.close()


def test_items_carry_connect_fields(chat: Chat) -> None:
    sock = bot_of(chat).socket()
    try:
        said = chat.customer.send("fields")
        item = sock.wait_item(lambda i: i["Id"] == said["Id"])
    finally:
        sock.close()
    assert item == {
        "AbsoluteTime": said["AbsoluteTime"], "Content": "fields", "ContentType": "text/plain", "Id": said["Id"],
        "Type": "MESSAGE", "ParticipantId": chat.customer.participant_id, "DisplayName": "Jane Customer",
        "ParticipantRole": "CUSTOMER", "InitialContactId": chat.contact_id, "ContactId": chat.contact_id,
    }
    frame = next(f for f in sock.frames if f.get("topic") == "aws/chat")
    assert frame["contentType"] == "application/json" and isinstance(frame["content"], str)


# fan-out ----------------------------------------------------------------------------------------------------


def test_both_participants_see_every_message_once_in_order(chat: Chat) -> None:
    bot = bot_of(chat)
    sockets = [chat.customer.socket(), bot.socket(), chat.customer.socket()]  # a refresh overlap: 2 sockets
    try:
        sent = [(chat.customer if n % 3 else bot).send(f"turn {n}")["Id"] for n in range(20)]
        for sock in sockets:
            sock.wait_items(20, lambda i: i["Type"] == "MESSAGE")
        assert ids(messages(sockets[0].items)) == sent  # sequential sends keep their order; senders see themselves
        assert_same_stream(sockets, chat.customer.items(), set(sent))
    finally:
        for sock in sockets:
            sock.close()


def test_fifty_concurrent_senders(chat: Chat) -> None:
    bot = bot_of(chat)
    sockets = [chat.customer.socket(), bot.socket()]
    senders = [chat.customer if n % 2 else bot for n in range(50)]
    start = threading.Barrier(50)

    def send(n: int) -> str:
        start.wait()
        return str(senders[n].send(f"concurrent {n}")["Id"])

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            sent = list(pool.map(send, range(50)))
        assert len(set(sent)) == 50
        for sock in sockets:
            sock.wait_items(50, lambda i: i["Type"] == "MESSAGE", timeout=30)
        time.sleep(0.3)  # nothing more (no duplicates) may trail in
        transcript = chat.customer.items()
        assert len(messages(transcript)) == 50
        assert_same_stream(sockets, transcript, set(sent))
        assert len(sockets[0].items) == 50
    finally:
        for sock in sockets:
            sock.close()


def test_a_reader_that_stalls_gets_every_frame_in_order_once_it_reads(chat: Chat) -> None:
    """A client that stops reading fills the TCP buffers, then the server's transport pauses: frames wait in
    the socket's queue and go out in order, behind the ones already in the transport, once it reads again."""
    bot = bot_of(chat)
    raw = socket.create_connection(("127.0.0.1", urlsplit(bot.websocket_url).port or 80))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    # max_queue=1: the client stops reading from its socket while a received message waits for recv().
    with ws_connect(bot.new_websocket_url(), sock=raw, open_timeout=WAIT, max_size=None, max_queue=1,
                    proxy=None, ping_interval=None) as stalled:
        stalled.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
        assert json.loads(stalled.recv(WAIT))["topic"] == "aws/subscribe"
        filler = "x" * 8000
        # 5.6 MB of frames: more than the kernel buffers of the stalled connection take (its receive buffer is
        # 64 KiB, the server's send buffer grows up to net.ipv4.tcp_wmem's 4 MiB), so the server's transport
        # pauses with frames still to write (checked by counting the writes that waited: 200 or so).
        sent = [chat.customer.send(f"{n} {filler}")["Id"] for n in range(700)]
        got: list[str] = []
        while len(got) < len(sent):
            item = json.loads(json.loads(stalled.recv(WAIT))["content"])
            if item["Type"] == "MESSAGE":
                got.append(item["Id"])
        assert got == sent


def test_concurrent_senders_across_chats_do_not_mix(connect: Any, pc: Any, demo: Any) -> None:
    chats = [new_chat(connect, pc, demo) for _ in range(3)]
    sockets = {c.contact_id: [c.customer.socket(), bot_of(c).socket()] for c in chats}

    def send(n: int) -> tuple[str, str]:
        target = chats[n % 3]
        party = target.customer if n % 2 else bot_of(target)
        return target.contact_id, str(party.send(f"chat {n % 3} message {n}")["Id"])

    try:
        with ThreadPoolExecutor(max_workers=30) as pool:
            sent = list(pool.map(send, range(60)))
        for target in chats:
            mine = {item_id for contact, item_id in sent if contact == target.contact_id}
            for sock in sockets[target.contact_id]:
                sock.wait_items(len(mine), lambda i: i["Type"] == "MESSAGE", timeout=30)
            time.sleep(0.1)
            transcript = target.customer.items()
            assert set(ids(messages(transcript))) == mine
            assert_same_stream(sockets[target.contact_id], transcript, mine)
            assert {i["InitialContactId"] for s in sockets[target.contact_id] for i in s.items} == {target.contact_id}
    finally:
        for group in sockets.values():
            for sock in group:
                sock.close()


# durability -------------------------------------------------------------------------------------------------


@pytest.fixture
def own_server() -> Iterator[Server]:
    with serving(["--demo"]) as srv:
        yield srv


def demo_of(srv: Server) -> Any:
    client = srv.connect()
    instance = next(i["Id"] for i in client.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    return client, builtin_ids(client, instance)


def test_acknowledged_messages_survive_a_restart(own_server: Server) -> None:
    client, demo = demo_of(own_server)
    pc = participant_client(own_server.url)
    chat = new_chat(client, pc, demo)
    with ThreadPoolExecutor(max_workers=20) as pool:
        sent = list(pool.map(lambda n: (chat.customer if n % 2 else bot_of(chat)).send(f"m{n}")["Id"], range(40)))
    before = chat.customer.items()

    own_server.restart()
    after_restart = chat.customer.items()
    assert after_restart == before
    assert set(sent) <= set(ids(after_restart))
    # Tokens live in the database: the same connection token, participant token and bot keep working.
    more = chat.customer.send("after the restart")["Id"]
    sock = bot_of(chat).socket()
    try:
        again = chat.customer.send("pushed after the restart")["Id"]
        sock.wait_item(lambda i: i["Id"] == again)
    finally:
        sock.close()
    assert ids(chat.customer.items()) == [*ids(before), more, again]


def test_messages_acknowledged_while_the_server_stops_are_kept(own_server: Server) -> None:
    client, demo = demo_of(own_server)
    pc = participant_client(own_server.url)
    chat = new_chat(client, pc, demo)
    acknowledged: list[str] = []
    refusals: list[ClientError] = []
    stop = threading.Event()

    def keep_sending(party: Party, name: str) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                acknowledged.append(party.send(f"{name} {n}")["Id"])
            except ClientError as exc:  # an answer that is not a 200 must not happen either
                refusals.append(exc)
            except Exception:  # the server is down: connection refused or reset
                time.sleep(0.05)

    workers = [threading.Thread(target=keep_sending, args=(party, name))
               for party, name in ((chat.customer, "customer"), (bot_of(chat), "bot")) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    own_server.restart()
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert not refusals, [r.response for r in refusals]
    assert len(acknowledged) > 10
    items = chat.customer.items()
    stored = ids(items)
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged messages were lost"
    assert len(stored) == len(set(stored))
    # A message may commit while its answer is lost to the shutdown, so the transcript may hold a few more.
    assert [i["ContentType"] for i in items[:2]] == [JOINED, JOINED]
    assert all(i["Type"] == "MESSAGE" for i in items[2:])

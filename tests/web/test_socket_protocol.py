"""The protocol both websockets share (``parley.web.socket_protocol``), without a server: what each frame is
answered, when subscribing attaches and unsubscribing detaches, the subscribe timeout, the lifetime, and the
clean-up when the socket goes. The bytes on the wire, from real servers, are in ``test_socket_wire.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from parley.web.socket_protocol import (
    HEARTBEAT_ANSWER,
    PING_ANSWER,
    SUBSCRIBE,
    UNSUBSCRIBE,
    Request,
    SocketProtocol,
    read_request,
)

MALFORMED = '{"message":"nope"}'
SUB = b'{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
UNSUB = b'{"topic":"aws/unsubscribe","content":{"topics":["aws/chat"]}}'


def strict(**kw: Any) -> SocketProtocol:
    return SocketProtocol("participant", MALFORMED, 60.0, only_chat=True, **kw)


def lenient(**kw: Any) -> SocketProtocol:
    return SocketProtocol("agent", MALFORMED, 60.0, **kw)


@pytest.mark.parametrize(("data", "request_"), [
    (b'{"topic":"aws/ping"}', Request("aws/ping", [])),
    ('{"topic":"aws/ping"}', Request("aws/ping", [])),
    (SUB, Request("aws/subscribe", ["aws/chat"])),
    (b'{"topic":"aws/subscribe","content":{"topics":"aws/chat"}}', Request("aws/subscribe", [])),
    (b'{"topic":"aws/subscribe","content":["aws/chat"]}', Request("aws/subscribe", [])),
    (b'{"topic":5}', Request(None, [])),
    (b'{"topic":["aws/ping"]}', Request(None, [])),
    (b"[1]", Request(None, [])),
    (b"", Request(None, [])),
    (b"\xff", Request(None, [])),
])
def test_read_request(data: bytes | str, request_: Request) -> None:
    assert read_request(data) == request_


def test_heartbeat_ping_and_anything_else_are_answered_alike_by_both() -> None:
    for protocol in (strict(), lenient()):
        assert protocol.answer(Request("aws/heartbeat", [])) == (HEARTBEAT_ANSWER, None)
        assert protocol.answer(Request("aws/ping", [])) == (PING_ANSWER, None)
        for topic in (None, "", "aws/chat", "aws/other", "AWS/PING"):
            assert protocol.answer(Request(topic, [])) == (MALFORMED, None)


def test_a_strict_socket_refuses_any_topic_but_aws_chat_and_changes_nothing() -> None:
    for topic in (SUBSCRIBE, UNSUBSCRIBE):
        for topics in ([], ["aws/other"], ["aws/chat", "x"]):
            text, change = strict().answer(Request(topic, list(topics)))
            assert change is None
            assert orjson.loads(text)["content"]["status"] == "failure"
            assert orjson.loads(text)["content"]["topics"] == topics
        text, change = strict().answer(Request(topic, ["aws/chat"]))
        assert change == topic
        assert orjson.loads(text) == {"topic": topic, "content": {"status": "success", "topics": ["aws/chat"]}}


def test_a_lenient_socket_says_success_to_any_topics_and_acts_on_aws_chat_only() -> None:
    for topic in (SUBSCRIBE, UNSUBSCRIBE):
        assert lenient().answer(Request(topic, ["aws/other"]))[1] is None
        assert lenient().answer(Request(topic, []))[1] is None
        text, change = lenient().answer(Request(topic, ["x", "aws/chat"]))
        assert change == topic
        assert orjson.loads(text)["content"] == {"status": "success", "topics": ["x", "aws/chat"]}


class Socket:
    """Stands in for Starlette's WebSocket: ``receive`` returns what the test feeds."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def feed(self, data: bytes | str, binary: bool = False) -> None:
        key = "bytes" if binary else "text"
        self.inbox.put_nowait({"type": "websocket.receive", key: data})

    def hang_up(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()


class Out:
    def __init__(self) -> None:
        self.participant_id = "p"
        self.pushed: list[str] = []
        self.finished: list[int] = []
        self.stopped = False

    def push(self, frame: str) -> None:
        self.pushed.append(frame)

    def finish(self, code: int = 1000) -> None:
        self.finished.append(code)

    async def stop(self) -> None:
        self.stopped = True


class Attached:
    def __init__(self) -> None:
        self.log: list[str] = []

    async def attach(self) -> None:
        self.log.append("attach")

    def detach(self) -> None:
        self.log.append("detach")

    async def close(self) -> None:
        self.log.append("close")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_subscribing_attaches_once_and_unsubscribing_detaches() -> None:
    socket, out, attached = Socket(), Out(), Attached()
    task = asyncio.create_task(strict().serve(socket, out, attached))  # type: ignore[arg-type]
    socket.feed(UNSUB)  # not subscribed: answered, nothing to detach
    socket.feed(SUB)
    socket.feed(SUB, binary=True)  # already subscribed
    socket.feed(b'{"topic":"aws/subscribe","content":{"topics":["x"]}}')  # refused: no change
    socket.feed(UNSUB)
    socket.feed(b"{}")
    await settle()
    assert attached.log == ["attach", "detach"]
    assert len(out.pushed) == 6 and out.pushed[-1] == MALFORMED
    socket.hang_up()
    await task
    assert attached.log == ["attach", "detach", "close"] and out.stopped and out.finished == []


async def test_a_socket_that_does_not_subscribe_in_time_is_closed_1008_and_the_timer_restarts() -> None:
    socket, out, attached = Socket(), Out(), Attached()
    task = asyncio.create_task(strict(subscribe_timeout=0.05).serve(socket, out, attached))  # type: ignore[arg-type]
    socket.feed(SUB)
    await asyncio.sleep(0.1)
    assert out.finished == [], "subscribed in time"
    socket.feed(UNSUB)
    await asyncio.sleep(0.1)
    assert out.finished == [1008], "unsubscribed: the timeout runs again"
    socket.hang_up()
    await task


async def test_without_a_subscribe_timeout_an_idle_socket_stays_and_its_lifetime_ends_it_1001() -> None:
    socket, out, attached = Socket(), Out(), Attached()
    protocol = SocketProtocol("agent", MALFORMED, 0.1)
    task = asyncio.create_task(protocol.serve(socket, out, attached))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert out.finished == []
    await asyncio.sleep(0.1)
    assert out.finished == [1001]
    socket.hang_up()
    await task
    assert attached.log == ["close"]


async def test_a_failure_is_logged_and_still_cleans_up(caplog: pytest.LogCaptureFixture) -> None:
    socket, out = Socket(), Out()

    class Broken(Attached):
        async def attach(self) -> None:
            raise RuntimeError("storage down")

    attached = Broken()
    task = asyncio.create_task(lenient().serve(socket, out, attached))  # type: ignore[arg-type]
    socket.feed(SUB)
    await task
    assert attached.log == ["close"] and out.stopped
    assert "agent websocket failed" in caplog.text

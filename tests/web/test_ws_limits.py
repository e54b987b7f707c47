"""Inbound websocket limits on a real ``parley serve --demo``, with a sans-I/O ``websockets`` client over a plain
socket (so a test can send what a well-behaved client library never would: a bare frame header, invalid UTF-8, a
flood in one write): frames over 32 KB and messages over 128 KB closed 1009 without being read, a flood closed
1008, the 5-socket cap counted from accept, the subscribe timeout, and one log line, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.aws.chat_helpers import Chat, new_chat, participant_client
from tests.aws.conftest import DemoIds, builtin_ids
from tests.conftest import Server, serving

# How long a test waits for an answer or a close before it fails.
WAIT = 10.0
# The server's subscribe timeout in these tests (seconds): short, so the test is quick.
SUBSCRIBE_TIMEOUT = 2.0
KB = 1024
HEARTBEAT = '{"topic":"aws/heartbeat"}'
SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'


class Raw:
    """A websocket client: the ``websockets`` sans-I/O protocol over a blocking socket."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
        self.proto = ClientProtocol(parse_uri(url), max_size=None)
        self.proto.send_request(self.proto.connect())
        self.flush()
        self.frames: list[dict[str, Any]] = []
        self.eof = False
        response = self._next(lambda e: isinstance(e, Response))
        assert isinstance(response, Response) and response.status_code == 101, response

    def flush(self) -> None:
        self.sock.sendall(b"".join(self.proto.data_to_send()))

    def send(self, text: str) -> None:
        self.proto.send_text(text.encode())
        self.flush()

    def _read(self) -> list[Any]:
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        if data:
            self.proto.receive_data(data)
        else:
            self.eof = True
            self.proto.receive_eof()
        events = self.proto.events_received()
        for event in events:
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.frames.append(json.loads(event.data))
        with_pongs = self.proto.data_to_send()  # pongs and the close echo
        if with_pongs and not self.eof:
            with contextlib.suppress(OSError):
                self.sock.sendall(b"".join(with_pongs))
        return events

    def _next(self, match: Any) -> Any:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not self.eof:
            for event in self._read():
                if match(event):
                    return event
        raise AssertionError(f"nothing matched; frames so far: {self.frames}")

    def wait_frame(self, match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while True:
            found = next((f for f in self.frames if match(f)), None)
            if found is not None:
                return found
            assert time.monotonic() < deadline and not self.eof, f"no such frame; frames: {self.frames}"
            self._read()

    def close_code(self, timeout: float = WAIT) -> int | None:
        """Read until the server's close frame (or EOF); its code (None when the server sent none)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while self.proto.close_rcvd is None and not self.eof:
            assert time.monotonic() < deadline, "the server did not close the socket"
            self._read()
        return self.proto.close_rcvd.code if self.proto.close_rcvd else None

    def is_open(self, wait: float = 0.3) -> bool:
        """Still open after ``wait`` seconds of reading."""
        self.sock.settimeout(wait)
        try:
            self._read()
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(WAIT)
        return self.proto.close_rcvd is None and not self.eof

    def close(self) -> None:
        self.sock.close()


def frame_header(length: int, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A masked client frame's header announcing ``length`` payload bytes (the payload itself not sent)."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + os.urandom(4)


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    with serving(["--demo", "--websocket-subscribe-timeout", str(SUBSCRIBE_TIMEOUT)]) as srv:
        yield srv


@pytest.fixture(scope="module")
def pc(limited: Server) -> Any:
    return participant_client(limited.url)


@pytest.fixture(scope="module")
def demo(limited: Server) -> DemoIds:
    connect = limited.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    return builtin_ids(connect, instance)


@pytest.fixture
def chat(limited: Server, pc: Any, demo: DemoIds) -> Chat:
    return new_chat(limited.connect(), pc, demo, bot=False)


def no_traceback(server: Server) -> None:
    log = server.log()
    assert "Traceback" not in log, log[-4000:]


def answered(sock: Raw, count: int) -> None:
    """Wait until ``count`` heartbeat replies arrived."""
    deadline = time.monotonic() + WAIT
    while sum(1 for f in sock.frames if f.get("topic") == "aws/heartbeat") < count:
        assert time.monotonic() < deadline and not sock.eof, f"{count} heartbeats not answered: {sock.frames}"
        sock._read()


# sizes ------------------------------------------------------------------------------------------------------


def test_a_32_kb_frame_is_served_and_a_33_kb_frame_closes_1009(limited: Server, chat: Chat) -> None:
    sock = Raw(chat.customer.new_websocket_url())
    try:
        full = HEARTBEAT[:-1] + ',"pad":"' + "x" * (32 * KB - len(HEARTBEAT) - 9) + '"}'
        assert len(full) == 32 * KB
        sock.send(full)
        answered(sock, 1)
        sock.send(HEARTBEAT[:-1] + ',"pad":"' + "x" * (33 * KB) + '"}')
        assert sock.close_code() == 1009
    finally:
        sock.close()
    assert "with 1009" in limited.log()
    no_traceback(limited)


def test_an_oversized_frame_is_refused_from_its_header_alone(limited: Server, chat: Chat) -> None:
    """The header of a 1 MB frame, and not one byte of its payload: the server cannot be waiting for it."""
    sock = Raw(chat.customer.new_websocket_url())
    try:
        sock.sock.sendall(frame_header(1024 * KB))
        assert sock.close_code(timeout=5) == 1009
    finally:
        sock.close()
    no_traceback(limited)


def test_a_fragmented_message_over_128_kb_closes_1009(limited: Server, chat: Chat) -> None:
    sock = Raw(chat.customer.new_websocket_url())
    try:
        # 4 fragments of 30 KB (120 KB): one message within the limits, answered
        body = HEARTBEAT[:-1] + ',"pad":"' + "x" * (120 * KB - len(HEARTBEAT) - 9) + '"}'
        pieces = [body[n:n + 30 * KB].encode() for n in range(0, len(body), 30 * KB)]
        assert len(pieces) == 4 and all(len(p) <= 32 * KB for p in pieces)
        sock.proto.send_text(pieces[0], fin=False)
        for piece in pieces[1:-1]:
            sock.proto.send_continuation(piece, fin=False)
        sock.proto.send_continuation(pieces[-1], fin=True)
        sock.flush()
        answered(sock, 1)
        # 5 fragments of 30 KB (150 KB), each frame within 32 KB: the message is too big
        sock.proto.send_text(b"[" + b" " * (30 * KB - 1), fin=False)
        for _ in range(4):
            sock.proto.send_continuation(b" " * (30 * KB), fin=False)
        sock.flush()
        assert sock.close_code() == 1009
    finally:
        sock.close()
    no_traceback(limited)


def test_a_text_message_that_is_not_utf8_closes_1007_without_a_traceback(limited: Server, chat: Chat) -> None:
    sock = Raw(chat.customer.new_websocket_url())
    try:
        sock.proto.send_text(b'{"topic":"\xff\xfe"}')
        sock.flush()
        assert sock.close_code() == 1007
    finally:
        sock.close()
    no_traceback(limited)


# rate ---------------------------------------------------------------------------------------------------------


def test_a_burst_like_chatjs_is_served(limited: Server, chat: Chat) -> None:
    """What ChatJS sends on open, then a page's worth of retries: 20 frames at once are all answered."""
    sock = Raw(chat.customer.new_websocket_url())
    try:
        sock.proto.send_text(SUBSCRIBE.encode())
        sock.proto.send_text(b'{"topic":"aws/ping"}')
        for _ in range(18):
            sock.proto.send_text(HEARTBEAT.encode())
        sock.flush()
        answered(sock, 18)
        sock.wait_frame(lambda f: f.get("topic") == "aws/ping")
        assert sock.is_open()
    finally:
        sock.close()


def test_a_flood_is_closed_1008_and_other_chats_are_served(limited: Server, chat: Chat, pc: Any,
                                                           demo: DemoIds) -> None:
    other = new_chat(limited.connect(), pc, demo, bot=False)
    bystander = Raw(other.customer.new_websocket_url())
    flooder = Raw(chat.customer.new_websocket_url())
    try:
        bystander.send(SUBSCRIBE)
        bystander.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        for _ in range(20_000 // 500):  # 20,000 subscribe/unsubscribe frames, as fast as the socket takes them
            for n in range(500):
                topic = "aws/subscribe" if n % 2 == 0 else "aws/unsubscribe"
                flooder.proto.send_text(f'{{"topic":"{topic}","content":{{"topics":["aws/chat"]}}}}'.encode())
            try:
                flooder.flush()
            except OSError:
                break  # the server closed the connection
        assert flooder.close_code() == 1008
        answers = [f for f in flooder.frames if f.get("topic") in ("aws/subscribe", "aws/unsubscribe")]
        assert len(answers) <= 20, len(answers)
        said = other.customer.send("still here")["Id"]
        item = bystander.wait_frame(lambda f: f.get("topic") == "aws/chat" and json.loads(f["content"])["Id"] == said)
        assert item
    finally:
        flooder.close()
        bystander.close()
    assert "with 1008: more than 20 frames" in limited.log()
    no_traceback(limited)


# the 5-socket cap ---------------------------------------------------------------------------------------------


def test_the_sixth_socket_is_refused_before_any_subscribe_and_a_closed_one_frees_its_slot(
        limited: Server, chat: Chat) -> None:
    party = chat.customer
    held = [Raw(party.new_websocket_url()) for _ in range(5)]  # none subscribes
    try:
        for sock in held:
            sock.send(HEARTBEAT)
            answered(sock, 1)
        sixth = Raw(party.new_websocket_url())
        assert sixth.close_code() == 1008
        assert any("at most 5" in f.get("message", "") for f in sixth.frames), sixth.frames
        sixth.close()
        held.pop().close()  # the slot frees once the server has seen the socket go
        for _ in range(50):
            again = Raw(party.new_websocket_url())
            if again.is_open(0.2):
                break
            again.close()
        else:
            raise AssertionError("a closed socket's slot was not freed")
        held.append(again)
        again.send(SUBSCRIBE)
        again.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        said = party.send("to the new one")["Id"]
        again.wait_frame(lambda f: f.get("topic") == "aws/chat" and json.loads(f["content"])["Id"] == said)
    finally:
        for sock in held:
            sock.close()
    no_traceback(limited)


# the subscribe timeout ----------------------------------------------------------------------------------------


def test_a_socket_that_never_subscribes_is_closed_1008(limited: Server, chat: Chat) -> None:
    quiet = Raw(chat.customer.new_websocket_url())
    listening = Raw(chat.customer.new_websocket_url())
    try:
        listening.send(SUBSCRIBE)
        listening.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        quiet.send(HEARTBEAT)  # heartbeats do not count: only aws/subscribe does
        answered(quiet, 1)
        assert quiet.close_code(timeout=SUBSCRIBE_TIMEOUT + WAIT) == 1008
        assert listening.is_open(SUBSCRIBE_TIMEOUT / 2)
    finally:
        quiet.close()
        listening.close()
    assert "no aws/subscribe within" in limited.log()
    no_traceback(limited)

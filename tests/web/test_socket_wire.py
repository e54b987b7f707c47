"""The exact bytes both websockets (the participant socket and the agent socket) answer to each frame a client
can send: ``aws/subscribe`` (accepted, refused topics, no topics), ``aws/unsubscribe``, ``aws/heartbeat``,
``aws/ping``, malformed frames and binary frames.

The expected bytes were recorded from the server before the two sockets shared one protocol module
(``parley.web.socket_protocol``) and are kept here as literals: the wire must not change by a byte. A raw socket
reads them, so what is compared is the whole frame the server wrote (header and payload), not a parse of it.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.aws.chat_helpers import Party, new_chat, participant_client
from tests.aws.conftest import builtin_ids
from tests.conftest import Server, start_server
from tests.web.test_ws_limits_agent import agent_socket_url

# How long a test waits for an answer before it fails.
WAIT = 10.0
# The server's subscribe timeout here (seconds): long enough for the requests sent before the subscribe.
SUBSCRIBE_TIMEOUT = 6.0
# Seconds between two requests: the frame budget refills 10 frames a second, so the sequence never exhausts it.
PACE = 0.1

# What a client sends (a label, the frame, whether it goes as a binary frame), in this order on one socket.
REQUESTS: list[tuple[str, bytes, bool]] = [
    ("heartbeat", b'{"topic":"aws/heartbeat"}', False),
    ("ping", b'{"topic":"aws/ping"}', False),
    ("heartbeat with extra members", b'{"topic":"aws/heartbeat","content":{"x":1}}', False),
    ("subscribe bad topic", b'{"topic":"aws/subscribe","content":{"topics":["aws/other"]}}', False),
    ("subscribe mixed topics", b'{"topic":"aws/subscribe","content":{"topics":["aws/chat","x"]}}', False),
    ("subscribe empty topics", b'{"topic":"aws/subscribe","content":{"topics":[]}}', False),
    ("subscribe no content", b'{"topic":"aws/subscribe"}', False),
    ("subscribe content of the wrong type", b'{"topic":"aws/subscribe","content":"aws/chat"}', False),
    ("subscribe topics of the wrong type", b'{"topic":"aws/subscribe","content":{"topics":"aws/chat"}}', False),
    ("unsubscribe before subscribing", b'{"topic":"aws/unsubscribe","content":{"topics":["aws/chat"]}}', False),
    ("subscribe ok", b'{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}', False),
    ("subscribe again", b'{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}', False),
    ("unsubscribe bad topic", b'{"topic":"aws/unsubscribe","content":{"topics":["aws/other"]}}', False),
    ("unsubscribe", b'{"topic":"aws/unsubscribe","content":{"topics":["aws/chat"]}}', False),
    ("unsubscribe again", b'{"topic":"aws/unsubscribe","content":{"topics":["aws/chat"]}}', False),
    ("malformed: not JSON", b"not json", False),
    ("malformed: a list", b"[1,2]", False),
    ("malformed: unknown topic", b'{"topic":"aws/other"}', False),
    ("malformed: no topic", b"{}", False),
    ("malformed: a topic that is not a string", b'{"topic":5}', False),
    ("malformed: empty", b"", False),
    ("malformed: unicode", '{"topic":"aws/héartbeat"}'.encode(), False),
    ("binary heartbeat", b'{"topic":"aws/heartbeat"}', True),
    ("binary garbage", bytes([0x00, 0xFF, 0xFE]), True),
    ("binary subscribe", b'{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}', True),
    ("ping after all that", b'{"topic":"aws/ping"}', False),
]

_HEARTBEAT = b'\x81\x19{"topic":"aws/heartbeat"}'

# Recorded from the server before the refactoring (commit 329727b), one answer frame per request, verbatim.
PARTICIPANT: dict[str, bytes] = {
    "heartbeat": b'\x81\x19{"topic":"aws/heartbeat"}',
    "ping": b'\x81:{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}',
    "heartbeat with extra members": b'\x81\x19{"topic":"aws/heartbeat"}',
    "subscribe bad topic": (
        b'\x81~\x00\xa2{"topic":"aws/subscribe","content":{"status":"failure","topics":["aws/other"],"message":'
        b'"Send {\\"topics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "subscribe mixed topics": (
        b'\x81~\x00\xa5{"topic":"aws/subscribe","content":{"status":"failure","topics":["aws/chat","x"],"messag'
        b'e":"Send {\\"topics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "subscribe empty topics": (
        b'\x81~\x00\x97{"topic":"aws/subscribe","content":{"status":"failure","topics":[],"message":"Send {\\"t'
        b'opics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "subscribe no content": (
        b'\x81~\x00\x97{"topic":"aws/subscribe","content":{"status":"failure","topics":[],"message":"Send {\\"t'
        b'opics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "subscribe content of the wrong type": (
        b'\x81~\x00\x97{"topic":"aws/subscribe","content":{"status":"failure","topics":[],"message":"Send {\\"t'
        b'opics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "subscribe topics of the wrong type": (
        b'\x81~\x00\x97{"topic":"aws/subscribe","content":{"status":"failure","topics":[],"message":"Send {\\"t'
        b'opics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "unsubscribe before subscribing": (
        b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}'),
    "subscribe ok": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "subscribe again": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "unsubscribe bad topic": (
        b'\x81~\x00\xa4{"topic":"aws/unsubscribe","content":{"status":"failure","topics":["aws/other"],"message'
        b'":"Send {\\"topics\\": [\\"aws/chat\\"]}: only aws/chat can be subscribed to."}}'),
    "unsubscribe": b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "unsubscribe again": b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "malformed: not JSON": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: a list": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: unknown topic": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: no topic": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: a topic that is not a string": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: empty": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "malformed: unicode": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "binary heartbeat": b'\x81\x19{"topic":"aws/heartbeat"}',
    "binary garbage": (
        b'\x81m{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat o'
        b'r aws/ping."}'),
    "binary subscribe": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "ping after all that": b'\x81:{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}',
}

AGENT: dict[str, bytes] = {
    "heartbeat": b'\x81\x19{"topic":"aws/heartbeat"}',
    "ping": b'\x81:{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}',
    "heartbeat with extra members": b'\x81\x19{"topic":"aws/heartbeat"}',
    "subscribe bad topic": b'\x81O{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/other"]}}',
    "subscribe mixed topics": (
        b'\x81R{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat","x"]}}'),
    "subscribe empty topics": b'\x81D{"topic":"aws/subscribe","content":{"status":"success","topics":[]}}',
    "subscribe no content": b'\x81D{"topic":"aws/subscribe","content":{"status":"success","topics":[]}}',
    "subscribe content of the wrong type": b'\x81D{"topic":"aws/subscribe","content":{"status":"success","topics":[]}}',
    "subscribe topics of the wrong type": b'\x81D{"topic":"aws/subscribe","content":{"status":"success","topics":[]}}',
    "unsubscribe before subscribing": (
        b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}'),
    "subscribe ok": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "subscribe again": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "unsubscribe bad topic": b'\x81Q{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/other"]}}',
    "unsubscribe": b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "unsubscribe again": b'\x81P{"topic":"aws/unsubscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "malformed: not JSON": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: a list": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: unknown topic": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: no topic": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: a topic that is not a string": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: empty": b'\x81){"message":"Unknown or malformed frame."}',
    "malformed: unicode": b'\x81){"message":"Unknown or malformed frame."}',
    "binary heartbeat": b'\x81\x19{"topic":"aws/heartbeat"}',
    "binary garbage": b'\x81){"message":"Unknown or malformed frame."}',
    "binary subscribe": b'\x81N{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}',
    "ping after all that": b'\x81:{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}',
}

class RawBytes:
    """A websocket client over a blocking socket that keeps the exact bytes the server wrote for each answer."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
        self.proto = ClientProtocol(parse_uri(url), max_size=None)  # offers no extension: frames are plain
        self.proto.send_request(self.proto.connect())
        self._flush()
        self.pending: list[Any] = []
        while not any(isinstance(e, Response) for e in self.pending):
            self._read()
        response = next(e for e in self.pending if isinstance(e, Response))
        assert response.status_code == 101, response
        assert not any(isinstance(e, Frame) for e in self.pending), "the server spoke first"
        self.pending.clear()

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.proto.data_to_send()))

    def _read(self) -> bytes:
        data = self.sock.recv(1 << 16)
        assert data, "the server closed the connection"
        self.proto.receive_data(data)
        self.pending.extend(self.proto.events_received())
        return data

    def ask(self, payload: bytes, binary: bool) -> bytes:
        """Send one frame; the raw bytes of the server's one answer frame."""
        if binary:
            self.proto.send_binary(payload)
        else:
            self.proto.send_text(payload)
        self._flush()
        raw = b""
        deadline = time.monotonic() + WAIT
        while not self.pending:
            assert time.monotonic() < deadline, "no answer"
            raw += self._read()
        assert len(self.pending) == 1 and isinstance(self.pending[0], Frame), self.pending
        self.pending.clear()
        time.sleep(PACE)  # within the socket's frame budget (10 a second after a burst of 20)
        return raw

    def quiet(self, wait: float = 0.3) -> bool:
        """Nothing more arrives within ``wait`` seconds."""
        self.sock.settimeout(wait)
        try:
            self.sock.recv(1 << 16)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(WAIT)
        return False

    def close(self) -> None:
        self.sock.close()


def until_closed(url: str, send: bytes | None = None) -> bytes:
    """The raw bytes the server writes after the handshake up to and including its close frame (after sending
    ``send`` as a text frame, if given)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT + SUBSCRIBE_TIMEOUT)
    proto = ClientProtocol(parse_uri(url), max_size=None)
    proto.send_request(proto.connect())
    try:
        sock.sendall(b"".join(proto.data_to_send()))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(1 << 16)
            assert chunk, "closed during the handshake"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        proto.receive_data(data)
        if send is not None:
            proto.send_text(send)
            sock.sendall(b"".join(proto.data_to_send()))
        while proto.close_rcvd is None:
            chunk = sock.recv(1 << 16)
            assert chunk, "closed without a close frame"
            rest += chunk
            proto.receive_data(chunk)
        return rest
    finally:
        sock.close()


def answers(url: str) -> dict[str, bytes]:
    sock = RawBytes(url)
    try:
        got = {label: sock.ask(payload, binary) for label, payload, binary in REQUESTS}
        assert sock.quiet(), "a frame nobody asked for"
        return got
    finally:
        sock.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = start_server(["--demo", "--websocket-subscribe-timeout", str(SUBSCRIBE_TIMEOUT)])
    yield srv
    srv.stop()
    shutil.rmtree(srv.data_dir, ignore_errors=True)


def new_customer(server: Server) -> Party:
    connect = server.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    return new_chat(connect, participant_client(server.url), builtin_ids(connect, instance), bot=False).customer


def participant_url(server: Server) -> str:
    return new_customer(server).new_websocket_url()


def _compare(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    wrong = {label: (got[label], expected[label]) for label in expected if got[label] != expected[label]}
    assert not wrong, "\n".join(f"{label}: got {g!r}, expected {e!r}" for label, (g, e) in wrong.items())


def test_the_participant_socket_answers_byte_for_byte(server: Server) -> None:
    _compare(answers(participant_url(server)), PARTICIPANT)
    assert "Traceback" not in server.log()


def test_the_agent_socket_answers_byte_for_byte(server: Server) -> None:
    _compare(answers(agent_socket_url(server)), AGENT)
    assert "Traceback" not in server.log()


def test_the_participant_socket_refuses_a_sixth_socket_byte_for_byte(server: Server) -> None:
    customer = new_customer(server)
    held = [RawBytes(customer.new_websocket_url()) for _ in range(5)]
    try:
        for sock in held:
            assert sock.ask(b'{"topic":"aws/heartbeat"}', False) == _HEARTBEAT
        assert until_closed(customer.new_websocket_url()) == (
            b'\x81J{"message":"A participant may hold at most 5 open websocket connections."}'
            b"\x88\x16\x03\xf0Too many connections")
    finally:
        for sock in held:
            sock.close()


def test_the_participant_socket_closes_without_a_subscribe_byte_for_byte(server: Server) -> None:
    url = new_customer(server).new_websocket_url()
    assert until_closed(url, b'{"topic":"aws/heartbeat"}') == _HEARTBEAT + b"\x88\x02\x03\xf0"

"""Load shedding decided in the HTTP protocol, as soon as a request head is parsed.

Against a real server (raw sockets, so every byte of the answer is checked): a refused request gets the service's
own 429 at once (before its body is even sent), its body is dropped and the connection carries the next request,
and a refused SendMessage stores nothing. Saturation is made as in ``test_admission_server.py``: another
connection holds the SQLite write lock, so the oldest queued SendMessage waits longer and longer.

In process, with a fake transport: a refused request never gets a task (the application is not called), and
pipelined requests after it are served.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from uvicorn.config import Config as UvicornConfig
from uvicorn.server import ServerState

from parley.web.server.httpprotocol import ConnectionGuard
from tests.conftest import Server, serving
from tests.web.test_admission_server import participant, start_chat

# New connections opened at once, each sending one SendMessage that waits behind the lock unless refused.
WAVE = 16
MAX_CONNECTIONS = 320
# How long the test keeps adding connections before it fails for want of a refusal (the lock is held meanwhile).
DEADLINE = 30.0
# How long a refused request's answer may take to come back before the test fails (not a speed check: an accepted
# one would wait for the lock, held until the end of the test).
ANSWER_WAIT = 10.0
REQUEST_ID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def srv() -> Iterator[Server]:
    with serving(["--demo"]) as server:
        yield server


def send_message(port: int, token: str, content: str, *, body: bool = True) -> tuple[bytes, bytes]:
    """A SendMessage as raw bytes: (head, body)."""
    data = json.dumps({"ContentType": "text/plain", "Content": content, "ClientToken": str(uuid.uuid4())}).encode()
    head = (f"POST /participant/message HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nx-amz-bearer: {token}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n").encode()
    return head, data


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(b":", 1) for line in lines[1:])}
    body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return int(lines[0].split(b" ")[1]), headers, body


class Probe:
    """One keep-alive connection that sent a SendMessage and waits for its answer."""

    def __init__(self, content: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.content = content
        self.reader = reader
        self.writer = writer
        self.answer: asyncio.Task[tuple[int, dict[bytes, bytes], bytes]] = asyncio.ensure_future(
            read_answer(reader))


async def open_probe(port: int, token: str, content: str) -> Probe:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(send_message(port, token, content)))
    return Probe(content, reader, writer)


def assert_participant_throttling(status: int, headers: dict[bytes, bytes], body: bytes) -> None:
    assert status == 429
    assert headers[b"x-amzn-errortype"] == b"ThrottlingException"
    assert REQUEST_ID.fullmatch(headers[b"x-amzn-requestid"]), headers
    assert headers[b"access-control-allow-origin"] == b"*"
    assert b"x-amzn-requestid" in headers[b"access-control-expose-headers"]
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body)["Message"].startswith("Rate exceeded")
    assert b"connection" not in headers, "the connection stays open"


async def overload(srv: Server, token: str) -> tuple[list[Probe], list[str]]:
    """With the database locked: probes until one is refused, then what the test checks on that connection.
    Returns every probe (the accepted ones answer once the lock is gone) and the contents refused."""
    probes: list[Probe] = []
    refused: list[str] = []
    deadline = time.monotonic() + DEADLINE
    first: Probe | None = None
    while first is None:
        assert time.monotonic() < deadline and len(probes) < MAX_CONNECTIONS, "nothing was refused"
        probes += await asyncio.gather(*(open_probe(srv.port, token, f"probe {len(probes) + k}")
                                         for k in range(WAVE)))
        await asyncio.sleep(0.2)
        first = next((p for p in probes if p.answer.done()), None)
    status, headers, body = first.answer.result()
    assert_participant_throttling(status, headers, body)
    refused.append(first.content)
    reader, writer = first.reader, first.writer

    # The same connection: a refused request answered before its body is sent, then the body, then the next
    # request (never shed) is parsed where the dropped body ended.
    head, data = send_message(srv.port, token, "split, refused")
    writer.write(head)
    status, headers, body = await asyncio.wait_for(read_answer(reader), ANSWER_WAIT)
    assert_participant_throttling(status, headers, body)
    refused.append("split, refused")
    writer.write(data[:10])
    await asyncio.sleep(0.05)
    writer.write(data[10:] + b"OPTIONS /participant/message HTTP/1.1\r\nhost: x\r\n\r\n")
    status, headers, _ = await asyncio.wait_for(read_answer(reader), ANSWER_WAIT)
    assert status == 204 and headers[b"access-control-allow-origin"] == b"*"

    # The Connect API, in its own shape, decided before the request is authenticated (it carries no signature).
    writer.write(b"PUT /contact/chat HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 b"content-length: 2\r\n\r\n{}")
    status, headers, body = await asyncio.wait_for(read_answer(reader), ANSWER_WAIT)
    assert status == 429 and headers[b"x-amzn-errortype"] == b"ThrottlingException"
    assert REQUEST_ID.fullmatch(headers[b"x-amzn-requestid"])
    assert b"access-control-allow-origin" not in headers
    assert json.loads(body)["Message"].startswith("Rate exceeded")
    return probes, refused


def test_a_refusal_is_answered_at_once_in_the_services_shape_and_the_connection_goes_on(srv: Server) -> None:
    chat = start_chat(srv.connect())
    client = participant(srv.url, retries=10)
    token = client.create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"]

    async def scenario() -> tuple[list[str], list[str]]:
        lock = sqlite3.connect(srv.data_dir / "parley.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the server's commits wait for this connection
        try:
            probes, refused = await overload(srv, token)
        finally:
            lock.rollback()
            lock.close()
        accepted = []
        for probe in probes:
            status, headers, _ = await asyncio.wait_for(probe.answer, 60)
            if status == 200:
                accepted.append(probe.content)
            else:
                assert status == 429 and headers[b"x-amzn-errortype"] == b"ThrottlingException", status
                if probe.content not in refused:
                    refused.append(probe.content)
            probe.writer.close()
        return accepted, refused

    accepted, refused = asyncio.run(scenario())
    assert accepted and refused
    stored: list[str] = []
    page: dict[str, Any] = {"NextToken": None}
    while "NextToken" in page:
        more = {"NextToken": page["NextToken"]} if page["NextToken"] else {}
        page = client.get_transcript(ConnectionToken=token, MaxResults=100, **more)
        stored += [i["Content"] for i in page["Transcript"] if i["Type"] == "MESSAGE"]
    assert sorted(stored) == sorted(accepted), "a refused message was stored, or an accepted one lost"


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8800), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_a_refused_request_gets_no_task_and_the_pipelined_ones_after_it_are_served() -> None:
    async def scenario() -> tuple[list[str], bytes]:
        called: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            called.append(scope["path"])
            while (await receive()).get("more_body"):
                pass
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})

        def refuse(scope: Any) -> tuple[int, bytes, bytes] | None:
            return (429, b"x-test: refused\r\n", b"no") if scope["path"] == "/refused" else None

        config = UvicornConfig(app, http="httptools", log_level="warning")
        config.load()
        protocol = ConnectionGuard(5.0, 100, refuse).protocol()(config=config, server_state=ServerState(),
                                                                app_state={})
        transport = FakeTransport()
        protocol.connection_made(transport)
        body = b"x" * 5000
        protocol.data_received(b"POST /refused HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body)
                               + body[:100])
        assert transport.written.startswith(b"HTTP/1.1 429 "), "answered before the body came"
        assert not protocol.tasks, "no task for a refused request"
        protocol.data_received(body[100:] + b"GET /served HTTP/1.1\r\nhost: x\r\n\r\n"
                               + b"POST /refused HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n"
                               + b"GET /again HTTP/1.1\r\nhost: x\r\n\r\n")
        for _ in range(100):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return called, bytes(transport.written)

    called, written = asyncio.run(scenario())
    assert called == ["/served", "/again"]
    assert written.count(b"HTTP/1.1 429 ") == 2 and written.count(b"HTTP/1.1 200 ") == 2
    assert written.count(b"x-test: refused\r\n") == 2 and b"content-length: 2\r\n\r\nno" in written
    assert written.index(b"\r\n\r\nok") < written.rindex(b"HTTP/1.1 429 "), "answered in order"

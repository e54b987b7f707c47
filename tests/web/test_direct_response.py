"""Whole responses in one write (``parley.response``, :mod:`parley.web.server.httpprotocol`): on a real uvicorn
server and real sockets, the bytes a client reads, keep-alive, pipelining, ``Connection: close``, and when the
app must fall back to the ASGI ``send``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from parley.aws.restjson import Answer
from parley.web.server.httpprotocol import ParleyHttpToolsProtocol, direct_response

BODY = b'{"Id":"1"}'
HEAD = b"x-amzn-requestid: r-1\r\ncontent-type: application/json\r\n"


class App:
    """Answers ``/direct`` through the extension (when it is ready) and records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, bool]] = []  # path, ready before, ready after

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        whole = direct_response(scope)
        assert whole is not None, "the server offers parley.response"
        before = whole.ready()
        if scope["path"] == "/direct" and before:
            whole.write(200, HEAD, BODY)
        else:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(len(BODY)).encode())]})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else BODY})
        self.seen.append((scope["path"], before, whole.ready()))


@contextlib.asynccontextmanager
async def serving(app: App) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=ParleyHttpToolsProtocol, lifespan="off", log_level="warning",
                                           access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def read_response(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status, *lines = head[:-4].split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


def request(path: str, extra: str = "", method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n{extra}\r\n{{}}".encode()


async def test_one_write_carries_status_headers_and_body_and_the_connection_stays_open() -> None:
    app = App()
    async with serving(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):  # kept alive: a second request on the same connection
            writer.write(request("/direct"))
            status, headers, body = await read_response(reader)
            assert status == "HTTP/1.1 200 OK"
            assert headers["x-amzn-requestid"] == "r-1"
            assert headers["content-type"] == "application/json"
            assert headers["content-length"] == str(len(BODY))
            assert "date" in headers and headers["server"] == "uvicorn"  # uvicorn's own headers are kept
            assert "connection" not in headers
            assert body == BODY
        writer.close()
    assert app.seen == [("/direct", True, False)] * 2


async def test_pipelined_requests_are_answered_in_order() -> None:
    app = App()
    async with serving(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/direct") + request("/fallback") + request("/direct"))
        answers = [await read_response(reader) for _ in range(3)]
        writer.close()
    assert [a[1].get("x-amzn-requestid") for a in answers] == ["r-1", None, "r-1"]
    assert [a[2] for a in answers] == [BODY] * 3
    assert [s[0] for s in app.seen] == ["/direct", "/fallback", "/direct"]


async def test_connection_close_is_answered_and_honoured() -> None:
    app = App()
    async with serving(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/direct", "connection: close\r\n"))
        _status, headers, body = await read_response(reader)
        assert headers["connection"] == "close" and body == BODY
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed the connection
        writer.close()


async def test_head_requests_go_through_send() -> None:
    app = App()
    async with serving(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/direct", method="HEAD"))
        head = await reader.readuntil(b"\r\n\r\n")
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK") and b"x-amzn-requestid" not in head
    assert app.seen == [("/direct", False, False)]


class Recorder:
    """A :class:`parley.aws.restjson.WholeResponse` that records, and the ASGI ``send`` beside it."""

    def __init__(self, ready: bool = True) -> None:
        self.is_ready = ready
        self.writes: list[tuple[int, bytes, bytes]] = []
        self.messages: list[dict[str, Any]] = []

    def ready(self) -> bool:
        return self.is_ready

    def write(self, status: int, head: bytes, body: bytes) -> None:
        self.writes.append((status, head, body))

    async def send(self, message: Any) -> None:
        self.messages.append(message)


async def test_answer_writes_its_header_lines_through_the_extension() -> None:
    rec = Recorder()
    await Answer(200, {"x-amzn-RequestId": "r-1", "Access-Control-Allow-Origin": "*"}, BODY).send(rec.send, rec)
    assert rec.writes == [(200, b"x-amzn-requestid: r-1\r\naccess-control-allow-origin: *\r\n"
                                b"content-type: application/json\r\n", BODY)]
    assert rec.messages == []


@pytest.mark.parametrize("ready, value", [(False, "r-1"), (True, "r-1\r\nset-cookie: x=1"), (True, "r\n1")])
async def test_answer_falls_back_to_send_when_not_ready_or_a_value_would_break_its_line(
        ready: bool, value: str) -> None:
    rec = Recorder(ready)
    await Answer(400, {"x-amzn-RequestId": value}, BODY).send(rec.send, rec)
    assert rec.writes == []
    assert rec.messages[0]["type"] == "http.response.start" and rec.messages[0]["status"] == 400
    assert (b"x-amzn-requestid", value.encode()) in rec.messages[0]["headers"]
    assert rec.messages[1] == {"type": "http.response.body", "body": BODY}

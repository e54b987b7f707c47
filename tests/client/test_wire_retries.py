"""parley.client's retries: a 429 is sent again even for a call that is not idempotent (a throttled request did
nothing), other errors only for idempotent calls; against a real HTTP server on a loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from parley.client import wire
from parley.client.errors import ParleyError


class Answers:
    """A tiny HTTP/1.1 server answering each request with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            status = self.statuses[self.requests] if self.requests < len(self.statuses) else 200
            self.requests += 1
            body = b"{}" if status == 200 else b'{"Message":"Rate exceeded"}'
            kind = b"" if status == 200 else b"x-amzn-ErrorType: ThrottlingException\r\n"
            writer.write(b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s"
                         % (status, kind, len(body), body))
            await writer.drain()


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Answers]]:
    answers = Answers([])
    server = await asyncio.start_server(answers.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/", answers
    finally:
        server.close()


async def test_a_throttled_call_that_is_not_idempotent_is_sent_again(served: tuple[str, Answers],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = served
    monkeypatch.setattr(wire, "FIRST_PAUSE", 0.001)
    answers.statuses = [429, 429, 429]
    async with httpx.AsyncClient() as http:
        assert await wire.send_json(http, "POST", url, {}, b"{}", idempotent=False) == {}
    assert answers.requests == 4


async def test_throttling_ends_after_its_attempts(served: tuple[str, Answers],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = served
    monkeypatch.setattr(wire, "FIRST_PAUSE", 0.001)
    answers.statuses = [429] * 10
    async with httpx.AsyncClient() as http:
        with pytest.raises(ParleyError) as refused:
            await wire.send_json(http, "POST", url, {}, b"{}", idempotent=False)
    assert refused.value.status == 429
    assert answers.requests == wire.THROTTLED_ATTEMPTS


async def test_a_server_error_is_sent_again_only_when_idempotent(served: tuple[str, Answers],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = served
    monkeypatch.setattr(wire, "FIRST_PAUSE", 0.001)
    answers.statuses = [503]
    async with httpx.AsyncClient() as http:
        with pytest.raises(ParleyError):
            await wire.send_json(http, "POST", url, {}, b"{}", idempotent=False)
        assert answers.requests == 1
        assert await wire.send_json(http, "POST", url, {}, b"{}", idempotent=True) == {}
    assert answers.requests == 2

"""The CTI endpoint stops a snapshot long poll as soon as its client closes the connection (a closed CCP leaves
no work behind), and answers it normally while the client stays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Message

from parley.aws.cti.api import CtiApi
from parley.domain.agents import AgentSession

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WHO = AgentSession("access", "instance-1", "user-1", NOW, NOW + timedelta(hours=1))


def request(body: dict[str, Any], gone: asyncio.Event) -> Request:
    """A request whose body arrives at once and whose client disconnects when ``gone`` is set."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": orjson.dumps(body), "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/api", "raw_path": b"/api", "query_string": b"",
             "headers": [(b"x-amz-target", b"AmazonConnectCTIService.GetAgentSnapshot")]}
    return Request(scope, receive)


async def resolve(token: str) -> AgentSession | None:
    return WHO if token == "good" else None


async def test_a_long_poll_ends_when_its_client_goes_away() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def snapshot(who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"snapshot": {}}

    api = CtiApi({"GetAgentSnapshot": snapshot}, resolve)
    gone = asyncio.Event()
    answer = asyncio.ensure_future(api.handle(request({"authentication": {"authToken": "good"}}, gone)))
    await asyncio.wait_for(started.wait(), 5)
    assert not answer.done()
    gone.set()
    response = await asyncio.wait_for(answer, 5)
    assert cancelled.is_set()
    assert response.status_code == 204


async def test_a_long_poll_answers_while_its_client_stays() -> None:
    async def snapshot(who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"snapshot": {"agent": who.user_id}, "nextToken": "v1"}

    api = CtiApi({"GetAgentSnapshot": snapshot}, resolve)
    response = await asyncio.wait_for(
        api.handle(request({"authentication": {"authToken": "good"}}, asyncio.Event())), 5)
    assert response.status_code == 200
    assert orjson.loads(response.body) == {"snapshot": {"agent": "user-1"}, "nextToken": "v1"}


async def test_errors_of_a_long_poll_keep_their_codes() -> None:
    api = CtiApi({}, resolve)
    response = await api.handle(request({"authentication": {"authToken": "bad"}}, asyncio.Event()))
    assert response.status_code == 401
    assert orjson.loads(response.body)["__type"] == "UnauthorizedException"

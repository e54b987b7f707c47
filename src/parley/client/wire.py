"""Sends one JSON request with httpx and turns the answer into a dict or a :class:`ParleyError`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from parley.client.errors import ParleyError, error_from_response

# Answers worth one more try with the same ClientToken: throttling and server-side failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Tries of an idempotent call in all, and the first pause between them (doubled each time).
ATTEMPTS = 3
FIRST_PAUSE = 0.2
# Tries of any call answered 429: a throttled request was refused before it did anything (Parley's load shedding
# and rate limits), so even a call that is not idempotent is safe to send again, as the AWS SDKs do.
THROTTLED_ATTEMPTS = 6


def json_body(data: Mapping[str, Any] | None) -> bytes:
    return b"" if data is None else orjson.dumps(data)


def decode(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer, or raise the answer's :class:`ParleyError`."""
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.headers, response.content)
    if not response.content:
        return {}
    data = orjson.loads(response.content)
    if not isinstance(data, dict):
        raise ParleyError("InvalidResponse", f"expected a JSON object, got {type(data).__name__}",
                          response.status_code)
    return data


async def send_json(http: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str], body: bytes, *,
                    idempotent: bool) -> dict[str, Any]:
    """Send and decode; idempotent calls are retried on transport errors, throttling and 5xx, every call on
    throttling (429), with pauses doubling from :data:`FIRST_PAUSE`."""
    attempts = ATTEMPTS if idempotent else 1
    pause = FIRST_PAUSE
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await http.request(method, url, headers=dict(headers), content=body)
        except httpx.TransportError:
            if attempt >= attempts:
                raise
        else:
            throttled = response.status_code == 429 and attempt < THROTTLED_ATTEMPTS
            if not throttled and (response.status_code not in RETRY_STATUSES or attempt >= attempts):
                return decode(response)
        await asyncio.sleep(pause)
        pause *= 2

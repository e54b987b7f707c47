"""``POST /api``: AmazonConnectCTIService over JSON 1.0 (``X-Amz-Target``), authenticated by the agent's
access token, with errors as ``{"__type", "message"}`` as StreamsJS's AWS SDK parses them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from parley.aws.bodies import CTI_BODY_LIMIT, TOO_LARGE, BodyTooLarge, read_body
from parley.domain import errors as d
from parley.domain.agents import AgentSession
from parley.service.ports import StorageUnavailable
from parley.service.telemetry import UNKNOWN, Requests

log = logging.getLogger(__name__)

TARGET_PREFIX = "AmazonConnectCTIService."
JSON_10 = "application/x-amz-json-1.0"

# Operations that may hold the request for a while (the snapshot long poll): they stop when the client goes away.
LONG_POLLS = frozenset({"GetAgentSnapshot"})

# What a long poll ends with when the server starts draining (it is then answered with the current snapshot).
STOPPING = "stopping"

CtiHandler = Callable[[AgentSession, dict[str, Any]], Awaitable[dict[str, Any]]]
Resolver = Callable[[str], Awaitable[AgentSession | None]]


class CtiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# Domain errors in the CTI API's vocabulary.
DOMAIN_CODES: tuple[tuple[type[d.DomainError], str, int], ...] = (
    (d.AccessDenied, "AccessDeniedException", 403),
    (d.NotFound, "ResourceNotFoundException", 400),
    (d.LimitExceeded, "LimitExceededException", 400),
    (d.QuotaExceeded, "LimitExceededException", 400),
    (d.Conflict, "InvalidStateException", 400),
    (d.InvalidRequest, "InvalidStateException", 400),
    (d.InvalidParameter, "InvalidParameterException", 400),
    (d.ContactNotActive, "InvalidStateException", 400),
    (d.Duplicate, "InvalidStateException", 400),
)


def error_response(code: str, message: str, status: int) -> Response:
    return Response(orjson.dumps({"__type": code, "message": message}), status, media_type=JSON_10)


class CtiApi:
    def __init__(self, handlers: dict[str, CtiHandler], resolve: Resolver, stopping: asyncio.Event | None = None
                 ) -> None:
        self.handlers = handlers
        self.resolve = resolve
        # Set when the server starts draining: long polls are answered at once with the current snapshot.
        self.stopping = stopping or asyncio.Event()
        # Counts and times every request by operation and status (parley.web.metrics); a private one by default.
        self.requests = Requests()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        response = await self._handle(request)
        op = request.headers.get("x-amz-target", "").removeprefix(TARGET_PREFIX)
        # Only operations Parley has count under their name: the header is the client's to fill.
        self.requests.record(op if op in self.handlers else UNKNOWN, response.status_code,
                             time.perf_counter() - started)
        return response

    async def _handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        if not target.startswith(TARGET_PREFIX):
            return error_response("UnknownOperationException",
                                  f"Send X-Amz-Target: {TARGET_PREFIX}<Operation> with a JSON 1.0 body.", 400)
        op = target[len(TARGET_PREFIX):]
        try:
            raw = await read_body(request, CTI_BODY_LIMIT)
            body = orjson.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise CtiError("SerializationException", "The request body must be a JSON object.")
            auth = body.pop("authentication", None) or {}
            token = (auth.get("authToken") if isinstance(auth, dict) else None) or request.headers.get("x-amz-bearer")
            who = await self.resolve(token) if token else None
            if who is None:
                raise CtiError("UnauthorizedException", "Sign in again: the access token is missing or has expired.",
                               401)
            handler = self.handlers.get(op)
            if handler is None:
                raise CtiError("UnknownOperationException",
                               f"Parley does not implement the CTI operation {op}.", 400)
            if _holds_nul(body):
                raise CtiError("InvalidParameterException", "Strings in the request may not contain U+0000.")
            if op in LONG_POLLS:
                outcome = await _unless_disconnected(request, handler(who, body), self.stopping)
                if outcome is None:  # nobody is listening any more: no render, no answer
                    return Response(status_code=204)
                # Draining: answered now, with the current state (a timeout of 0 renders it at once).
                result = await handler(who, {**body, "timeout": 0}) if isinstance(outcome, str) else outcome
            else:
                result = await handler(who, body)
        except BodyTooLarge as exc:
            return error_response(TOO_LARGE, exc.message, 413)
        except ClientDisconnect:  # gone while sending its body: nobody reads the answer
            return Response(status_code=204)
        except orjson.JSONDecodeError:
            return error_response("SerializationException", "The request body is not valid JSON.", 400)
        except CtiError as exc:
            return error_response(exc.code, exc.message, exc.status)
        except StorageUnavailable as exc:  # the database is down for a moment: StreamsJS polls again
            log.warning("CTI %s: %s", op, exc)
            response = error_response("ServiceUnavailableException", "The service is unavailable: try again.", 503)
            response.headers["Retry-After"] = "1"
            return response
        except d.DomainError as exc:
            code, status = next(((c, s) for cls, c, s in DOMAIN_CODES if isinstance(exc, cls)),
                                ("InvalidStateException", 400))
            return error_response(code, exc.message, status)
        except Exception:
            log.exception("CTI %s failed", op)
            return error_response("InternalServiceException", "An internal error occurred.", 500)
        return Response(orjson.dumps(result), 200, media_type=JSON_10)


async def _unless_disconnected(request: Request, work: Awaitable[dict[str, Any]], stopping: asyncio.Event
                               ) -> dict[str, Any] | str | None:
    """``work``'s result; None (``work`` cancelled) as soon as the client closes the connection (a CCP that
    was closed leaves no long poll, and no last snapshot render, behind); :data:`STOPPING` (``work`` cancelled)
    as soon as ``stopping`` is set."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, gone, stop}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        went = gone.done()
        gone.cancel()
        stop.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None if went else STOPPING


async def _disconnected(request: Request) -> None:
    """Returns when the client has closed the connection (the request body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _holds_nul(value: object) -> bool:
    """Whether a string anywhere in a decoded JSON value (keys included) holds U+0000, which no CTI field carries
    and PostgreSQL's text cannot store (walked without recursion: JSON may nest a thousand levels deep)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise CtiError("InvalidParameterException", f"{name} is required and must be a non-empty string.")
    return value


def opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise CtiError("InvalidParameterException", f"{name} must be a string.")
    return value


def required_obj(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise CtiError("InvalidParameterException", f"{name} is required and must be an object.")
    return value

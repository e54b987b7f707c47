"""uvicorn's httptools protocol with one addition: the ``parley.response`` ASGI extension.

Every SendMessage is answered with a small JSON body and ten headers. Through the ASGI ``send`` that is two
coroutine calls into uvicorn, two regular-expression checks and a lower-casing per header, and two writes to the
socket (the head, then the body). :class:`DirectResponse` writes the status line, uvicorn's own headers
(``server``, ``date``), the app's headers, ``content-length`` and the body in one write and then completes the
request exactly as uvicorn's ``send`` does (keep-alive, the next pipelined request, ``Connection: close``).

It implements :class:`parley.aws.restjson.WholeResponse`. The app falls back to ``send`` whenever
:meth:`DirectResponse.ready` says no: a response already started, a client gone or not reading (uvicorn's flow
control then waits for it), ``HEAD``, or access logging on. The extension is offered in the request's scope as
``scope["extensions"]["parley.response"]``; an app run by another server does not find it.

The protocol also holds every connection to Parley's limits, when it is bound to a :class:`ConnectionGuard`
(:meth:`ConnectionGuard.protocol`; uvicorn's own protocol has none of them):

* **A head must arrive in time.** A new connection has ``header_timeout`` seconds to send a whole request head,
  and a head that has started (a keep-alive connection's next request) must end within that time too; else the
  connection is closed (``408`` first when part of a head came). uvicorn's httptools protocol has no such
  timeout: half-sent requests were held for as long as their clients liked.
* **A bounded number of connections.** Over ``max_connections`` open connections, a new one first evicts the
  connection that has waited longest for a request head (a half-sent head, or an idle keep-alive connection),
  so connections that never finish their heads cannot lock everyone else out; only when every connection is
  busy with a request is the new one answered ``503`` and closed.
* **A request the server is too busy for is refused before any of its work.** ``refuse`` (load shedding's
  :class:`parley.web.admission.EarlyRefusal`) is asked as soon as a request head is parsed, before uvicorn makes
  the request's task; a refusal is written to the socket at once and the body that follows is dropped as below.
  Refusing costs the parsing of the head and one write, so a server shedding a flood keeps its CPU for the
  requests it took.
* **An answered request's unread body is not read for long.** When the app answers before reading the body
  (a ``413``), uvicorn reads and drops the rest so the connection can carry the next request; Parley drops at
  most :data:`DISCARD_BYTES` more, within ``header_timeout`` seconds, then closes the connection.

And it drains (:meth:`ParleyHttpToolsProtocol.shutdown`, called by uvicorn when the server stops): a request in
progress, and any request that starts on the connection while the server drains, is answered with
``Connection: close``; an idle keep-alive connection stays open :data:`DRAIN_IDLE_SECONDS` for a request already
on its way, then closes. uvicorn closes idle connections at once, so a request a client was sending on one at
that moment got no answer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

EXTENSION = "parley.response"
# How long an idle keep-alive connection stays open once the server drains: a client that picked it for its next
# request a moment ago still gets an answer (with Connection: close); clients under load send their next request
# within milliseconds of the last answer, and a stop should not wait much longer than its requests.
DRAIN_IDLE_SECONDS = 1.0
# How much of an unread request body (the app answered first, e.g. 413) is read and dropped so the client can
# read its answer and reuse the connection: a few times the largest body limit (parley.aws.bodies), then close.
DISCARD_BYTES = 4 * 1024 * 1024
# How often a full connection table is logged while it stays full (one line, not one per refused connection).
WARN_EVERY_SECONDS = 10.0
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
# Retry-After: a second is enough for an evictable connection to appear (or a load balancer to try another node).
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\n"
        b"connection: close\r\n\r\n")

log = logging.getLogger(__name__)

# Asked with a request's ASGI scope once its head is parsed: None to serve it, or (status, header lines, body) to
# answer at once instead (header lines as :meth:`DirectResponse.write` takes them).
Refuse = Callable[[Any], tuple[int, bytes, bytes] | None]


@dataclass(eq=False)
class ConnectionGuard:
    """The limits shared by every connection of one server, and the connections waiting for a request head."""

    header_timeout: float
    max_connections: int
    refuse: Refuse | None = None
    # Connections waiting for a request head, longest waiting first (a dict keeps insertion order).
    waiting: dict[ParleyHttpToolsProtocol, None] = field(default_factory=dict)
    evicted: int = 0
    refused: int = 0
    warned_at: float = float("-inf")

    def protocol(self) -> type[ParleyHttpToolsProtocol]:
        """:class:`ParleyHttpToolsProtocol` bound to this guard, for ``uvicorn.Config(http=...)``."""
        guard = self

        class Guarded(ParleyHttpToolsProtocol):
            __doc__ = ParleyHttpToolsProtocol.__doc__

        Guarded.guard = guard
        return Guarded

    def make_room(self, newcomer: ParleyHttpToolsProtocol, now: float) -> bool:
        """Close the connection that has waited longest for a head; False when every connection is busy."""
        for protocol in self.waiting:
            if protocol is not newcomer:
                del self.waiting[protocol]
                protocol.transport.close()
                self.evicted += 1
                self._warn(now)
                return True
        self.refused += 1
        self._warn(now)
        return False

    def _warn(self, now: float) -> None:
        if now - self.warned_at >= WARN_EVERY_SECONDS:
            self.warned_at = now
            log.warning("connection limit of %d reached: %d connections waiting for a request head evicted, %d new "
                        "connections refused (503) so far", self.max_connections, self.evicted, self.refused)


class DirectResponse:
    """Writes one whole response for one request (its cycle, in uvicorn's words)."""

    def __init__(self, cycle: RequestResponseCycle) -> None:
        # Weak: the cycle holds the scope that holds this object, and a reference cycle per request would leave
        # every request's objects to the garbage collector (p99 grew step after step at 2,400 SendMessage/s).
        self._cycle = weakref.ref(cycle)

    def ready(self) -> bool:
        """Nothing of the response was sent yet, and the client is there and reading."""
        cycle = self._cycle()
        return cycle is not None and not (
            cycle.response_started or cycle.disconnected or cycle.flow.write_paused or cycle.access_log
            or cycle.scope["method"] == "HEAD" or cycle.transport.is_closing())

    def write(self, status: int, head: bytes, body: bytes) -> None:
        """Send the response: ``head`` holds the app's header lines (``name: value\\r\\n`` each, without
        ``content-length``, values free of CR and LF); only when :meth:`ready` said so in the same turn."""
        cycle = self._cycle()
        if cycle is None:
            raise RuntimeError("the request is over")
        write_whole(cycle, status, head, body)


def write_whole(cycle: RequestResponseCycle, status: int, head: bytes, body: bytes) -> None:
    """Write one whole response for ``cycle`` and complete the request as uvicorn's ``send`` does (keep-alive,
    the next pipelined request, ``Connection: close``)."""
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    default = b"".join([b"%s: %s\r\n" % pair for pair in cycle.default_headers])
    close = b"" if cycle.keep_alive else b"connection: close\r\n"
    cycle.transport.write(b"".join((STATUS_LINE[status], default, head, b"content-length: %d\r\n" % len(body),
                                    close, b"\r\n", body)))
    cycle.expected_content_length = 0
    cycle.chunked_encoding = False
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


class ParleyHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's ``httptools`` protocol, offering :class:`DirectResponse` to the app, held to a
    :class:`ConnectionGuard`'s limits when bound to one, and draining when the server stops."""

    guard: ClassVar[ConnectionGuard | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Closes the connection when a head (or an answered request's unread body) does not arrive in time.
        self._head_timer: asyncio.TimerHandle | None = None
        self._discard_timer: asyncio.TimerHandle | None = None
        self._in_head = False  # part of a request head has arrived, not all of it
        self._discarded = 0  # bytes of the current request's body dropped after its answer
        self._draining = False
        self._drain_closes: RequestResponseCycle | None = None  # the cycle whose answer closes the connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        if guard is None:
            return
        if len(self.connections) > guard.max_connections and not guard.make_room(self, self.loop.time()):
            transport.write(BUSY)
            transport.close()
            return
        guard.waiting[self] = None
        self._head_timer = self.loop.call_later(guard.header_timeout, self._timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self.guard is not None:
            self.guard.waiting.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # A head that started in this read and did not end in it (the first head's timer runs since connect).
        if self._in_head and self._head_timer is None and self.guard is not None:
            self._head_timer = self.loop.call_later(self.guard.header_timeout, self._timed_out)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A request that follows one answered while it was being read (a refusal), in the same read: the
        # keep-alive timer armed by that answer must not close the connection under this one.
        self._unset_keepalive_if_required()
        self._in_head = True
        self._discarded = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self.guard is not None:
            self.guard.waiting.pop(self, None)
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous and cycle.scope is self.scope:
            if not cycle.response_started:
                scope: Any = self.scope  # a TypedDict to uvicorn; one more key here
                scope.setdefault("extensions", {})[EXTENSION] = DirectResponse(cycle)
            if self._draining:
                if previous is not None and previous is self._drain_closes and not previous.response_complete:
                    previous.keep_alive = True  # a pipelined request follows it: the last answer closes instead
                cycle.keep_alive = False
                self._drain_closes = cycle

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """Start the request's task, unless ``refuse`` answers it now (it is then never given one)."""
        guard = self.guard
        if guard is not None and guard.refuse is not None:
            refusal = guard.refuse(cycle.scope)
            if refusal is not None:
                if self._draining:
                    cycle.keep_alive = False
                write_whole(cycle, *refusal)
                return
        super()._start_asgi_task(cycle, app)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.response_complete:  # answered already: uvicorn drops the rest
            self._discarded += len(body)
            if self._discarded > DISCARD_BYTES:
                self.transport.close()
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._discard_timer is not None:
            self._discard_timer.cancel()
            self._discard_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        guard = self.guard
        if guard is None or self.transport.is_closing():
            return
        if self.timeout_keep_alive_task is None:
            return  # a pipelined request started: the connection is busy
        # Idle (uvicorn armed its keep-alive timer): it waits for a head now.
        guard.waiting[self] = None
        if self.cycle is not None and self.cycle.more_body and self._discard_timer is None:
            # Answered before its whole body came: the rest must come soon (it is only dropped).
            self._discard_timer = self.loop.call_later(guard.header_timeout, self._timed_out)

    def shutdown(self) -> None:
        """The server drains: answer what is in progress (and what starts now) with Connection: close."""
        self._draining = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False
            self._drain_closes = cycle
        elif not self._in_head:  # idle: a request may be on its way; it is answered if it comes soon
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(DRAIN_IDLE_SECONDS, self.timeout_keep_alive_handler)

    def _timed_out(self) -> None:
        self._head_timer = self._discard_timer = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._discard_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._discard_timer = None


def direct_response(scope: Any) -> DirectResponse | None:
    """The request's :class:`DirectResponse`, when the server offers it."""
    extensions = scope.get("extensions") or {}
    found = extensions.get(EXTENSION)
    return found if isinstance(found, DirectResponse) else None

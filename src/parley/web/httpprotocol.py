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
"""

from __future__ import annotations

import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

EXTENSION = "parley.response"


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
    """uvicorn's ``httptools`` protocol, offering :class:`DirectResponse` to the app."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope and not cycle.response_started:
            scope: Any = self.scope  # a TypedDict to uvicorn; one more key here
            scope.setdefault("extensions", {})[EXTENSION] = DirectResponse(cycle)


def direct_response(scope: Any) -> DirectResponse | None:
    """The request's :class:`DirectResponse`, when the server offers it."""
    extensions = scope.get("extensions") or {}
    found = extensions.get(EXTENSION)
    return found if isinstance(found, DirectResponse) else None

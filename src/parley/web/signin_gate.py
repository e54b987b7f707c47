"""The cheap end of sign-in throttling: refusing sign-in posts before their forms are read, in a few hundred bytes.

:class:`SigninGate` sits in front of the Starlette app (``parley.app``). A ``POST /connect/login`` from an address
that must wait (:meth:`parley.service.signin_throttle.SigninThrottle.gate`: its back-off window is open, or it
has sent more posts than its bucket holds) and carrying no device cookie is answered here, before Starlette's
middleware and route matching and without reading its body; a post with a device cookie goes on with the gate's
verdict in its scope (``GATE_KEY``), for :mod:`parley.web.login` to apply once the form says which account it is.

Every throttled or busy sign-in gets :func:`refusal`: a short page (one sentence with the wait and a link back to
the form, so a person who hits it knows what to do) with ``Retry-After`` and the sign-in pages' security headers,
written in one piece through the server's :class:`~parley.web.server.httpprotocol.DirectResponse` when it offers one. A
flood of guesses then costs about a third of what it did when each was answered with the rendered form.
"""

from __future__ import annotations

from html import escape

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.aws.restjson import REQUEST_ID_KEY
from parley.service.signin_throttle import SigninThrottle, try_again
from parley.web.server.httpprotocol import direct_response

LOGIN_PATH = "/connect/login"
# The device cookie: sent only to the sign-in form (its path), where it exempts its accounts from lock-outs.
DEVICE_COOKIE = "parley_device"
DEVICE_MARK = f"{DEVICE_COOKIE}="  # its name in a Cookie header, looked for before the header is parsed
# Where :class:`SigninGate` leaves its verdict (seconds to wait, 0 to go) for the sign-in form's handler.
GATE_KEY = "parley.signin_gate"
NO_STORE = {"Cache-Control": "no-store"}
# The headers of every sign-in page: never cached, framed or sniffed, no scripts.
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# What a throttled or busy sign-in gets instead of the form: one sentence and a link back (a few hundred bytes, no
# template work), so that refusing a flood costs little while a person who hits it still reads what to do.
REFUSAL_PAGE = (
    '<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Parley — {title}</title>\n'
    '<body style="font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em">\n'
    '<h1 style="font-size:20px">{title}</h1>\n<p>{message}</p>\n<p><a href="/connect/login">Back to sign-in</a></p>\n'
)
# The refusal's header lines, encoded once: it is written in one piece (see :class:`Refusal`).
REFUSAL_HEAD = b"".join(f"{name.lower()}: {value}\r\n".encode("latin-1") for name, value in PAGE_HEADERS.items()
                        ) + b"content-type: text/html; charset=utf-8\r\n"


class SigninGate:
    """In front of the Starlette app: a sign-in post from an address that must wait, carrying no device cookie,
    is refused here, without Starlette's middleware and route matching (a flood's posts are nearly all of this
    kind); every other request goes on, a sign-in post with the gate's verdict in its scope."""

    def __init__(self, app: ASGIApp, throttle: SigninThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == LOGIN_PATH:
            client = scope.get("client")
            wait = self.throttle.gate(client[0] if client else "")
            if wait and not _has_device_cookie(scope):
                await throttled(wait)(scope, receive, send)
                return
            scope[GATE_KEY] = wait
        await self.app(scope, receive, send)


def _has_device_cookie(scope: Scope) -> bool:
    mark = DEVICE_MARK.encode()
    return any(name == b"cookie" and mark in value for name, value in scope["headers"])


def throttled(wait: int) -> Response:
    """The answer to a sign-in attempt refused by the throttle."""
    return refusal(429, "Too many sign-in attempts", try_again(wait), wait)


def refusal(status: int, title: str, message: str, retry_after: int) -> Response:
    """A throttled or busy sign-in's answer: :data:`REFUSAL_PAGE` with ``Retry-After`` (``title`` and ``message``
    are Parley's own text)."""
    return Refusal(status, REFUSAL_PAGE.format(title=escape(title), message=escape(message)).encode(), retry_after)


class Refusal(Response):
    """A small page written as one whole response through the server's
    :class:`~parley.web.server.httpprotocol.DirectResponse` when it offers one (one socket write instead of two ASGI
    messages, and no header building per answer: under a flood of guesses these are most of the cost), else
    through ``send`` like any response."""

    def __init__(self, status: int, body: bytes, retry_after: int) -> None:
        # Response.__init__ is not called: its headers are built only when the direct write is not available.
        self.status_code = status
        self.page = body
        self.body = body
        self.background = None
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = direct_response(scope)
        if whole is not None and whole.ready():
            request_id = scope.get(REQUEST_ID_KEY)
            head = REFUSAL_HEAD + b"retry-after: %d\r\n" % self.retry_after
            if isinstance(request_id, str):
                head += b"x-amzn-requestid: %s\r\n" % request_id.encode("latin-1")
            whole.write(self.status_code, head, self.page)
            return
        self.init_headers({**PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8",
                           "Retry-After": str(self.retry_after)})
        await super().__call__(scope, receive, send)

"""One CSRF check for every page for people's form and request that changes something (the token itself is
:mod:`parley.domain.csrf`, shared with the sign-in pages).

Double submit: a page that shows a form sets a random token in the ``parley_csrf_pages`` cookie (``SameSite=Strict``,
``HttpOnly``) and in a hidden field; a post is accepted only when both are present and equal, and its ``Origin``
header (set by the browser, never by a page's script), when sent, is Parley's own. JSON requests from Parley's own
scripts send the token in the ``X-CSRF-Token`` header instead of a field.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parley.domain.csrf import new_token, plausible, same

COOKIE = "parley_csrf_pages"
FIELD = "csrf"
HEADER = "x-csrf-token"


class Csrf:
    """Hands out and checks the double-submit token; ``public_origin`` is Parley's own origin."""

    def __init__(self, public_origin: str, *, secure: bool) -> None:
        self.public_origin = public_origin
        self.secure = secure

    def token(self, request: Request) -> str:
        """The token for a form on this page: the browser's, or a new one (set it with :meth:`remember`)."""
        existing = request.cookies.get(COOKIE)
        return existing if plausible(existing) and existing is not None else new_token()

    def remember(self, response: Response, token: str) -> None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=self.secure, path="/")

    def same_origin(self, request: Request) -> bool:
        """False when the browser says the request comes from another site."""
        origin = request.headers.get("origin")
        if origin is not None and origin != self.public_origin and origin != _own_origin(request):
            return False
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")

    def check(self, request: Request, submitted: str | None) -> bool:
        """True when ``submitted`` (the form field or ``X-CSRF-Token``) matches the cookie and the request is
        same-origin."""
        cookie = request.cookies.get(COOKIE)
        value = submitted if submitted is not None else request.headers.get(HEADER)
        return plausible(cookie) and plausible(value) and same(cookie, value) and self.same_origin(request)


def _own_origin(request: Request) -> str:
    """The origin the request was addressed to (behind a proxy with another public URL, the public one counts)."""
    return f"{request.url.scheme}://{request.url.netloc}"

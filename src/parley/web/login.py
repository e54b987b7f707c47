"""Agent sign-in pages as the CCP uses them: ``/connect/login``, ``/connect/logout`` and ``/auth/authorize``.

The login form posts ``username`` and ``password`` (plus ``instance``, ``landat`` and a double-submit CSRF
token) and answers with the ``parley_session`` cookie; ``GET /auth/authorize`` turns that cookie into the
``{accessToken, expiration}`` the CCP page and the StreamsJS worker use as the CTI ``authToken`` (with
``?instance=``, only for an agent of that instance). The pages are the templates ``login.html`` and ``logout.html``
of ``parley/pages/templates``, rendered to text through :class:`HtmlTemplates` (the web edge does not import the
pages) and sent with the sign-in pages' own headers (:data:`~parley.web.signin_gate.PAGE_HEADERS`).

Failed sign-ins are throttled (:mod:`parley.service.signin_throttle`). A post from an address that is closed or
has sent too many is refused by :mod:`parley.web.signin_gate` before its body is read, and every throttled post
gets a few hundred bytes (429, ``Retry-After`` and one sentence for a person), never the form: a flood of guesses
costs little each. A successful sign-in also sets the ``parley_device`` cookie (:mod:`parley.service.device_cookies`);
a browser presenting a valid one for the account it signs in to is throttled under that device alone, so guesses
from elsewhere do not keep a real agent out of a browser they signed in on before.

Signing out is ``POST /connect/logout`` with its own double-submit CSRF token (``GET`` shows a page with the
button), so no other site can sign an agent out. One exception keeps StreamsJS's own sign-out working:
``connect.agentApp.stopApp("ccp")`` fetches ``<ccpUrl without /ccp-v2>/logout`` with GET from the agent's page;
that request signs out only when the browser's ``Origin`` header (which pages cannot forge) is an approved origin
of the agent's instance, the same origins already trusted to frame and drive the CCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from parley.domain import csrf as csrf_token
from parley.domain.errors import AccessDenied
from parley.service.auth import WRONG_CREDENTIALS, AuthService
from parley.service.device_cookies import LIFETIME_SECONDS
from parley.service.instances import InstanceService, framing_origins
from parley.service.passwords import PasswordsBusy
from parley.service.signin_throttle import Throttled
from parley.web.signin_gate import (
    DEVICE_COOKIE,
    DEVICE_MARK,
    GATE_KEY,
    LOGIN_PATH,
    NO_STORE,
    PAGE_HEADERS,
    refusal,
    throttled,
)

SESSION_COOKIE = "parley_session"
# Parley's mark (the indigo "P" of the sign-in page and the CCP), served as /favicon.ico.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" '
    'fill="#4f46e5"/><text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="700" '
    'text-anchor="middle" fill="#fff">P</text></svg>'
)
CSRF_COOKIE = "parley_csrf"
CSRF_PATH = "/connect/login"
LOGOUT_PATH = "/connect/logout"
# Seconds a sign-in refused because every password check is busy should wait before trying again.
BUSY_RETRY_SECONDS = 1
DEFAULT_LANDAT = "/connect/ccp-v2/"
DEFAULT_INSTANCE = "demo"
# The form has four short fields; anything bigger is not from it and is refused before parsing.
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 20
# Longest landing path kept; browsers and proxies commonly cap URLs near 2 KB.
MAX_LANDAT = 2000
# Longest query-string value echoed back into the form (the instance alias column holds 64 characters).
MAX_ECHO = 256


class HtmlTemplates(Protocol):
    """Renders one of Parley's templates (autoescaped) to text; ``parley.pages.templating.Pages`` is the one
    app.py hands in. The sign-in pages are ``login.html`` and ``logout.html``, the CCP's ``ccp.html`` and
    ``ccp_notice.html``; each is sent with its own headers, not the pages' CSP."""

    def render_html(self, template: str, /, **context: object) -> str: ...


def safe_landat(value: str | None) -> str:
    """``value`` when it is a path on this site, else the CCP: never a redirect to another origin.

    Only a path starting with one ``/`` is kept. Backslashes, whitespace and control characters are refused
    because browsers turn ``/\\evil.com`` or ``/<tab>/evil.com`` into ``//evil.com`` (another host).
    """
    if not value or len(value) > MAX_LANDAT or not value.startswith("/") or value.startswith("//"):
        return DEFAULT_LANDAT
    if any(ch == "\\" or ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return DEFAULT_LANDAT
    return value


@dataclass(frozen=True)
class Echo:
    """What the form shows again: the instance alias, the username and the landing path."""

    instance: str = DEFAULT_INSTANCE
    username: str = ""
    landat: str = DEFAULT_LANDAT


class FormError(Exception):
    """The POST body is not a readable login form."""


class LoginPages:
    """The sign-in routes; cookies get ``Secure`` when the public URL is https."""

    def __init__(self, templates: HtmlTemplates, auth: AuthService, instances: InstanceService, *,
                 secure_cookies: bool) -> None:
        self.templates = templates
        self.auth = auth
        self.instances = instances
        self.secure_cookies = secure_cookies

    @property
    def session_same_site(self) -> Literal["lax", "none"]:
        """Over HTTPS the session cookie is ``SameSite=None; Secure`` so a CCP framed by another site (a CRM
        page on an approved origin) still gets it; the cookie authenticates no state-changing request by itself
        (the CTI API takes bearer tokens). Over plain HTTP browsers refuse ``None``, so it stays ``Lax``: pages
        must then be served from Parley's own host name."""
        return "none" if self.secure_cookies else "lax"

    def routes(self) -> list[Route]:
        return [
            Route(LOGIN_PATH, self.login, methods=["GET", "POST"]),
            Route(LOGOUT_PATH, self.logout, methods=["GET", "POST"]),
            Route("/connect/{instance}/logout", self.logout, methods=["GET"]),  # StreamsJS: <ccpUrl>/../logout
            Route("/auth/authorize", self.authorize, methods=["GET"]),
            Route("/connect/auth/authorize", self.authorize, methods=["GET"]),  # the legacy path StreamsJS knows
            Route("/connect/session", self.session, methods=["GET"]),
            Route("/favicon.ico", self.favicon, methods=["GET"]),
        ]

    # pages -----------------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._submit(request)
        query = request.query_params
        instance = (query.get("instance") or DEFAULT_INSTANCE)[:MAX_ECHO]
        return self._page(request, 200, Echo(instance, "", safe_landat(query.get("landat"))))

    async def _submit(self, request: Request) -> Response:
        address = request.client.host if request.client else ""
        gated = request.scope.get(GATE_KEY)
        wait = gated if isinstance(gated, int) else self.auth.throttle.gate(address)
        # Cookies are parsed only when there is one to read (most of a flood's posts carry none).
        device_cookie = request.cookies.get(DEVICE_COOKIE, "") if DEVICE_MARK in request.headers.get(
            "cookie", "") else ""
        devices = await self.auth.devices.grants(device_cookie) if device_cookie else []
        if wait and not devices:  # a known browser's account is checked once the form says which it is
            return throttled(wait)
        try:
            form = await read_form(request)
        except FormError as exc:
            return self._page(request, 400, Echo(), str(exc))
        instance = form.get("instance", "")
        username = form.get("username", "")
        landat = safe_landat(form.get("landat"))
        kept = Echo(instance[:MAX_ECHO], username[:MAX_ECHO], landat)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = form.get("csrf", "")
        if not csrf_token.same(cookie, sent):
            message = ("This sign-in form has expired or was not sent from this site (the security token did "
                       "not match). Please sign in again.")
            return self._page(request, 403, kept, message, fresh_csrf=True)
        password = form.get("password", "")
        if not username or not password:
            return self._page(request, 400, kept, "Enter your username and password.")
        try:
            token, user = await self.auth.login(instance, username, password, address, devices, wait)
        except AccessDenied:
            return self._page(request, 401, kept, WRONG_CREDENTIALS)
        except Throttled as exc:
            return refusal(429, "Too many sign-in attempts", str(exc), exc.retry_after)
        except PasswordsBusy:
            return refusal(503, "Parley is busy", "Parley is busy signing in other agents. Try again in a moment.",
                           BUSY_RETRY_SECONDS)
        self.auth.throttle.signed_in(address)
        response = RedirectResponse(landat, status_code=303, headers=NO_STORE)
        response.set_cookie(
            SESSION_COOKIE, token, max_age=int(self.auth.session_seconds), path="/", secure=self.secure_cookies,
            httponly=True, samesite=self.session_same_site,
        )
        response.set_cookie(
            DEVICE_COOKIE, await self.auth.remember_device(user, instance, username, device_cookie),
            max_age=LIFETIME_SECONDS, path=LOGIN_PATH, secure=self.secure_cookies, httponly=True,
            samesite=self.session_same_site,
        )
        return response

    async def logout(self, request: Request) -> Response:
        """``POST`` with the CSRF token signs out; ``GET`` shows the button (or, for StreamsJS's own cross-origin
        fetch from an approved origin of the agent's instance, signs out and answers CORS)."""
        if request.method == "POST":
            return await self._logout_submit(request)
        origin = request.headers.get("origin")
        if origin:
            return await self._streams_logout(request, origin)
        return await self._logout_page(request, 200)

    async def _logout_submit(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError:
            form = {}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = form.get("csrf", "")
        if not csrf_token.same(cookie, sent):
            return await self._logout_page(request, 403, fresh_csrf=True, error=(
                "This sign-out form has expired or was not sent from this site (the security token did not "
                "match). Press Sign out again."))
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await self.auth.logout(token)
        return self._signed_out(RedirectResponse(LOGIN_PATH, status_code=303, headers=NO_STORE))

    async def _streams_logout(self, request: Request, origin: str) -> Response:
        """StreamsJS's ``fetch(<ccp>/logout, {credentials: "include"})``: the session ends only when ``origin`` is
        approved for the agent's instance (and, on ``/connect/<instance>/logout``, the agent is of that instance).
        A per-instance URL answers an approved origin the same way whether or not it signed anyone out."""
        token = request.cookies.get(SESSION_COOKIE, "")
        session = await self.auth.session(token) if token else None
        named = request.path_params.get("instance")
        instance = await self.instances.find_instance(named if named else session.instance_id if session else "")
        if instance is None or origin not in framing_origins(instance):
            return await self._logout_page(request, 403, error="Sign out from Parley's own page.")
        cors = {**NO_STORE, "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                "Vary": "Origin"}
        response = JSONResponse({}, 200, cors)
        if session is not None and session.instance_id == instance.id:
            await self.auth.logout(token)
            self._signed_out(response)
        return response

    def _signed_out(self, response: Response) -> Response:
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self.secure_cookies, httponly=True,
                               samesite=self.session_same_site)
        return response

    async def _logout_page(self, request: Request, status: int, *, fresh_csrf: bool = False,
                           error: str = "") -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        signed_in = bool(token) and await self.auth.session(token) is not None
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if fresh_csrf or not csrf_token.plausible(csrf):
            csrf = csrf_token.new_token()
        html = self.templates.render_html("logout.html", signed_in=signed_in, error=error, csrf=csrf,
                                          logout_path=LOGOUT_PATH, login_path=LOGIN_PATH)
        response = HTMLResponse(html, status, PAGE_HEADERS)
        response.set_cookie(
            CSRF_COOKIE, csrf, path=LOGOUT_PATH, secure=self.secure_cookies, httponly=True, samesite="strict"
        )
        return response

    async def authorize(self, request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        issued = await self.auth.issue_access_token(token, request.query_params.get("instance")) if token else None
        if issued is None:
            return JSONResponse({"message": "Not signed in"}, 401, NO_STORE)
        access_token, expires = issued
        return JSONResponse({"accessToken": access_token, "expiration": int(expires.timestamp() * 1000)}, 200,
                            NO_STORE)

    async def favicon(self, _request: Request) -> Response:
        """Parley's mark, so browsers opening the sign-in popup find an icon (and log no 404)."""
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    async def session(self, request: Request) -> Response:
        """Like ``/auth/authorize`` but 200 either way (``signedIn``), so the CCP page can check before sign-in
        without an error in the browser console."""
        token = request.cookies.get(SESSION_COOKIE)
        issued = await self.auth.issue_access_token(token, request.query_params.get("instance")) if token else None
        if issued is None:
            return JSONResponse({"signedIn": False}, 200, NO_STORE)
        access_token, expires = issued
        return JSONResponse({"signedIn": True, "accessToken": access_token,
                             "expiration": int(expires.timestamp() * 1000)}, 200, NO_STORE)

    # rendering -------------------------------------------------------------------------------------
    def _page(
        self, request: Request, status: int, echo: Echo, error: str = "", *, fresh_csrf: bool = False,
    ) -> HTMLResponse:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if fresh_csrf or not csrf_token.plausible(csrf):
            csrf = csrf_token.new_token()
        html = self.templates.render_html("login.html", error=error, csrf=csrf, landat=echo.landat,
                                          instance=echo.instance, username=echo.username, login_path=LOGIN_PATH)
        response = HTMLResponse(html, status, PAGE_HEADERS)
        response.set_cookie(
            CSRF_COOKIE, csrf, path=CSRF_PATH, secure=self.secure_cookies, httponly=True, samesite="lax"
        )
        return response


async def read_form(request: Request) -> dict[str, str]:
    """The first value of each field of an ``application/x-www-form-urlencoded`` body of bounded size."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("Send the sign-in form as application/x-www-form-urlencoded.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("The sign-in form is too large.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("The sign-in form could not be read (it must be UTF-8 form fields).") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form

"""What every console page shares: the signed-in member, the CSRF-checked form, rendering in the console's layout,
and the answers to a refusal.

- Signed in is the CCP's session cookie (:meth:`AuthService.member`); without one a page redirects to the sign-in
  page, which lands back on it.
- Every ``POST`` is read (:mod:`.forms`) and checked with the one CSRF helper (:class:`parley.pages.csrf.Csrf`)
  before its handler runs: a refused post changes nothing.
- A service's :class:`AccessDenied` becomes a 403 page with the service's sentence (naming the missing
  permission), :class:`NotFound` a 404 page; handlers show other refusals inline in their forms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from parley.domain.arns import ARN_WORDS, Account
from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, Conflict, DomainError, Duplicate, NotFound
from parley.pages.console.forms import Form, FormUnreadable, read_form
from parley.pages.csrf import Csrf
from parley.pages.templating import Pages
from parley.service.audit import AuditService
from parley.service.auth import AuthService
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.live import LiveService
from parley.service.monitoring import MonitoringService
from parley.service.quick_connects import QuickConnectService
from parley.service.widgets import WidgetService

Handler = Callable[[Request, Member], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

# Listings read at most this many rows of a kind (Connect's quotas are below it: 100 quick connects, 500 users...).
MAX_ROWS = 1000
# What a page says after a change it redirected to (the key is in the query string; no typed text is reflected).
NOTICES = {
    "created": "Created.", "saved": "Saved.", "deleted": "Deleted.", "added": "Added.", "removed": "Removed.",
    "password": "The password was changed.", "rotated": "The widget has a new security key: update the websites "
    "that sign its tokens.",
}
# The side navigation, grouped as on Connect's admin website: (group, [(label, path)]).
NAVIGATION: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("", (("Overview", "/admin"),)),
    ("Users", (("User management", "/admin/users"), ("Security profiles", "/admin/security-profiles"))),
    ("Routing", (("Queues", "/admin/queues"), ("Routing profiles", "/admin/routing-profiles"),
                 ("Quick connects", "/admin/quick-connects"), ("Contact flows", "/admin/flows"))),
    ("Analytics", (("Live view", "/admin/live"),)),
    ("Channels", (("Chat widgets", "/admin/widgets"),)),
    ("Instance", (("Telephony and chat", "/admin/settings"), ("Application integration", "/admin/origins"),
                  ("Audit trail", "/admin/audit"))),
)


def status_of(exc: DomainError) -> int:
    """The HTTP status a refusal is shown with."""
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    return 409 if isinstance(exc, Duplicate | Conflict) else 400


@dataclass(frozen=True)
class Services:
    """The use cases the console calls (the same objects the Connect API's handlers call)."""

    auth: AuthService
    instances: InstanceService
    directory: DirectoryService
    quick_connects: QuickConnectService
    widgets: WidgetService
    # The live view (/admin/live) and the audit trail (/admin/audit); an area without its service is not served.
    live: LiveService | None = None
    audit: AuditService | None = None
    # "Monitor" on the live view's active chats (enhanced chat monitoring); without it the live view offers none.
    monitoring: MonitoringService | None = None


class Desk:
    """Renders console pages and guards their handlers; one per server, shared by the area modules."""

    def __init__(self, pages: Pages, services: Services, csrf: Csrf, account: Account, *, session_cookie: str,
                 public_url: str, default_instance: str = "") -> None:
        self.pages, self.services, self.csrf, self.account = pages, services, csrf, account
        self.session_cookie = session_cookie
        self.public_url = public_url.rstrip("/")
        self.default_instance = default_instance

    def arn(self, instance_id: str, kind: str, resource_id: str) -> str:
        return self.account.arn(instance_id, ARN_WORDS[kind], resource_id)

    # signing in ------------------------------------------------------------------------------------------------
    async def member(self, request: Request) -> Member | None:
        token = request.cookies.get(self.session_cookie)
        return await self.services.auth.member(token) if token else None

    def sign_in(self, request: Request) -> Response:
        """To the sign-in page, landing back here."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = f"/connect/login?landat={quote(target, safe='/')}"
        if self.default_instance:
            url += f"&instance={quote(self.default_instance)}"
        return RedirectResponse(url, 303, {"Cache-Control": "no-store"})

    # guarding --------------------------------------------------------------------------------------------------
    def page(self, handler: Handler) -> Endpoint:
        """The endpoint of a console page: signed in, the form read and its CSRF token checked on a post, and a
        service's refusal answered with a page saying why."""

        async def endpoint(request: Request) -> Response:
            member = await self.member(request)
            if member is None:
                if request.method != "GET":
                    return self.plain(request, None, 401, "Signed out", "Your session ended. Sign in again, then "
                                      "repeat the change (nothing was changed).")
                return self.sign_in(request)
            if request.method == "POST":
                try:
                    form = await read_form(request)
                except FormUnreadable as exc:
                    return self.plain(request, member, 400, "The form could not be read", str(exc))
                if not self.csrf.check(request, form.get("csrf") or None):
                    return self.plain(request, member, 403, "This form has expired", (
                        "This form was not sent from this console's page, or it has expired (its security token did "
                        "not match). Nothing was changed. Reload the page and try again."))
                request.state.form = form
            try:
                return await handler(request, member)
            except DomainError as exc:
                status = status_of(exc)
                title = {403: "Not allowed", 404: "Not found"}.get(status, "Refused")
                return self.plain(request, member, status, title, exc.message)

        return endpoint

    @staticmethod
    def form(request: Request) -> Form:
        found = getattr(request.state, "form", None)
        return found if isinstance(found, Form) else Form()

    # rendering -------------------------------------------------------------------------------------------------
    def render(self, request: Request, member: Member | None, template: str, context: Mapping[str, Any] | None = None,
               *, status: int = 200) -> Response:
        token = self.csrf.token(request)
        notice = NOTICES.get(request.query_params.get("done", ""), "")
        response = self.pages.render(request, template, {
            "member": member, "csrf": token, "navigation": NAVIGATION, "notice": notice, "error": "",
            "values": {}, **(context or {}),
        }, status=status)
        self.csrf.remember(response, token)
        return response

    def plain(self, request: Request, member: Member | None, status: int, title: str, message: str) -> Response:
        """A page that only says something: a refusal, an expired form."""
        return self.render(request, member, "console/message.html", {"title": title, "message": message},
                           status=status)

    @staticmethod
    def done(path: str, what: str) -> Response:
        """After a change: to ``path``, which says ``what`` happened (a key of :data:`NOTICES`)."""
        joiner = "&" if "?" in path else "?"
        return RedirectResponse(f"{path}{joiner}done={what}", 303, {"Cache-Control": "no-store"})

"""Instance > Audit trail (``/admin/audit``): who changed which configuration, and when; newest first, a page at a
time, of one kind of resource when the filter says so (:class:`parley.service.audit.AuditService`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.audit import RESOURCE_TYPES
from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError
from parley.pages.console.desk import Desk, status_of
from parley.service.audit import AuditService

# Events on one page of the console's trail.
PAGE = 50
# Where each kind of resource is shown in the console (its id appended), for the trail's links.
PAGES = {
    "user": "/admin/users/", "security_profile": "/admin/security-profiles/",
    "routing_profile": "/admin/routing-profiles/", "queue": "/admin/queues/",
    "quick_connect": "/admin/quick-connects/", "widget": "/admin/widgets/",
}


class AuditPages:
    def __init__(self, desk: Desk, audit: AuditService) -> None:
        self.desk = desk
        self.audit = audit

    def routes(self) -> list[Route]:
        return [Route("/admin/audit", self.desk.page(self.listing), methods=["GET"])]

    async def listing(self, request: Request, member: Member) -> Response:
        kind = request.query_params.get("type", "")[:40] or None
        token = request.query_params.get("after", "")[:4096] or None
        error, status = "", 200
        try:
            page = await self.audit.list_events(member, member.instance_id, kind, token, PAGE)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            error, status = exc.message, status_of(exc)
            page = await self.audit.list_events(member, member.instance_id, None, None, PAGE)
            kind = None
        return self.desk.render(request, member, "console/audit.html", {
            "events": page.events, "next_token": page.next_token, "kind": kind or "", "types": RESOURCE_TYPES,
            "links": PAGES, "first_page": token is None, "error": error,
        }, status=status)

"""Analytics > Live view (``/admin/live``): queues, agents and active chats right now, from the figures
``GetCurrentMetricData`` reads (:class:`parley.service.live.LiveService`), and "Monitor" on each active chat.

The page polls its panels (``/admin/live/panels``) every second with htmx and swaps them in place. Once the session
has ended, a poll answers with ``HX-Redirect`` to the sign-in page (which lands back here) instead of a redirect
htmx would follow and swap into the page.

"Monitor" (``POST /admin/live/monitor``, CSRF-checked) starts enhanced chat monitoring as the signed-in user
(:meth:`MonitoringService.monitor`, the use case of Connect's ``MonitorContact``), with barge-in allowed when the
user's security profiles grant it, then opens the agent workspace, where the monitoring contact arrives through
StreamsJS. A refusal is shown on the live view in the service's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import DomainError
from parley.domain.monitoring import BARGED, SILENT_MONITOR, monitoring_enabled
from parley.domain.permissions import BARGE, MONITOR
from parley.pages.console.desk import Desk, status_of
from parley.service.live import LiveService
from parley.service.monitoring import MonitoringService, MonitorRequest

# A contact id as Parley makes them (and Connect's ContactId pattern allows): letters, digits, '-' and '_'.
CONTACT_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
WORKSPACE = "/agent"


@dataclass(frozen=True)
class MonitorOffer:
    """Whether the live view offers "Monitor", and if not, why (empty when monitoring is not for this user at
    all: then nothing is shown)."""

    allowed: bool
    reason: str = ""
    barge: bool = False


class LivePages:
    def __init__(self, desk: Desk, live: LiveService, monitoring: MonitoringService | None = None) -> None:
        self.desk = desk
        self.live = live
        self.monitoring = monitoring

    def routes(self) -> list[Route]:
        routes = [
            Route("/admin/live", self.desk.page(self.page), methods=["GET"]),
            Route("/admin/live/panels", self.panels, methods=["GET"]),
        ]
        if self.monitoring is not None:
            routes.append(Route("/admin/live/monitor", self.desk.page(self.monitor), methods=["POST"]))
        return routes

    async def offer(self, member: Member) -> MonitorOffer:
        if self.monitoring is None or MONITOR not in member.permissions:
            return MonitorOffer(False)
        instance = await self.desk.services.instances.find_instance(member.instance_id)
        if instance is None or not monitoring_enabled(instance):
            return MonitorOffer(False, "Monitoring is off: turn on “Enable Multi-Party Chats and Enhanced Monitoring "
                                       "for Chat” in Telephony and chat.")
        return MonitorOffer(True, barge=BARGE in member.permissions)

    async def context(self, member: Member, **more: Any) -> dict[str, Any]:
        view = await self.live.live(member, member.instance_id)
        return {"view": view, "monitor": await self.offer(member), **more}

    async def page(self, request: Request, member: Member) -> Response:
        return self.desk.render(request, member, "console/live.html", await self.context(member))

    async def panels(self, request: Request) -> Response:
        """The panels alone, for the page's poll."""
        member = await self.desk.member(request)
        if member is None:
            return Response(status_code=204, headers={"HX-Redirect": "/connect/login?landat=/admin/live",
                                                      "Cache-Control": "no-store"})
        try:
            context = await self.context(member)
        except DomainError as exc:
            return self.desk.plain(request, member, status_of(exc), "Not allowed", exc.message)
        token = self.desk.csrf.token(request)
        response = self.desk.pages.render(request, "console/live_panels.html", {**context, "csrf": token})
        self.desk.csrf.remember(response, token)
        return response

    async def monitor(self, request: Request, member: Member) -> Response:
        """Start monitoring the chat of the form's ``contact`` as the signed-in user, then open the workspace."""
        assert self.monitoring is not None
        form = self.desk.form(request)
        contact_id = form.get("contact")
        customer = form.get("customer")[:200] or "this chat"
        if not CONTACT_ID.fullmatch(contact_id):
            return await self.refused(request, member, "Choose a chat to monitor from the list of active chats.")
        capabilities = [SILENT_MONITOR, *([BARGED] if BARGE in member.permissions else [])]
        try:
            await self.monitoring.monitor(member, MonitorRequest(member.instance_id, contact_id, member.user.id,
                                                                 capabilities))
        except DomainError as exc:
            return await self.refused(request, member, f"Could not monitor {customer}: {exc.message}",
                                      status=status_of(exc))
        return RedirectResponse(WORKSPACE, 303, {"Cache-Control": "no-store"})

    async def refused(self, request: Request, member: Member, message: str, *, status: int = 400) -> Response:
        return self.desk.render(request, member, "console/live.html", await self.context(member, error=message),
                                status=status)

"""Analytics > Live view (``/admin/live``): queues, agents and active chats right now, from the figures
``GetCurrentMetricData`` reads (:class:`parley.service.live.LiveService`).

The page polls its panels (``/admin/live/panels``) every second with htmx and swaps them in place. Once the session
has ended, a poll answers with ``HX-Redirect`` to the sign-in page (which lands back here) instead of a redirect
htmx would follow and swap into the page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import DomainError
from parley.pages.console.desk import Desk, status_of
from parley.service.live import LiveService


class LivePages:
    def __init__(self, desk: Desk, live: LiveService) -> None:
        self.desk = desk
        self.live = live

    def routes(self) -> list[Route]:
        return [
            Route("/admin/live", self.desk.page(self.page), methods=["GET"]),
            Route("/admin/live/panels", self.panels, methods=["GET"]),
        ]

    async def page(self, request: Request, member: Member) -> Response:
        view = await self.live.live(member, member.instance_id)
        return self.desk.render(request, member, "console/live.html", {"view": view})

    async def panels(self, request: Request) -> Response:
        """The panels alone, for the page's poll."""
        member = await self.desk.member(request)
        if member is None:
            return Response(status_code=204, headers={"HX-Redirect": "/connect/login?landat=/admin/live",
                                                      "Cache-Control": "no-store"})
        try:
            view = await self.live.live(member, member.instance_id)
        except DomainError as exc:
            return self.desk.plain(request, member, status_of(exc), "Not allowed", exc.message)
        return self.desk.pages.render(request, "console/live_panels.html", {"view": view})

"""Routing > Contact flows: the list and one flow's page (Parley's flows are built in; Connect's flow designer has
no counterpart here)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.pages.console.desk import MAX_ROWS, Desk


class FlowPages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.qcs = desk.services.quick_connects

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [Route("/admin/flows", page(self.listing), methods=["GET"]),
                Route("/admin/flows/{flow_id}", page(self.view), methods=["GET"])]

    async def listing(self, request: Request, member: Member) -> Response:
        rows, _ = await self.qcs.list_flows(member, member.instance_id, None, None, MAX_ROWS)
        return self.desk.render(request, member, "console/flows.html", {
            "rows": [(flow, self.desk.arn(flow.instance_id, flow.KIND, flow.id)) for flow in rows]})

    async def view(self, request: Request, member: Member) -> Response:
        flow = await self.qcs.get_flow(member, member.instance_id, request.path_params["flow_id"])
        return self.desk.render(request, member, "console/flow.html", {
            "flow": flow, "arn": self.desk.arn(flow.instance_id, flow.KIND, flow.id)})

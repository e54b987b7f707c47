"""Routing > Quick connects: list and search, create (User or Queue, each with its transfer flow), view with the id
and ARN to copy, edit, delete. The view also answers at Connect's own console paths from the seed document,
``/transfer-dests/edit?id=<id>`` and ``/quick-connect-management/quick-connects/<id>``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, InvalidParameter, NotFound
from parley.domain.resources import ContactFlow, Queue, QuickConnect, User
from parley.pages.console.desk import MAX_ROWS, Desk, status_of
from parley.pages.console.forms import Form
from parley.service.inputs import MAX_NAME
from parley.service.instances import AGENT_TRANSFER_FLOW, QUEUE_TRANSFER_FLOW
from parley.service.quick_connects import QuickConnectConfig

TYPES = ("USER", "QUEUE")


class QuickConnectPages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.qcs = desk.services.quick_connects
        self.directory = desk.services.directory

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin/quick-connects", page(self.listing), methods=["GET"]),
            Route("/admin/quick-connects/new", page(self.new), methods=["GET"]),
            Route("/admin/quick-connects/new", page(self.create), methods=["POST"]),
            Route("/admin/quick-connects/{qc_id}", page(self.view), methods=["GET"]),
            Route("/admin/quick-connects/{qc_id}", page(self.edit), methods=["POST"]),
            Route("/admin/quick-connects/{qc_id}/delete", page(self.delete), methods=["POST"]),
            Route("/transfer-dests/edit", page(self.view), methods=["GET"]),
            Route("/quick-connect-management/quick-connects/{qc_id}", page(self.view), methods=["GET"]),
        ]

    def arn(self, qc: QuickConnect) -> str:
        return self.desk.arn(qc.instance_id, qc.KIND, qc.id)

    async def choices(self, member: Member) -> dict[str, Any]:
        """The users, standard queues and transfer flows a quick connect may point at."""
        iid = member.instance_id
        users, _ = await self.directory.list_users(member, iid, None, MAX_ROWS)
        queues, _ = await self.directory.list_queues(member, iid, ["STANDARD"], None, MAX_ROWS)
        flows, _ = await self.qcs.list_flows(member, iid, ["AGENT_TRANSFER", "QUEUE_TRANSFER"], None, MAX_ROWS)
        return {"users": users, "queues": queues,
                "agent_flows": [f for f in flows if f.flow_type == "AGENT_TRANSFER"],
                "queue_flows": [f for f in flows if f.flow_type == "QUEUE_TRANSFER"]}

    async def targets(self, member: Member) -> dict[str, str]:
        """Names of what quick connects point at, by id (users, queues, flows); none for a member who may not
        list them (the page then shows ids)."""
        try:
            found = await self.choices(member)
        except AccessDenied:
            return {}
        named: list[User | Queue | ContactFlow] = [*found["users"], *found["queues"], *found["agent_flows"],
                                                   *found["queue_flows"]]
        return {r.id: (r.username if isinstance(r, User) else r.name or r.id) for r in named}

    # listing ---------------------------------------------------------------------------------------------------
    async def listing(self, request: Request, member: Member) -> Response:
        query = request.query_params.get("q", "").strip()[:MAX_NAME]
        rows, _ = await self.qcs.list_quick_connects(member, member.instance_id, None, None, MAX_ROWS)
        shown = [qc for qc in rows if query.lower() in (qc.name or "").lower()]
        return self.desk.render(request, member, "console/quick_connects.html", {
            "rows": [(qc, self.arn(qc)) for qc in shown], "query": query, "total": len(rows),
            "names": await self.targets(member),
        })

    # creating --------------------------------------------------------------------------------------------------
    async def new(self, request: Request, member: Member, *, values: dict[str, str] | None = None, error: str = "",
                  status: int = 200) -> Response:
        found = await self.choices(member)
        if values is None:
            kind = request.query_params.get("type", "USER")
            values = {"type": kind if kind in TYPES else "USER",
                      "user_flow": _named(found["agent_flows"], AGENT_TRANSFER_FLOW),
                      "queue_flow": _named(found["queue_flows"], QUEUE_TRANSFER_FLOW),
                      "user": request.query_params.get("user", "")}
        return self.desk.render(request, member, "console/quick_connect_new.html", {
            **found, "values": values, "error": error}, status=status)

    async def create(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        try:
            name, description = form.get("name"), form.get("description") or None
            qc = await self.qcs.create(member, member.instance_id, name, description, _config(form))
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.new(request, member, values=form.values(), error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/quick-connects/{qc.id}", "created")

    # one quick connect -----------------------------------------------------------------------------------------
    async def view(self, request: Request, member: Member, *, values: dict[str, str] | None = None,
                   error: str = "", status: int = 200) -> Response:
        qc_id = request.path_params.get("qc_id") or request.query_params.get("id", "")
        if not qc_id:
            raise NotFound("Give the quick connect's id: /transfer-dests/edit?id=<id>.")
        qc = await self.qcs.get(member, member.instance_id, qc_id)
        found = await self.choices(member)
        queues = [q for q in found["queues"] if qc.id in q.quick_connect_ids]
        if values is None:
            values = {"name": qc.name or "", "description": qc.description or "", "type": qc.quick_connect_type,
                      "user": qc.user_id or "", "queue": qc.queue_id or "",
                      "user_flow": qc.contact_flow_id or "" if qc.quick_connect_type == "USER" else
                      _named(found["agent_flows"], AGENT_TRANSFER_FLOW),
                      "queue_flow": qc.contact_flow_id or "" if qc.quick_connect_type == "QUEUE" else
                      _named(found["queue_flows"], QUEUE_TRANSFER_FLOW)}
        return self.desk.render(request, member, "console/quick_connect.html", {
            **found, "qc": qc, "arn": self.arn(qc), "in_queues": queues, "values": values, "error": error,
            "names": await self.targets(member),
        }, status=status)

    async def edit(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        qc_id = request.path_params["qc_id"]
        try:
            qc = await self.qcs.get(member, member.instance_id, qc_id)
            name, description = form.get("name"), form.get("description")
            if name != qc.name or description != (qc.description or ""):
                await self.qcs.update_name(member, member.instance_id, qc.id, name, description)
            config = _config(form)
            if (config.user_id, config.queue_id, config.contact_flow_id, config.quick_connect_type) != (
                    qc.user_id, qc.queue_id, qc.contact_flow_id, qc.quick_connect_type):
                await self.qcs.update_config(member, member.instance_id, qc.id, config)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            if isinstance(exc, NotFound) and exc.resource_type == "QUICK_CONNECT":
                raise
            return await self.view(request, member, values=form.values(), error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/quick-connects/{qc_id}", "saved")

    async def delete(self, request: Request, member: Member) -> Response:
        await self.qcs.delete(member, member.instance_id, request.path_params["qc_id"])
        return self.desk.done("/admin/quick-connects", "deleted")


def _config(form: Form) -> QuickConnectConfig:
    kind = form.get("type")
    if kind == "USER":
        return QuickConnectConfig("USER", user_id=form.get("user") or None,
                                  contact_flow_id=form.get("user_flow") or None)
    if kind == "QUEUE":
        return QuickConnectConfig("QUEUE", queue_id=form.get("queue") or None,
                                  contact_flow_id=form.get("queue_flow") or None)
    raise InvalidParameter("Choose the quick connect's type: User or Queue.")


def _named(flows: list[ContactFlow], name: str) -> str:
    """The id of the flow called ``name`` (the one Connect preselects), else the first flow's."""
    return next((f.id for f in flows if f.name == name), flows[0].id if flows else "")

"""Channels > Chat widgets: list, create, edit, rotate the security key, delete, through
:class:`~parley.service.widgets.WidgetService`; each widget's embed snippet to copy."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, NotFound
from parley.domain.widgets import Widget
from parley.pages.console.desk import MAX_ROWS, Desk, status_of
from parley.pages.console.forms import Form
from parley.service.widgets import WidgetChanges


def _origins(form: Form) -> tuple[str, ...]:
    """The allowed origins typed one per line (or separated by spaces or commas)."""
    return tuple(dict.fromkeys(o for o in form.get("origins").replace(",", " ").split() if o))


class WidgetPages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.widgets = desk.services.widgets
        self.qcs = desk.services.quick_connects

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin/widgets", page(self.listing), methods=["GET"]),
            Route("/admin/widgets/new", page(self.new), methods=["GET"]),
            Route("/admin/widgets/new", page(self.create), methods=["POST"]),
            Route("/admin/widgets/{widget_id}", page(self.view), methods=["GET"]),
            Route("/admin/widgets/{widget_id}", page(self.edit), methods=["POST"]),
            Route("/admin/widgets/{widget_id}/rotate-key", page(self.rotate), methods=["POST"]),
            Route("/admin/widgets/{widget_id}/delete", page(self.delete), methods=["POST"]),
        ]

    def snippet(self, widget: Widget) -> str:
        return f'<script src="{self.desk.public_url}/widget.js" data-widget-id="{widget.id}" async></script>'

    async def flows(self, member: Member) -> dict[str, Any]:
        rows, _ = await self.qcs.list_flows(member, member.instance_id, ["CONTACT_FLOW"], None, MAX_ROWS)
        return {"flows": rows, "flow_names": {f.id: f.name for f in rows}}

    async def listing(self, request: Request, member: Member) -> Response:
        rows = await self.widgets.list_widgets(member, member.instance_id)
        return self.desk.render(request, member, "console/widgets.html", {
            **await self.flows(member), "rows": [(w, self.snippet(w)) for w in rows]})

    async def new(self, request: Request, member: Member, *, values: dict[str, str] | None = None, error: str = "",
                  status: int = 200) -> Response:
        found = await self.flows(member)
        if values is None:
            values = {"title": "Chat with us", "primary_color": "#2457c5", "on_primary_color": "#ffffff",
                      "flow": next((f.id for f in found["flows"] if f.name == "Sample inbound flow"), "")}
        return self.desk.render(request, member, "console/widget_new.html", {**found, "values": values,
                                                                             "error": error}, status=status)

    async def create(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        try:
            widget = await self.widgets.create(
                member, member.instance_id, form.get("name"), form.get("flow"), allowed_origins=_origins(form),
                title=form.get("title"), greeting=form.get("greeting") or None,
                primary_color=form.get("primary_color"), on_primary_color=form.get("on_primary_color"),
                secure=form.has("secure"))
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.new(request, member, values=form.values(), error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/widgets/{widget.id}", "created")

    async def view(self, request: Request, member: Member, *, values: dict[str, str] | None = None, error: str = "",
                   status: int = 200) -> Response:
        widget = await self.widgets.describe(member, request.path_params["widget_id"])
        if widget.instance_id != member.instance_id:
            raise NotFound(f"Widget {widget.id} was not found.")
        if values is None:
            values = {"name": widget.name, "flow": widget.contact_flow_id, "origins": "\n".join(widget.allowed_origins),
                      "title": widget.title, "greeting": widget.greeting or "", "primary_color": widget.primary_color,
                      "on_primary_color": widget.on_primary_color}
        return self.desk.render(request, member, "console/widget.html", {
            **await self.flows(member), "widget": widget, "snippet": self.snippet(widget), "values": values,
            "error": error}, status=status)

    async def edit(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        widget_id = request.path_params["widget_id"]
        changes = WidgetChanges(name=form.get("name"), contact_flow_id=form.get("flow"), allowed_origins=_origins(form),
                                title=form.get("title"), greeting=form.get("greeting"),
                                primary_color=form.get("primary_color"), on_primary_color=form.get("on_primary_color"),
                                secure=form.has("secure"))
        try:
            await self.widgets.update(member, widget_id, changes)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            if isinstance(exc, NotFound) and exc.resource_type == "WIDGET":
                raise
            return await self.view(request, member, values=form.values(), error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/widgets/{widget_id}", "saved")

    async def rotate(self, request: Request, member: Member) -> Response:
        widget = await self.widgets.rotate_key(member, request.path_params["widget_id"])
        return self.desk.done(f"/admin/widgets/{widget.id}", "rotated")

    async def delete(self, request: Request, member: Member) -> Response:
        await self.widgets.delete(member, request.path_params["widget_id"])
        return self.desk.done("/admin/widgets", "deleted")

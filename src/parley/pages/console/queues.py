"""Routing > Queues: the list, a queue's details and its quick connects (add and remove: the seed's step 2.3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, InvalidParameter
from parley.domain.resources import HoursOfOperation
from parley.pages.console.desk import MAX_ROWS, Desk, status_of


class QueuePages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.directory = desk.services.directory
        self.qcs = desk.services.quick_connects

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin/queues", page(self.listing), methods=["GET"]),
            Route("/admin/queues/{queue_id}", page(self.view), methods=["GET"]),
            Route("/admin/queues/{queue_id}/quick-connects/add", page(self.add), methods=["POST"]),
            Route("/admin/queues/{queue_id}/quick-connects/remove", page(self.remove), methods=["POST"]),
        ]

    async def listing(self, request: Request, member: Member) -> Response:
        query = request.query_params.get("q", "").strip()[:127]
        rows, _ = await self.directory.list_queues(member, member.instance_id, ["STANDARD"], None, MAX_ROWS)
        shown = [q for q in rows if query.lower() in (q.name or "").lower()]
        return self.desk.render(request, member, "console/queues.html", {
            "rows": shown, "query": query, "total": len(rows)})

    async def view(self, request: Request, member: Member, *, error: str = "", status: int = 200) -> Response:
        queue_id = request.path_params["queue_id"]
        queue = await self.directory.get_queue(member, member.instance_id, queue_id)
        attached, _, _ = await self.qcs.of_queue(member, member.instance_id, queue.id, None, MAX_ROWS)
        everything, _ = await self.qcs.list_quick_connects(member, member.instance_id, None, None, MAX_ROWS)
        ids = {qc.id for qc in attached}
        return self.desk.render(request, member, "console/queue.html", {
            "queue": queue, "arn": self.desk.arn(queue.instance_id, queue.KIND, queue.id),
            "hours_arn": self.desk.arn(queue.instance_id, HoursOfOperation.KIND, queue.hours_of_operation_id)
            if queue.hours_of_operation_id else "",
            "attached": [(qc, self.desk.arn(qc.instance_id, qc.KIND, qc.id)) for qc in attached],
            "addable": [qc for qc in everything if qc.id not in ids], "error": error,
        }, status=status)

    async def add(self, request: Request, member: Member) -> Response:
        queue_id = request.path_params["queue_id"]
        chosen = self.desk.form(request).all("quick_connect")
        try:
            if not chosen:
                raise InvalidParameter("Choose a quick connect to add.")
            await self.qcs.associate_with_queue(member, member.instance_id, queue_id, chosen)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.view(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/queues/{queue_id}", "added")

    async def remove(self, request: Request, member: Member) -> Response:
        queue_id = request.path_params["queue_id"]
        chosen = self.desk.form(request).all("quick_connect")
        try:
            if not chosen:
                raise InvalidParameter("Choose a quick connect to remove.")
            await self.qcs.disassociate_from_queue(member, member.instance_id, queue_id, chosen)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.view(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/queues/{queue_id}", "removed")

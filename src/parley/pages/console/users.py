"""Users > User management: list and search, create (identity, password, security profiles, routing profile), a
user's page (the state right now, the quick connects to the user, edit, password reset, delete)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, InvalidParameter, NotFound
from parley.domain.resources import IdentityInfo, PhoneConfig, User
from parley.pages.console.desk import MAX_ROWS, Desk, status_of
from parley.pages.console.forms import Form
from parley.service.inputs import MAX_USERNAME


def _identity(form: Form) -> IdentityInfo:
    return IdentityInfo(first_name=form.get("first_name") or None, last_name=form.get("last_name") or None,
                        email=form.get("email") or None)


def _routing_profile(form: Form) -> str:
    chosen = form.get("routing_profile")
    if not chosen:
        raise InvalidParameter("Choose a routing profile.")
    return chosen


class UserPages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.directory = desk.services.directory
        self.qcs = desk.services.quick_connects

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin/users", page(self.listing), methods=["GET"]),
            Route("/admin/users/new", page(self.new), methods=["GET"]),
            Route("/admin/users/new", page(self.create), methods=["POST"]),
            Route("/admin/users/{user_id}", page(self.view), methods=["GET"]),
            Route("/admin/users/{user_id}", page(self.edit), methods=["POST"]),
            Route("/admin/users/{user_id}/password", page(self.set_password), methods=["POST"]),
            Route("/admin/users/{user_id}/delete", page(self.delete), methods=["POST"]),
        ]

    async def profiles(self, member: Member) -> dict[str, Any]:
        security, _ = await self.directory.list_security_profiles(member, member.instance_id, None, MAX_ROWS)
        routing, _ = await self.directory.list_routing_profiles(member, member.instance_id, None, MAX_ROWS)
        return {"security_profiles": security, "routing_profiles": routing,
                "names": {p.id: p.name or p.id for p in [*security, *routing]}}

    async def listing(self, request: Request, member: Member) -> Response:
        query = request.query_params.get("q", "").strip()[:MAX_USERNAME]
        users, _ = await self.directory.list_users(member, member.instance_id, None, MAX_ROWS)
        wanted = query.lower()
        shown = [u for u in users if wanted in " ".join(
            [u.username, u.identity.first_name or "", u.identity.last_name or ""]).lower()]
        return self.desk.render(request, member, "console/users.html", {
            **await self.profiles(member), "rows": shown, "query": query, "total": len(users)})

    async def new(self, request: Request, member: Member, *, values: dict[str, str] | None = None,
                  chosen: list[str] | None = None, error: str = "", status: int = 200) -> Response:
        found = await self.profiles(member)
        if values is None:
            basic = next((p.id for p in found["routing_profiles"] if p.is_default), "")
            values = {"routing_profile": basic}
            chosen = [p.id for p in found["security_profiles"] if p.name == "Agent"]
        return self.desk.render(request, member, "console/user_new.html", {
            **found, "values": values, "chosen": chosen or [], "error": error}, status=status)

    async def create(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        try:
            user = await self.directory.create_user(
                member, member.instance_id, form.get("username"), form.get("password", strip=False),
                _identity(form), PhoneConfig(), form.all("security_profile"), _routing_profile(form))
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            values = {k: v for k, v in form.values().items() if k != "password"}
            return await self.new(request, member, values=values, chosen=form.all("security_profile"),
                                  error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/users/{user.id}", "created")

    async def view(self, request: Request, member: Member, *, values: dict[str, str] | None = None,
                   chosen: list[str] | None = None, error: str = "", password_error: str = "",
                   status: int = 200) -> Response:
        user = await self.directory.get_user(member, member.instance_id, request.path_params["user_id"])
        state = await self.directory.user_state(member, member.instance_id, user.id)
        qcs, _ = await self.qcs.list_quick_connects(member, member.instance_id, ["USER"], None, MAX_ROWS)
        if values is None:
            values = {"first_name": user.identity.first_name or "", "last_name": user.identity.last_name or "",
                      "email": user.identity.email or "", "routing_profile": user.routing_profile_id}
            chosen = list(user.security_profile_ids)
        return self.desk.render(request, member, "console/user.html", {
            **await self.profiles(member), "user": user, "state": state,
            "arn": self.desk.arn(user.instance_id, user.KIND, user.id),
            "quick_connects": [(qc, self.desk.arn(qc.instance_id, qc.KIND, qc.id)) for qc in qcs
                               if qc.user_id == user.id],
            "values": values, "chosen": chosen or [], "error": error, "password_error": password_error,
        }, status=status)

    async def edit(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        iid = member.instance_id
        try:
            user: User = await self.directory.get_user(member, iid, request.path_params["user_id"])
            identity = _identity(form)
            routing = _routing_profile(form)
            security = form.all("security_profile")
            if not security:
                raise InvalidParameter("Choose at least one security profile.")
            if identity != user.identity:
                await self.directory.update_user_identity(member, iid, user.id, identity)
            if routing != user.routing_profile_id:
                await self.directory.update_user_routing_profile(member, iid, user.id, routing)
            if security != list(user.security_profile_ids):
                await self.directory.update_user_security_profiles(member, iid, user.id, security)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            if isinstance(exc, NotFound) and exc.resource_type == "USER":
                raise
            return await self.view(request, member, values=form.values(), chosen=form.all("security_profile"),
                                   error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/users/{user.id}", "saved")

    async def set_password(self, request: Request, member: Member) -> Response:
        user_id = request.path_params["user_id"]
        try:
            await self.directory.set_password(member, member.instance_id, user_id,
                                              self.desk.form(request).get("new_password", strip=False))
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            if isinstance(exc, NotFound):
                raise
            return await self.view(request, member, password_error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/users/{user_id}", "password")

    async def delete(self, request: Request, member: Member) -> Response:
        user_id = request.path_params["user_id"]
        if user_id == member.user.id:
            return self.desk.plain(request, member, 400, "Refused", "You cannot delete the user you are signed in as.")
        await self.directory.delete_user(member, member.instance_id, user_id)
        return self.desk.done("/admin/users", "deleted")

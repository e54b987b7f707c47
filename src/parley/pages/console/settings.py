"""The instance's pages: the overview (``/admin``), "Telephony and chat" settings (``/admin/settings``: the seed's
"Enable Multi-Party Chats and Enhanced Monitoring for Chat" checkbox, and each attribute on its own) and
"Application integration" (``/admin/origins``: the approved origins)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, InvalidParameter
from parley.domain.instance import ATTRIBUTE_DEFAULTS
from parley.pages.console.desk import Desk, status_of

# The seed's one checkbox sets both of these, as Connect's console does.
MULTI_PARTY = ("MULTI_PARTY_CHAT_CONFERENCE", "ENHANCED_CHAT_MONITORING")
ORIGINS_PAGE = 100


class InstancePages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.instances = desk.services.instances

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin", page(self.overview), methods=["GET"]),
            Route("/admin/", page(self.overview), methods=["GET"]),
            Route("/admin/settings", page(self.settings), methods=["GET"]),
            Route("/admin/settings/multi-party", page(self.multi_party), methods=["POST"]),
            Route("/admin/settings/attribute", page(self.attribute), methods=["POST"]),
            Route("/admin/origins", page(self.origins), methods=["GET"]),
            Route("/admin/origins/add", page(self.add_origin), methods=["POST"]),
            Route("/admin/origins/remove", page(self.remove_origin), methods=["POST"]),
        ]

    async def overview(self, request: Request, member: Member) -> Response:
        instance = await self.instances.get_instance(member, member.instance_id)
        return self.desk.render(request, member, "console/overview.html", {
            "instance": instance, "instance_arn": self.desk.account.instance_arn(instance.id),
            "multi_party": all(instance.flag(name) for name in MULTI_PARTY),
            "origins": len(instance.approved_origins),
        })

    # settings --------------------------------------------------------------------------------------------------
    async def settings(self, request: Request, member: Member, *, error: str = "", status: int = 200) -> Response:
        attributes, _ = await self.instances.list_attributes(member, member.instance_id, None, len(ATTRIBUTE_DEFAULTS))
        values = dict(attributes)
        return self.desk.render(request, member, "console/settings.html", {
            "attributes": attributes, "error": error,
            "multi_party": all(values.get(name) == "true" for name in MULTI_PARTY),
        }, status=status)

    async def multi_party(self, request: Request, member: Member) -> Response:
        value = "true" if self.desk.form(request).has("enabled") else "false"
        try:
            for name in MULTI_PARTY:
                await self.instances.set_attribute(member, member.instance_id, name, value)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.settings(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done("/admin/settings", "saved")

    async def attribute(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        name, value = form.get("name"), form.get("value")
        try:
            if name not in ATTRIBUTE_DEFAULTS:
                raise InvalidParameter(f"The instance has no setting named '{name[:100]}'.")
            await self.instances.set_attribute(member, member.instance_id, name, value)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.settings(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done("/admin/settings", "saved")

    # approved origins ------------------------------------------------------------------------------------------
    async def origins(self, request: Request, member: Member, *, error: str = "", typed: str = "",
                      status: int = 200) -> Response:
        origins, _ = await self.instances.list_origins(member, member.instance_id, None, ORIGINS_PAGE)
        return self.desk.render(request, member, "console/origins.html", {
            "origins": origins, "error": error, "typed": typed,
        }, status=status)

    async def add_origin(self, request: Request, member: Member) -> Response:
        origin = self.desk.form(request).get("origin")
        try:
            await self.instances.associate_origin(member, member.instance_id, origin)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.origins(request, member, error=exc.message, typed=origin, status=status_of(exc))
        return self.desk.done("/admin/origins", "added")

    async def remove_origin(self, request: Request, member: Member) -> Response:
        origin = self.desk.form(request).get("origin")
        try:
            await self.instances.disassociate_origin(member, member.instance_id, origin)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.origins(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done("/admin/origins", "removed")

"""Users > Security profiles (list, create, view: permissions named as Connect's admin website names them) and
Routing > Routing profiles (list, create, view: chat concurrency and queues, add a queue)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.errors import AccessDenied, DomainError, InvalidParameter
from parley.domain.permissions import LABELS
from parley.domain.resources import MediaConcurrency, RoutingQueueConfig
from parley.pages.console.desk import MAX_ROWS, Desk, status_of
from parley.pages.console.forms import Form

# How the permissions are grouped on a security profile's page, by their API name's first word.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Routing", ("Queues", "RoutingPolicies", "TransferDestinations", "HoursOfOperation")),
    ("Users and permissions", ("Users", "SecurityProfiles", "AgentStates")),
    ("Channels and flows", ("ContactFlows",)),
    ("Analytics and optimization", ("AccessMetrics", "ManagerListenIn", "ManagerBargeIn", "ContactSearchView")),
    ("Contact Control Panel (CCP)", ("BasicAgentAccess", "OutboundCallAccess")),
    ("Instance settings", ("TelephonyAndChat",)),
)


def grouped() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every permission Parley knows, as (area, [(API name, Connect's label)])."""
    return [(area, [(name, label) for name, label in LABELS.items() if name.split(".")[0] in words])
            for area, words in AREAS]


def _number(form: Form, name: str, label: str) -> int:
    """A whole number typed in a field (its range is the service's to check)."""
    text = form.get(name)
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise InvalidParameter(f"Enter {label} as a whole number.")
    return int(text)


class ProfilePages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.directory = desk.services.directory

    def routes(self) -> list[Route]:
        page = self.desk.page
        return [
            Route("/admin/security-profiles", page(self.security_list), methods=["GET"]),
            Route("/admin/security-profiles/new", page(self.security_new), methods=["GET"]),
            Route("/admin/security-profiles/new", page(self.security_create), methods=["POST"]),
            Route("/admin/security-profiles/{profile_id}", page(self.security_view), methods=["GET"]),
            Route("/admin/routing-profiles", page(self.routing_list), methods=["GET"]),
            Route("/admin/routing-profiles/new", page(self.routing_new), methods=["GET"]),
            Route("/admin/routing-profiles/new", page(self.routing_create), methods=["POST"]),
            Route("/admin/routing-profiles/{profile_id}", page(self.routing_view), methods=["GET"]),
            Route("/admin/routing-profiles/{profile_id}/queues", page(self.routing_add_queue), methods=["POST"]),
        ]

    # security profiles -----------------------------------------------------------------------------------------
    async def security_list(self, request: Request, member: Member) -> Response:
        rows, _ = await self.directory.list_security_profiles(member, member.instance_id, None, MAX_ROWS)
        return self.desk.render(request, member, "console/security_profiles.html", {"rows": rows})

    async def security_new(self, request: Request, member: Member, *, values: dict[str, str] | None = None,
                           chosen: list[str] | None = None, error: str = "", status: int = 200) -> Response:
        return self.desk.render(request, member, "console/security_profile_new.html", {
            "areas": grouped(), "values": values or {}, "chosen": chosen or [], "error": error}, status=status)

    async def security_create(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        try:
            profile = await self.directory.create_security_profile(
                member, member.instance_id, form.get("name"), form.get("description"), form.all("permission"))
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.security_new(request, member, values=form.values(), chosen=form.all("permission"),
                                           error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/security-profiles/{profile.id}", "created")

    async def security_view(self, request: Request, member: Member) -> Response:
        profile = await self.directory.get_security_profile(member, member.instance_id,
                                                            request.path_params["profile_id"])
        known = set(LABELS)
        return self.desk.render(request, member, "console/security_profile.html", {
            "profile": profile, "areas": grouped(), "arn": self.desk.arn(profile.instance_id, profile.KIND, profile.id),
            "other": [p for p in profile.permissions if p not in known]})

    # routing profiles ------------------------------------------------------------------------------------------
    async def routing_list(self, request: Request, member: Member) -> Response:
        rows, _ = await self.directory.list_routing_profiles(member, member.instance_id, None, MAX_ROWS)
        return self.desk.render(request, member, "console/routing_profiles.html", {"rows": rows})

    async def routing_new(self, request: Request, member: Member, *, values: dict[str, str] | None = None,
                          chosen: list[str] | None = None, error: str = "", status: int = 200) -> Response:
        queues, _ = await self.directory.list_queues(member, member.instance_id, ["STANDARD"], None, MAX_ROWS)
        return self.desk.render(request, member, "console/routing_profile_new.html", {
            "queues": queues, "values": values or {"chat": "3"}, "chosen": chosen or [], "error": error},
            status=status)

    async def routing_create(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        try:
            name, description = form.get("name"), form.get("description")
            if not description:  # Connect requires one; the service lets Parley's own callers leave it out
                raise InvalidParameter("Enter a description.")
            outbound = form.get("outbound_queue")
            if not outbound:
                raise InvalidParameter("Choose the default outbound queue.")
            chats = _number(form, "chat", "the chat concurrency")
            media = [MediaConcurrency("VOICE", 1), MediaConcurrency("CHAT", chats), MediaConcurrency("TASK", 1)]
            configs = [RoutingQueueConfig(queue_id, "CHAT", 1, 0) for queue_id in form.all("queue")]
            profile = await self.directory.create_routing_profile(member, member.instance_id, name, description,
                                                                  outbound, media, configs)
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.routing_new(request, member, values=form.values(), chosen=form.all("queue"),
                                          error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/routing-profiles/{profile.id}", "created")

    async def routing_view(self, request: Request, member: Member, *, error: str = "", status: int = 200) -> Response:
        iid = member.instance_id
        profile, users = await self.directory.describe_routing_profile(member, iid, request.path_params["profile_id"])
        rows, _ = await self.directory.routing_profile_queues(member, iid, profile.id, None, MAX_ROWS)
        queues, _ = await self.directory.list_queues(member, iid, ["STANDARD"], None, MAX_ROWS)
        return self.desk.render(request, member, "console/routing_profile.html", {
            "profile": profile, "users": users, "rows": rows, "queues": queues, "error": error,
            "arn": self.desk.arn(profile.instance_id, profile.KIND, profile.id),
            "outbound": next((q.name for q in queues if q.id == profile.default_outbound_queue_id), "")},
            status=status)

    async def routing_add_queue(self, request: Request, member: Member) -> Response:
        form = self.desk.form(request)
        profile_id = request.path_params["profile_id"]
        try:
            queue_id = form.get("queue")
            if not queue_id:
                raise InvalidParameter("Choose a queue to add.")
            config = RoutingQueueConfig(queue_id, "CHAT", _number(form, "priority", "the priority"),
                                        _number(form, "delay", "the delay in seconds"))
            await self.directory.associate_routing_profile_queues(member, member.instance_id, profile_id, [config])
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            return await self.routing_view(request, member, error=exc.message, status=status_of(exc))
        return self.desk.done(f"/admin/routing-profiles/{profile_id}", "added")

"""The CCP page custom agent pages frame and its SharedWorker script.

Two URLs serve it. ``/connect/<alias or id>/ccp-v2/`` is an instance's own CCP (like Connect's per-instance host
``<alias>.my.connect.aws/ccp-v2``): only that instance's approved origins may frame it (CSP ``frame-ancestors``),
signed in or not, and an agent signed in to another instance is refused there. The generic ``/connect/ccp-v2/``
may be framed by the approved origins of the signed-in agent's instance, and signed out by no other site
('self' only). Origins are read from storage on every request (``AssociateApprovedOrigin`` needs no restart) and
re-validated when the header is built, so no stored value can break or widen it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from parley.domain.agents import AgentSession
from parley.service.auth import AuthService
from parley.service.instances import InstanceService, framing_origins
from parley.web.libraries import Libraries
from parley.web.login import LOGOUT_PATH, SESSION_COOKIE, HtmlTemplates

STATIC = Path(__file__).parent / "static"
# Query values a page may give to pick a served StreamsJS version for the CCP itself (``?streams=2.18.1``).
VERSION_CHARS = frozenset("0123456789.")

# Headers of every CCP answer besides its CSP.
BASE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def content_security_policy(sources: list[str]) -> str:
    """The CCP's CSP; ``sources`` are origins already re-validated by :func:`framing_origins`."""
    allowed = " ".join(["'self'", *sources])
    return (f"frame-ancestors {allowed}; default-src 'self'; script-src 'self' 'unsafe-eval'; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self'; "
            "base-uri 'none'; form-action 'self'")


class CcpPages:
    """The CCP's routes: its page (the template ``ccp.html``, or ``ccp_notice.html`` when it refuses), sent with
    its own CSP (:func:`content_security_policy`), and its worker, scripts and styles."""

    def __init__(self, templates: HtmlTemplates, libraries: Libraries, region: str, auth: AuthService,
                 instances: InstanceService) -> None:
        self.templates = templates
        self.libraries = libraries
        self.region = region
        self.auth = auth
        self.instances = instances

    async def _session(self, request: Request) -> AgentSession | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        return await self.auth.session(token) if token else None

    async def page(self, request: Request) -> Response:
        """The generic CCP: framable by the signed-in agent's instance's origins; signed out, by no other site."""
        session = await self._session(request)
        instance = await self.instances.find_instance(session.instance_id) if session else None
        if instance is None:
            return self._render(request, [], "")
        return self._render(request, framing_origins(instance), instance.alias)

    async def instance_page(self, request: Request) -> Response:
        """One instance's CCP: framable by that instance's approved origins only, signed in or out."""
        instance = await self.instances.find_instance(request.path_params["instance"])
        if instance is None:
            return self._notice(404, [], "There is no Parley instance by this name.")
        session = await self._session(request)
        origins = framing_origins(instance)
        if session is not None and session.instance_id != instance.id:
            return self._notice(
                403, origins, f"You are signed in to another instance, not to {instance.alias}. Sign out first.",
                sign_out=True,
            )
        return self._render(request, origins, instance.alias)

    def _render(self, request: Request, origins: list[str], alias: str) -> Response:
        wanted = request.query_params.get("streams")
        version = wanted if wanted and set(wanted) <= VERSION_CHARS else None
        streams = self.libraries.url("streams", version)
        body = self.templates.render_html("ccp.html", region=self.region, streams=streams, instance=alias)
        headers = {"Content-Security-Policy": content_security_policy(origins), **BASE_HEADERS}
        return HTMLResponse(body, headers=headers)

    def _notice(self, status: int, origins: list[str], text: str, *, sign_out: bool = False) -> Response:
        """A refusal: ``text`` (one sentence), with a link to the sign-out page when ``sign_out``."""
        headers = {"Content-Security-Policy": content_security_policy(origins), **BASE_HEADERS}
        body = self.templates.render_html("ccp_notice.html", text=text, sign_out=LOGOUT_PATH if sign_out else "")
        return HTMLResponse(body, status, headers)

    async def worker(self, _request: Request) -> Response:
        return FileResponse(STATIC / "ccp" / "worker.js", media_type="application/javascript",
                            headers={"Cache-Control": "no-cache"})

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = (STATIC / "ccp" / name).resolve()
        if path.parent != (STATIC / "ccp").resolve() or not path.is_file():
            return Response("Not found", status_code=404, media_type="text/plain")
        kind = {".js": "application/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-cache"})

    async def agent_app(self, _request: Request) -> Response:
        """StreamsJS's AgentAppService calls (Voice ID, integrations): Parley has none to offer."""
        return Response('{"IntegrationAssociationSummaryList": []}', media_type="application/json")

    def routes(self) -> list[Route]:
        return [
            Route("/connect/ccp-v2/", self.page, methods=["GET"]),
            Route("/connect/ccp-v2", self.page, methods=["GET"]),
            Route("/connect/ccp", self.page, methods=["GET"]),
            Route("/connect/ccp-v2/worker.js", self.worker, methods=["GET"]),
            Route("/connect/{instance}/ccp-v2/", self.instance_page, methods=["GET"]),
            Route("/connect/{instance}/ccp-v2", self.instance_page, methods=["GET"]),
            Route("/connect/{instance}/ccp", self.instance_page, methods=["GET"]),
            Route("/connect/static/ccp/{name}", self.static, methods=["GET"]),
            Route("/agent-app/api", self.agent_app, methods=["POST"]),
        ]

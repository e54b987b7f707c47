"""``/agent``: the agent workspace page. It frames the instance's CCP with ``connect.core.initCCP`` and chats
through ChatJS, exactly like an integrator's custom CCP; everything it does goes through StreamsJS and ChatJS,
so this module only renders the shell, tells the page which CCP to frame, and serves the canned responses
(:mod:`parley.pages.workspace.canned`).

``/agent?instance=<alias>`` frames ``/connect/<alias>/ccp-v2/``; without it the page frames the site's default
CCP (the demo instance's, or the generic ``/connect/ccp-v2/`` of the signed-in agent's instance).

Like the CCP it frames, the workspace may itself be framed by its instance's approved origins (CSP
``frame-ancestors 'self'`` and those origins, read on every request): the named instance's, else the default CCP's
instance's, else the signed-in agent's; by no other site.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.domain.instance import Instance
from parley.pages.csrf import Csrf
from parley.pages.templating import Pages
from parley.pages.workspace.canned import CannedApi
from parley.service.auth import AuthService
from parley.service.canned import CannedResponseService
from parley.service.instances import InstanceService, framing_origins
from parley.service.widgets import origin_of

# An instance alias or id as Parley accepts them in CCP paths: letters, digits, '-' and '_' (at most 64).
INSTANCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
GENERIC_CCP = "/connect/ccp-v2/"
# Offers expire after this many seconds unless the server says otherwise (parley.config.Config.offer_seconds).
DEFAULT_OFFER_SECONDS = 20.0


class WorkspacePages:
    """The routes of the agent workspace; ``session_cookie`` is the CCP's sign-in cookie."""

    def __init__(self, pages: Pages, auth: AuthService, instances: InstanceService, canned: CannedResponseService,
                 *, public_url: str, session_cookie: str, offer_seconds: float = DEFAULT_OFFER_SECONDS) -> None:
        self.pages = pages
        self.auth = auth
        self.instances = instances
        self.session_cookie = session_cookie
        self.offer_seconds = offer_seconds
        self.csrf = Csrf(origin_of(public_url), secure=public_url.startswith("https"))
        self.canned = CannedApi(canned, auth, self.csrf, session_cookie=session_cookie)

    def routes(self) -> list[Route]:
        return [Route("/agent", self.page, methods=["GET", "HEAD"]),
                Route("/agent/", self.page, methods=["GET", "HEAD"]),
                *self.canned.routes()]

    def default_ccp(self) -> str:
        site = self.pages.env.globals.get("site")
        path = site.get("ccp_path") if isinstance(site, dict) else None
        return path if isinstance(path, str) and path.startswith("/connect/") else GENERIC_CCP

    async def framing_instance(self, request: Request, instance: str) -> Instance | None:
        """The instance whose approved origins may frame this page: the one whose CCP it frames, else the signed-in
        agent's."""
        if instance:
            return await self.instances.find_instance(instance)
        token = request.cookies.get(self.session_cookie, "")
        session = await self.auth.session(token) if token else None
        return await self.instances.find_instance(session.instance_id) if session else None

    async def page(self, request: Request) -> Response:
        wanted = request.query_params.get("instance")
        error = ""
        if wanted is None:
            ccp = self.default_ccp()
        elif INSTANCE_NAME.fullmatch(wanted):
            ccp = f"/connect/{wanted}/ccp-v2/"
        else:
            ccp, error = GENERIC_CCP, ("The instance in this link is not a valid instance name (letters, digits, "
                                       "'-' and '_'); showing your own instance instead.")
        instance = ccp.split("/")[2] if ccp != GENERIC_CCP else ""
        login = "/connect/login?landat=/agent" + (f"%3Finstance%3D{wanted}" if wanted and not error else "")
        if instance:
            login += f"&instance={instance}"
        framer = await self.framing_instance(request, instance)
        token = self.csrf.token(request)
        context = {"ccp_url": ccp, "instance": instance, "login_url": login, "link_error": error,
                   "offer_seconds": int(self.offer_seconds), "csrf": token}
        response = self.pages.render(request, "workspace.html", context, status=200,
                                     frame_ancestors=("'self'", *(framing_origins(framer) if framer else ())))
        self.csrf.remember(response, token)
        return response

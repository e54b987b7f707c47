"""``/agent``: the agent workspace page. It frames the instance's CCP with ``connect.core.initCCP`` and chats
through ChatJS, exactly like an integrator's custom CCP; everything it does goes through StreamsJS and ChatJS,
so this module only renders the shell and tells the page which CCP to frame.

``/agent?instance=<alias>`` frames ``/connect/<alias>/ccp-v2/``; without it the page frames the site's default
CCP (the demo instance's, or the generic ``/connect/ccp-v2/`` of the signed-in agent's instance).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.pages.templating import Pages

# An instance alias or id as Parley accepts them in CCP paths: letters, digits, '-' and '_' (at most 64).
INSTANCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
GENERIC_CCP = "/connect/ccp-v2/"
# Offers expire after this many seconds unless the server says otherwise (parley.config.Config.offer_seconds).
DEFAULT_OFFER_SECONDS = 20.0


class WorkspacePages:
    """The routes of the agent workspace."""

    def __init__(self, pages: Pages, *, offer_seconds: float = DEFAULT_OFFER_SECONDS) -> None:
        self.pages = pages
        self.offer_seconds = offer_seconds

    def routes(self) -> list[Route]:
        return [Route("/agent", self.page, methods=["GET", "HEAD"]),
                Route("/agent/", self.page, methods=["GET", "HEAD"])]

    def default_ccp(self) -> str:
        site = self.pages.env.globals.get("site")
        path = site.get("ccp_path") if isinstance(site, dict) else None
        return path if isinstance(path, str) and path.startswith("/connect/") else GENERIC_CCP

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
        context = {"ccp_url": ccp, "instance": instance, "login_url": login, "link_error": error,
                   "offer_seconds": int(self.offer_seconds)}
        return self.pages.render(request, "workspace.html", context, status=200,
                                 frame_ancestors=("'self'",))

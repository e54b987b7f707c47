"""The CCP page custom agent pages frame (``/connect/ccp-v2/``) and its SharedWorker script.

The page may be framed only by the instance's approved origins (CSP ``frame-ancestors``), read from
storage on every request, so ``AssociateApprovedOrigin`` takes effect without a restart.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from parley.web.libraries import Libraries

STATIC = Path(__file__).parent / "static"
# Query values a page may give to pick a served StreamsJS version for the CCP itself (``?streams=2.18.1``).
VERSION_CHARS = frozenset("0123456789.")

OriginsFor = Callable[[Request], Awaitable[list[str]]]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="parley-region" content="{region}">
<meta name="parley-streams" content="{streams}">
<title>Parley CCP</title>
<link rel="stylesheet" href="/connect/static/ccp/ccp.css">
</head>
<body>
<script src="{streams}"></script>
<script src="/connect/static/ccp/ccp.js"></script>
</body>
</html>
"""


def frame_ancestors(origins: list[str]) -> str:
    allowed = " ".join(["'self'", *sorted(set(origins))])
    return (f"frame-ancestors {allowed}; default-src 'self'; script-src 'self' 'unsafe-eval'; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self'; "
            "base-uri 'none'; form-action 'self'")


class CcpPages:
    def __init__(self, libraries: Libraries, region: str, origins_for: OriginsFor) -> None:
        self.libraries = libraries
        self.region = region
        self.origins_for = origins_for

    async def page(self, request: Request) -> Response:
        wanted = request.query_params.get("streams")
        version = wanted if wanted and set(wanted) <= VERSION_CHARS else None
        streams = self.libraries.url("streams", version)
        body = PAGE.format(region=html.escape(self.region), streams=html.escape(streams))
        headers = {
            "Content-Security-Policy": frame_ancestors(await self.origins_for(request)),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
        return HTMLResponse(body, headers=headers)

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
            Route("/connect/static/ccp/{name}", self.static, methods=["GET"]),
            Route("/agent-app/api", self.agent_app, methods=["POST"]),
        ]

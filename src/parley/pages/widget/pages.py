"""The widget's pages: the loader script websites embed (``/widget.js``), the chat window it frames
(``/widget/{id}/window``) and Parley's test chat page (``/test-chat``).

Thin by design: what a page shows comes from the services (:class:`parley.service.widgets.WidgetService`), and the
chat itself runs in the browser (the modules of ``static/``, driving unmodified ChatJS). The window may be framed
only by the widget's allowed origins (CSP ``frame-ancestors``); the test chat page by nobody.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.domain.errors import NotFound
from parley.pages.templating import Pages
from parley.service.demo import DEMO_PASSWORD
from parley.service.widgets import WidgetService

HERE = Path(__file__).resolve().parent
LOADER = HERE / "static" / "loader.js"
CHATJS_URL = "/lib/amazon-connect-chat.js"
LOADER_HEADERS = {
    "Cache-Control": "no-cache",  # revalidated on every page view (ETag): a new release is picked up at once
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}


def websocket_origin(public_url: str) -> str:
    """The origin of the participant websockets Parley hands out for ``public_url`` (``ws://`` or ``wss://``)."""
    parts = urlsplit(public_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def public_origin(public_url: str) -> str:
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}"


class WidgetPages:
    """Routes of the widget's pages; ``public_url`` is Parley's base URL (ChatJS's endpoint and websockets)."""

    def __init__(self, pages: Pages, widgets: WidgetService, *, public_url: str) -> None:
        self.pages = pages
        self.widgets = widgets
        # ChatJS calls the Participant Service at the public URL and opens its websocket there: the pages may
        # connect to both even when a browser reached them under another name (localhost vs 127.0.0.1).
        self.connect = (public_origin(public_url), websocket_origin(public_url))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/widget.js", self.loader, methods=["GET", "HEAD"]),
            Route("/widget/{widget_id}/window", self.window, methods=["GET", "HEAD"]),
            Route("/test-chat", self.test_chat, methods=["GET", "HEAD"]),
        ]

    async def loader(self, request: Request) -> Response:
        body = await self.pages.assets.minifier.script(LOADER)
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {**LOADER_HEADERS, "ETag": etag}
        if etag in [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)

    async def window(self, request: Request) -> Response:
        try:
            widget = await self.widgets.get(request.path_params["widget_id"])
        except NotFound:
            return self.pages.render(request, "not_found.html", {"path": request.url.path}, status=404)
        context = {
            "widget": widget,
            "allowed_origins_json": json.dumps(list(widget.allowed_origins)),
            "chatjs_url": CHATJS_URL,
        }
        return self.pages.render(request, "widget_window.html", context,
                                 frame_ancestors=("'self'", *widget.allowed_origins), connect=self.connect)

    async def test_chat(self, request: Request) -> Response:
        context = {"demo": self.widgets.demo, "demo_password": DEMO_PASSWORD, "chatjs_url": CHATJS_URL}
        return self.pages.render(request, "test_chat.html", context, connect=self.connect)


"""Server-rendered pages: one Jinja2 environment (autoescaped), the strict Content-Security-Policy every page
gets, and the import map that lets the pages' native ES modules import the npm packages by name.

Every page is rendered through :class:`Pages`: ``script-src 'self'`` plus the hash of the page's import map (an
import map is inline JSON, which CSP treats as a script), no inline script or style, no other host, and
``frame-ancestors`` as the page asks (``'none'`` unless it says otherwise). The agent sign-in pages and the CCP
(:mod:`parley.web.login`, :mod:`parley.web.ccp`) are the exceptions: their templates are here too, but they take
only the text (:meth:`Pages.render_html`) and send it with their own headers and CSP.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from parley.pages.assets import Assets

HERE = Path(__file__).resolve().parent
# Headers every page carries besides its CSP.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def content_security_policy(import_map_hash: str | None, frame_ancestors: Iterable[str] = ("'none'",),
                            connect: Iterable[str] = ()) -> str:
    """The policy of a page: only Parley's own scripts, styles, images and connections (plus its websockets,
    given in ``connect``), framed only by ``frame_ancestors``."""
    scripts = "'self'" + (f" '{import_map_hash}'" if import_map_hash else "")
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts}",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "font-src 'self'",
        "media-src 'self' blob:",
        " ".join(["connect-src 'self'", *connect]),
        "frame-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        f"frame-ancestors {ancestors}",
    ])


def sha256_source(text: str) -> str:
    """The CSP hash source of an inline element's text."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class Pages:
    """Renders the templates of every app folder (``pages/<app>/templates``) and ``pages/templates``."""

    def __init__(self, assets: Assets, *, site: Mapping[str, Any]) -> None:
        folders = [HERE / "templates", *sorted(p for p in HERE.glob("*/templates") if p.is_dir())]
        self.env = Environment(
            loader=FileSystemLoader([str(p) for p in folders]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.assets = assets
        self.import_map = json.dumps({"imports": assets.import_map()}, indent=1, sort_keys=True)
        self.import_map_hash = sha256_source(self.import_map)
        self.env.globals.update(site=dict(site), asset=assets.url, import_map=self.import_map)

    def render(self, request: Request, template: str, context: Mapping[str, Any] | None = None, *,
               status: int = 200, frame_ancestors: Iterable[str] = ("'none'",),
               connect: Iterable[str] = (), headers: Mapping[str, str] | None = None) -> HTMLResponse:
        """The page as an HTML response with its security headers."""
        html = self.env.get_template(template).render(request=request, **(context or {}))
        policy = content_security_policy(self.import_map_hash, frame_ancestors, connect)
        return HTMLResponse(html, status, {**PAGE_HEADERS, "Content-Security-Policy": policy, **(headers or {})})

    def render_html(self, template: str, /, **context: object) -> str:
        """Only the template's text (autoescaped), for a page that sends it with headers of its own: the agent
        sign-in pages and the CCP (:mod:`parley.web.login`, :mod:`parley.web.ccp`) keep their own CSP."""
        return self.env.get_template(template).render(**context)


def wants_html(request: Request) -> bool:
    """True when the client asks for a page (a browser's navigation) rather than JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]

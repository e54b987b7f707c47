"""The pages' static files and the npm packages their ES modules import.

- ``/static/<file>`` serves ``pages/static`` (the shared design tokens and styles) and ``/static/<app>/<file>``
  each app folder's ``static`` directory, its ES modules minified (:mod:`parley.pages.minify`); revalidated on
  every use (ETag), so a new release is picked up at once.
- ``/vendor/<package>/<file>`` serves the browser builds of the npm packages the pages use, from the
  ``node_modules`` the install script filled (never committed), only the files listed in :data:`VENDOR_FILES`.
  :meth:`Assets.import_map` maps each bare module name to its URL, so the pages' modules
  ``import { h } from "preact"`` with no bundler and no build step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from parley.pages.minify import ScriptMinifier

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class VendorFile:
    """One browser file of an npm package, and the module name pages import it by (None: a classic script).

    ``umd``: the file is a minified UMD build (smaller than the package's ES module), served as an ES module whose
    default export is what the build assigns to ``module.exports``.
    """

    package: str
    path: str
    module: str | None = None
    umd: bool = False


VENDOR_FILES = (
    VendorFile("preact", "dist/preact.mjs", "preact"),
    VendorFile("preact", "hooks/dist/hooks.mjs", "preact/hooks"),
    VendorFile("@preact/signals", "dist/signals.mjs", "@preact/signals"),
    VendorFile("@preact/signals-core", "dist/signals-core.mjs", "@preact/signals-core"),
    VendorFile("htm", "dist/htm.mjs", "htm"),
    VendorFile("marked", "lib/marked.esm.js", "marked"),
    # 11.7 KB gzipped instead of the ES module's 21.3 KB (unminified).
    VendorFile("dompurify", "dist/purify.min.js", "dompurify", umd=True),
    VendorFile("htmx.org", "dist/htmx.min.js"),
)


class Assets:
    """Static routes and URLs for the pages."""

    def __init__(self, node_modules: Path | None) -> None:
        self.node_modules = node_modules
        self.versions: dict[str, str] = {}
        for package in {f.package for f in VENDOR_FILES}:
            manifest = node_modules / package / "package.json" if node_modules else None
            try:
                self.versions[package] = str(json.loads(manifest.read_text())["version"]) if manifest else "missing"
            except (OSError, ValueError, KeyError):
                self.versions[package] = "missing"
        self.files = {(f.package, f.path): f for f in VENDOR_FILES}
        self.minifier = ScriptMinifier(node_modules)

    def vendor_url(self, file: VendorFile) -> str:
        # The version in the URL changes it when the package is upgraded, so browsers may keep it for a day.
        return f"/vendor/{file.package}/{self.versions[file.package]}/{file.path}"

    def import_map(self) -> dict[str, str]:
        return {f.module: self.vendor_url(f) for f in VENDOR_FILES if f.module}

    def url(self, name: str) -> str:
        """The URL of a static file (``tokens.css``, ``widget/app.js``) or a vendor script (``htmx.org``)."""
        for file in VENDOR_FILES:
            if name == file.package and file.module is None:
                return self.vendor_url(file)
        return f"/static/{name}"

    def routes(self) -> list[BaseRoute]:
        apps = sorted(p.parent.name for p in HERE.glob("*/static") if p.is_dir())
        return [
            Route("/vendor/{rest:path}", self.vendor, methods=["GET", "HEAD"]),
            *[Mount(f"/static/{app}", ScriptFiles(HERE / app / "static", self.minifier)) for app in apps],
            Mount("/static", StaticFiles(directory=HERE / "static")),
        ]

    async def vendor(self, request: Request) -> Response:
        rest: str = request.path_params["rest"]
        # Package names hold one "/" at most (a scope): "@preact/signals/2.11.4/dist/signals.mjs".
        parts = rest.split("/", 3 if rest.startswith("@") else 2)
        if rest.startswith("@") and len(parts) == 4:
            package, version, path = f"{parts[0]}/{parts[1]}", parts[2], parts[3]
        elif not rest.startswith("@") and len(parts) == 3:
            package, version, path = parts
        else:
            package = version = path = ""
        file = self.files.get((package, path))
        if file is None or self.node_modules is None or version != self.versions.get(package):
            return PlainTextResponse("Not found: this file is not one Parley serves to pages.", 404)
        found = self.node_modules / package / path
        if not found.is_file():
            return PlainTextResponse(f"The {package} npm package is not installed: run scripts/install.", 404)
        media = "text/javascript; charset=utf-8"
        headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if file.umd:
            return Response(as_es_module(found.read_bytes()), media_type=media, headers=headers)
        return FileResponse(found, media_type=media, headers=headers)


class ScriptFiles(StaticFiles):
    """An app's static files, its ES modules minified (:class:`parley.pages.minify.ScriptMinifier`); the rest, and
    the revalidation of every file (ETag, 304), as Starlette serves static files."""

    def __init__(self, directory: Path, minifier: ScriptMinifier) -> None:
        super().__init__(directory=directory)
        self.minifier = minifier

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        if not str(response.path).endswith(".js"):
            return response
        body = await self.minifier.script(Path(response.path))
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        return Response(body, headers=headers)


def as_es_module(umd: bytes) -> bytes:
    """A UMD build as an ES module: it sees CommonJS's ``module`` and ``exports`` and fills them; their value is
    the module's default export."""
    return (b"const module = { exports: {} };\nconst exports = module.exports;\n" + umd
            + b"\nexport default module.exports;\n")

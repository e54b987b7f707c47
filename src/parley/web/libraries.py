"""Serves the vendor browser libraries (StreamsJS, ChatJS) from the npm packages the install script put in
``node_modules``, at stable URLs: ``/lib/connect-streams.js``, ``/lib/amazon-connect-chat.js`` (the pinned
latest) and ``/lib/streams/{version}/connect-streams.js``, ``/lib/chatjs/{version}/amazon-connect-chat.js``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

# Which file of each npm package is the browser bundle.
BUNDLES = {"streams": ("amazon-connect-streams", "release/connect-streams.js"),
           "chatjs": ("amazon-connect-chatjs", "dist/amazon-connect-chat.js")}


@dataclass(frozen=True)
class Bundle:
    library: str
    version: str
    path: Path


def find_node_modules() -> Path | None:
    """``PARLEY_NODE_MODULES``, else ``./node_modules``, else the repository's ``node_modules``."""
    candidates = [os.environ.get("PARLEY_NODE_MODULES"), str(Path.cwd() / "node_modules"),
                  str(Path(__file__).resolve().parents[3] / "node_modules")]
    for candidate in candidates:
        if candidate and Path(candidate, "amazon-connect-streams").is_dir():
            return Path(candidate)
    return None


def discover(node_modules: Path | None) -> dict[tuple[str, str], Bundle]:
    """Every installed version of each library (npm aliases like ``streams218`` included)."""
    found: dict[tuple[str, str], Bundle] = {}
    if node_modules is None:
        return found
    for package_dir in sorted(node_modules.iterdir()):
        manifest = package_dir / "package.json"
        if not manifest.is_file():
            continue
        try:
            meta = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        for library, (package, relative) in BUNDLES.items():
            bundle = package_dir / relative
            if meta.get("name") == package and bundle.is_file():
                found[(library, str(meta.get("version")))] = Bundle(library, str(meta.get("version")), bundle)
    return found


def _newest(bundles: dict[tuple[str, str], Bundle], library: str) -> Bundle | None:
    versions = [b for (lib, _), b in bundles.items() if lib == library]
    return max(versions, key=lambda b: tuple(int(x) for x in b.version.split(".") if x.isdigit()), default=None)


class Libraries:
    def __init__(self, node_modules: Path | None) -> None:
        self.bundles = discover(node_modules)

    def latest(self, library: str) -> Bundle | None:
        return _newest(self.bundles, library)

    def url(self, library: str, version: str | None = None) -> str:
        bundle = self.bundles.get((library, version)) if version else None
        bundle = bundle or self.latest(library)
        name = BUNDLES[library][1].rsplit("/", 1)[1]
        return f"/lib/{library}/{bundle.version if bundle else 'missing'}/{name}"

    def _serve(self, bundle: Bundle | None, library: str) -> Response:
        if bundle is None:
            return PlainTextResponse(
                f"The {BUNDLES[library][0]} npm package is not installed: run scripts/install.", status_code=404
            )
        return FileResponse(bundle.path, media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"})

    async def versioned(self, request: Request) -> Response:
        library, version = request.path_params["library"], request.path_params["version"]
        if library not in BUNDLES:
            return PlainTextResponse("Unknown library.", status_code=404)
        return self._serve(self.bundles.get((library, version)), library)

    async def streams(self, _request: Request) -> Response:
        return self._serve(self.latest("streams"), "streams")

    async def chatjs(self, _request: Request) -> Response:
        return self._serve(self.latest("chatjs"), "chatjs")

    def routes(self) -> list[Route]:
        return [
            Route("/lib/connect-streams.js", self.streams, methods=["GET", "HEAD"]),
            Route("/lib/amazon-connect-chat.js", self.chatjs, methods=["GET", "HEAD"]),
            Route("/lib/{library}/{version}/{name}", self.versioned, methods=["GET", "HEAD"]),
        ]

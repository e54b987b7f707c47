"""How much JavaScript the chat widget makes a customer's browser download, gzipped (as a proxy or CDN in front of
Parley would serve it), without ChatJS.

``python -m tools.widget_size`` prints each module and the totals: what the page embedding the widget loads
(``/widget.js``), what the widget's window loads when it opens (``widget/window.js`` and every module it imports,
the npm packages' through the pages' import map), and what the window loads only when needed (``import(...)``:
marked and DOMPurify for the first Markdown message, the transcript download at the end). Sizes are of the bytes
Parley serves (its own modules minified, a vendor file served as an ES module wrapper with its wrapper), gzipped
at level 9.
"""

from __future__ import annotations

import argparse
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from parley.pages.assets import HERE, VENDOR_FILES, VendorFile, as_es_module
from parley.pages.minify import ScriptMinifier
from parley.web.libraries import find_node_modules

# Static imports and re-exports ("import x from 'y'", "import 'y'", "export { x } from 'y'") and dynamic imports.
STATIC = re.compile(r"""(?:^|[;\n}])\s*(?:import|export)\s*(?:[^'"();]*?\bfrom\s*)?["']([^"']+)["']""")
DYNAMIC = re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)""")
LOADER = "widget/loader.js"
WINDOW = "widget/window.js"


@dataclass(frozen=True)
class Module:
    name: str  # "widget/chat/state.js", or the bare name of a vendor module ("preact")
    vendor: bool
    gzipped: int


class Graph:
    """The pages' ES modules as the browser fetches them: the apps' static files and the import map's packages."""

    def __init__(self, node_modules: Path) -> None:
        self.node_modules = node_modules
        self.vendor = {f.module: f for f in VENDOR_FILES if f.module}
        self.minifier = ScriptMinifier(node_modules)

    def source(self, name: str) -> bytes:
        """The module as written (its imports are read from it)."""
        file = self.vendor.get(name)
        if file is not None:
            return self._vendor_bytes(file)
        return self._path(name).read_bytes()

    def served(self, name: str) -> bytes:
        """The module as Parley serves it: Parley's own minified."""
        source = self.source(name)
        return source if name in self.vendor else self.minifier.minify(self._path(name), source)

    @staticmethod
    def _path(name: str) -> Path:
        app, _, rest = name.partition("/")
        return HERE / app / "static" / rest

    def _vendor_bytes(self, file: VendorFile) -> bytes:
        data = (self.node_modules / file.package / file.path).read_bytes()
        return as_es_module(data) if file.umd else data

    def resolve(self, importer: str, spec: str) -> str:
        if spec in self.vendor:
            return spec
        if importer in self.vendor:  # a package's own relative import: not used by the files Parley serves
            raise ValueError(f"{importer} imports {spec}, which the import map does not have")
        if not spec.startswith("."):
            raise ValueError(f"{importer} imports {spec!r}, which is neither relative nor in the import map")
        parts = importer.split("/")[:-1]
        for piece in spec.split("/"):
            if piece == "..":
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)

    def closure(self, entry: str) -> tuple[list[str], list[str]]:
        """The modules ``entry`` loads at once (itself and its static imports, transitively), then those it
        loads only on demand (dynamic imports, with their own static imports) that it had not loaded at once."""
        eager = self._walk([entry], dynamic=False)
        lazy_roots: list[str] = []
        for name in eager:
            for spec in DYNAMIC.findall(self.source(name).decode()):
                lazy_roots.append(self.resolve(name, spec))
        lazy = [m for m in self._walk(lazy_roots, dynamic=True) if m not in eager]
        return eager, lazy

    def _walk(self, roots: list[str], *, dynamic: bool) -> list[str]:
        seen: list[str] = []
        todo = list(roots)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.append(name)
            text = self.source(name).decode()
            todo += [self.resolve(name, spec) for spec in STATIC.findall(text)]
            if dynamic:
                todo += [self.resolve(name, spec) for spec in DYNAMIC.findall(text)]
        return seen

    def module(self, name: str) -> Module:
        return Module(name, name in self.vendor, len(gzip.compress(self.served(name), compresslevel=9, mtime=0)))


@dataclass(frozen=True)
class Sizes:
    loader: list[Module]
    window: list[Module]
    on_demand: list[Module]

    @staticmethod
    def total(modules: list[Module], *, vendor: bool | None = None) -> int:
        return sum(m.gzipped for m in modules if vendor is None or m.vendor == vendor)


def measure(node_modules: Path | None = None) -> Sizes:
    found = node_modules or find_node_modules()
    if found is None:
        raise SystemExit("node_modules is missing: run scripts/install")
    graph = Graph(found)
    loader, _ = graph.closure(LOADER)
    window, lazy = graph.closure(WINDOW)
    return Sizes([graph.module(m) for m in loader], [graph.module(m) for m in window],
                 [graph.module(m) for m in lazy])


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    sizes = measure()
    for title, modules in (("the embedding page (/widget.js)", sizes.loader),
                           ("the widget's window when it opens", sizes.window),
                           ("the window, only when needed", sizes.on_demand)):
        print(f"{title}: {kb(Sizes.total(modules))} gzipped "
              f"(Parley's own {kb(Sizes.total(modules, vendor=False))}, "
              f"npm packages {kb(Sizes.total(modules, vendor=True))})")
        for m in sorted(modules, key=lambda m: -m.gzipped):
            print(f"  {m.gzipped:>7,} B  {m.name}{'  (npm)' if m.vendor else ''}")


if __name__ == "__main__":
    main()

"""Architecture rules: dependencies point inward, and every module says what it is for.

The rules are in tests/layer_rules.py, as functions over a source tree; here they run on src/parley and on
small trees written to tmp_path that break each rule on purpose, so a checker that stops seeing a violation
fails too. What is checked:

- imports, absolute and relative (``from ..web import x`` is resolved to ``parley.web.x``), point from a ring
  to itself or inward (``layer_rules.ALLOWED``); the domain uses the standard library only;
- every top-level module is placed: ``app.py`` is the composition root, ``cli.py``, ``server.py`` and
  ``__main__.py`` are the entry points (they may import every ring), ``config.py`` is an outer ring that
  imports only the domain, ``collector.py`` and ``logformat.py`` serve the server process; nothing in the rings
  imports any of them (``parley/__init__.py`` holds only the version and may be read by all);
- no object crosses an edge through a parameter or attribute typed ``Any``/``object``: the wiring check
  follows what each function builds (through simple assignments, ``await`` and return annotations) into the
  calls it makes, and reports an object of a ring the callee's ring may not use landing on a loose
  parameter. That is what ``app.build`` did with ``CtiHandlers(..., agent_sockets)``: the aws edge called the
  web edge's ``AgentSockets.ticket_url`` through ``agent_websocket: Any``, which no import showed. Typing the
  parameter with a port the receiving ring owns (``aws.cti.handlers.AgentWebsocketTickets``) is the fix;
- as a backstop for flows the wiring check cannot follow, every constructor parameter typed ``Any`` or
  ``object`` in the rings must be listed below with its reason.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tests.layer_rules import (
    ALLOWED,
    RING_ALLOWED,
    SourceTree,
    Violation,
    check_classified,
    check_imports,
    check_loose_constructors,
    check_wiring,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "parley"

# Violations of the layer rules that are known and waiting for their fix, each with the fix. Empty: none today.
# (An entry is the violation's key, (rule, module, subject), as the failure message prints it.)
KNOWN_VIOLATIONS: dict[tuple[str, str, str], str] = {}

# Constructor parameters typed Any or object inside the rings, and why each carries data, not a dependency.
LOOSE_PARAMETERS: dict[tuple[str, str, str], str] = {
    ("any-parameter", "parley.aws.shapes", "_Fail.value"):
        "the JSON value that failed validation, quoted in the error sentence: data, not a dependency",
}


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.fixture(scope="module")
def parley() -> SourceTree:
    return SourceTree(SRC)


@pytest.fixture(scope="module")
def edge_violations(parley: SourceTree) -> list[Violation]:
    """What the import and wiring checks find in Parley (computed once for the tests below)."""
    return check_imports(parley) + check_wiring(parley)


def unexpected(found: list[Violation], known: dict[tuple[str, str, str], str]) -> str:
    return "\n".join(str(v) + f"\n    key {v.key!r}" for v in found if v.key not in known)


# Parley's own code --------------------------------------------------------------------------------------------


def test_every_ring_and_top_level_module_is_placed(parley: SourceTree) -> None:
    assert not (found := check_classified(parley)), "\n".join(map(str, found))
    assert {"domain", "service", "storage", "fanout", "aws", "web", "pages"} <= parley.ring_dirs


def test_dependencies_point_inward(edge_violations: list[Violation]) -> None:
    found = [v for v in edge_violations if v.rule in ("import", "stdlib")]
    assert not (text := unexpected(found, KNOWN_VIOLATIONS)), f"imports that point outward:\n{text}"


def test_no_dependency_crosses_an_edge_typed_any(edge_violations: list[Violation]) -> None:
    found = [v for v in edge_violations if v.rule == "any-edge"]
    assert not (text := unexpected(found, KNOWN_VIOLATIONS)), f"objects handed across an edge as Any:\n{text}"


def test_known_violations_are_still_there(edge_violations: list[Violation]) -> None:
    """An entry whose violation was fixed must go, so the list says what is left to fix."""
    found = {v.key for v in edge_violations}
    assert set(KNOWN_VIOLATIONS) <= found, f"fixed, remove from KNOWN_VIOLATIONS: {set(KNOWN_VIOLATIONS) - found}"


def test_loose_constructor_parameters_are_listed(parley: SourceTree) -> None:
    found = {v.key: v for v in check_loose_constructors(parley)}
    unlisted = [str(v) for key, v in found.items() if key not in LOOSE_PARAMETERS]
    assert not unlisted, "type these with a port, or list them with their reason:\n" + "\n".join(unlisted)
    assert set(LOOSE_PARAMETERS) <= set(found), f"gone, remove: {set(LOOSE_PARAMETERS) - set(found)}"


def test_nothing_in_the_rings_may_import_the_root_or_an_entry_point() -> None:
    for ring in [*RING_ALLOWED, "package", "config", "process"]:
        assert not ALLOWED[ring] & {"root", "entry"}, ring
    assert "entry" not in ALLOWED["root"], "the composition root must not import the entry points"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_has_a_docstring(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


# The checker, on trees that break each rule ------------------------------------------------------------------

# The smallest package with every ring and placed top-level module, all empty.
SKELETON = {
    "__init__.py": '"""pkg."""\n__version__ = "0"\n',
    **{f"{ring}/__init__.py": f'"""{ring}."""\n' for ring in RING_ALLOWED},
    **{f"{name}.py": f'"""{name}."""\n' for name in ("app", "cli", "server", "__main__", "config", "collector")},
}


def tree(tmp_path: Path, files: dict[str, str]) -> SourceTree:
    """A package named ``parley`` under tmp_path with the skeleton and ``files`` (path: source)."""
    root = tmp_path / "parley"
    for name, text in {**SKELETON, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return SourceTree(root)


def keys(found: list[Violation]) -> set[tuple[str, str, str]]:
    return {v.key for v in found}


def test_the_checker_resolves_relative_imports(tmp_path: Path) -> None:
    found = check_imports(tree(tmp_path, {
        "web/sockets.py": '"""Sockets."""\nclass Sockets: ...\n',
        "service/chat.py": '"""Chat."""\n',
        "aws/cti/__init__.py": '"""CTI."""\nfrom .handlers import Handlers\n',
        "aws/cti/handlers.py": '''\
            """Handlers."""
            from . import api
            from .. import errors
            from ...service.chat import ChatService
            from ...web import sockets
            from ...web.sockets import Sockets
            class Handlers: ...
            ''',
        "aws/cti/api.py": '"""API."""\n',
        "aws/errors.py": '"""Errors."""\n',
        "domain/rules.py": '"""Rules."""\nfrom ..service import chat\nfrom ...... import far\n',
    }))
    assert keys(found) == {
        ("import", "parley.aws.cti.handlers", "parley.web.sockets"),  # both spellings, one target
        ("import", "parley.domain.rules", "parley.service.chat"),
        ("import", "parley.domain.rules", "<relative>"),  # climbs above the package
    }, "\n".join(map(str, found))
    assert len([v for v in found if v.module == "parley.aws.cti.handlers"]) == 2


def test_the_checker_places_top_level_modules(tmp_path: Path) -> None:
    source = tree(tmp_path, {
        "web/page.py": '''\
            """Page."""
            from parley import __version__
            from parley import config
            from parley.app import build
            def later() -> None:
                from ..server import run
            ''',
        "config.py": '"""Config."""\nfrom parley.domain import ids\nfrom parley.service import chat\n',
        "app.py": '"""Root."""\nfrom parley.web import page\nfrom parley.config import Config\nfrom . import server\n',
        "cli.py": '"""CLI."""\nfrom parley import app, server, config\nfrom parley.web import page\n',
        "domain/ids.py": '"""Ids."""\n',
        "service/chat.py": '"""Chat."""\n',
        "newthing.py": '"""Nobody placed me."""\n',
        "extra/__init__.py": '"""A ring nobody described."""\n',
    })
    assert keys(check_imports(source)) == {
        ("import", "parley.web.page", "parley.config"),
        ("import", "parley.web.page", "parley.app"),
        ("import", "parley.web.page", "parley.server"),
        ("import", "parley.config", "parley.service.chat"),
        ("import", "parley.app", "parley.server"),
    }
    assert keys(check_classified(source)) == {
        ("ring", "parley.newthing", "newthing.py"),
        ("ring", "parley.extra", "extra"),
    }


def test_the_checker_sees_the_domain_use_a_third_party_package(tmp_path: Path) -> None:
    found = check_imports(tree(tmp_path, {"domain/rules.py": '"""Rules."""\nimport json\nimport orjson\n'}))
    assert keys(found) == {("stdlib", "parley.domain.rules", "orjson")}


# An aws handler that takes the web edge's sockets as Any (the CtiHandlers case), one that takes them through
# a port, and a web class.
EDGES = {
    "web/sockets.py": '''\
        """Sockets."""
        from datetime import datetime
        class Sockets:
            async def ticket_url(self, who: str) -> tuple[str, int, datetime]: ...
        async def open_sockets() -> Sockets:
            return Sockets()
        ''',
    "service/chat.py": '"""Chat."""\nclass ChatService: ...\n',
    "aws/handlers.py": '''\
        """Handlers."""
        from typing import Any, Protocol
        from parley.service.chat import ChatService
        class Tickets(Protocol):
            async def ticket_url(self, who: str) -> tuple[str, int, object]: ...
        class LooseHandlers:
            def __init__(self, chat: ChatService, agent_websocket: Any) -> None:
                self.chat = chat
                self.agent_websocket = agent_websocket
        class TypedHandlers:
            def __init__(self, chat: Any, agent_websocket: Tickets) -> None:
                self.agent_websocket = agent_websocket
        class Later:
            sink: object | None = None
            def attach(self, sink: object) -> None:
                self.sink = sink
        def make(sockets: Any) -> LooseHandlers:
            return LooseHandlers(ChatService(), sockets)
        ''',
}


def test_the_checker_sees_an_edge_object_passed_as_any(tmp_path: Path) -> None:
    found = check_wiring(tree(tmp_path, {**EDGES, "app.py": '''\
        """Root: builds the web edge's sockets and hands them to the aws edge in every way but one right one."""
        from parley.aws.handlers import Later, LooseHandlers, TypedHandlers, make
        from parley.service.chat import ChatService
        from parley.web.sockets import Sockets, open_sockets
        async def build() -> None:
            chat = ChatService()
            sockets = Sockets()
            LooseHandlers(chat, sockets)
            LooseHandlers(chat, agent_websocket=sockets)
            opened = await open_sockets()
            alias = opened
            LooseHandlers(chat, alias)
            TypedHandlers(chat, sockets)  # through a port: fine
            LooseHandlers(chat, chat)  # aws may use the service ring: fine
            make(Sockets())
            later = Later()
            later.attach(sockets)
            later.sink = sockets
        ''',
    }))
    assert [(v.line, v.subject) for v in found] == [
        (8, "parley.aws.handlers.LooseHandlers(agent_websocket)"),
        (9, "parley.aws.handlers.LooseHandlers(agent_websocket)"),
        (12, "parley.aws.handlers.LooseHandlers(agent_websocket)"),
        (15, "parley.aws.handlers.make(sockets)"),
        (17, "parley.aws.handlers.Later.attach(sink)"),
        (18, "parley.aws.handlers.Later.sink"),
    ], "\n".join(map(str, found))
    assert "aws must not depend on web" in found[0].why


def test_the_checker_sees_an_edge_object_passed_as_any_outside_the_root(tmp_path: Path) -> None:
    """A ring that hands its own objects to a loose parameter of a ring it may import is caught too: web may
    import aws, but aws then depends on web."""
    found = check_wiring(tree(tmp_path, {**EDGES, "web/wire.py": '''\
        """Wire."""
        from parley.aws import handlers
        from parley.service.chat import ChatService
        from parley.web.sockets import Sockets
        class Wiring:
            def __init__(self, sockets: Sockets, chat: ChatService) -> None:
                self.sockets = sockets
                self.chat = chat
            def wire(self) -> handlers.LooseHandlers:
                return handlers.LooseHandlers(self.chat, self.sockets)
        ''',
    }))
    assert [(v.module, v.line, v.subject) for v in found] == [
        ("parley.web.wire", 10, "parley.aws.handlers.LooseHandlers(agent_websocket)"),
    ], "\n".join(map(str, found))


def test_the_checker_lists_loose_constructor_parameters(tmp_path: Path) -> None:
    found = check_loose_constructors(tree(tmp_path, {**EDGES, "domain/value.py": '''\
        """Value."""
        from dataclasses import dataclass, field
        from typing import Any, ClassVar
        @dataclass(frozen=True)
        class Value:
            data: Any
            kind: str
            cache: object = field(init=False)
            LIMIT: ClassVar[object] = 1
        ''',
    }))
    assert keys(found) == {
        ("any-parameter", "parley.aws.handlers", "LooseHandlers.agent_websocket"),
        ("any-parameter", "parley.aws.handlers", "TypedHandlers.chat"),
        ("any-parameter", "parley.domain.value", "Value.data"),
    }

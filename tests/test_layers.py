"""Architecture rules: dependencies point inward, and every module says what it is for."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "parley"

# Which parley packages each ring may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "service": {"domain"},
    "storage": {"domain", "service"},
    "fanout": {"domain", "service"},
    "aws": {"domain", "service"},
    "web": {"domain", "service", "aws"},
    "client": set(),
}
# Third-party packages the pure domain may not use: it is stdlib only.
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_dependencies_point_inward(path: Path) -> None:
    ring = path.relative_to(SRC).parts[0]
    if ring not in ALLOWED:
        return  # app.py, cli.py, server.py and config.py compose everything
    for name in imports_of(path):
        parts = name.split(".")
        if parts[0] == "parley" and len(parts) > 1:
            target = parts[1]
            assert target == ring or target in ALLOWED[ring], f"{path.name}: {ring} must not import {name}"
        elif ring == "domain":
            assert parts[0] in STDLIB, f"{path.name}: the domain is stdlib only, not {name}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_has_a_docstring(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


def test_rules_see_every_ring() -> None:
    rings = {p.relative_to(SRC).parts[0] for p in modules() if len(p.relative_to(SRC).parts) > 1}
    assert rings <= set(ALLOWED), f"unknown rings {rings - set(ALLOWED)}: add them to ALLOWED"
    assert {"domain", "service", "storage", "aws"} <= rings

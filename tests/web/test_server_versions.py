"""The uvicorn and websockets installed are the releases ``parley.web.server`` is tested with: its subclasses read
their private internals, so another release must fail here first, not in production."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PINNED = ("uvicorn", "websockets")


def numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def bounds(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ``>=low,<high`` of ``name`` in the project's dependencies."""
    for dep in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]:
        found = re.fullmatch(rf"{name}(?:\[[^\]]*\])?>=([\d.]+),<([\d.]+)", dep.replace(" ", ""))
        if found:
            return numbers(found[1]), numbers(found[2])
    raise AssertionError(f"{name} needs a lower and an upper bound in pyproject.toml: parley.web.server reads its "
                         "internals")


def test_installed_releases_are_the_pinned_ones() -> None:
    for name in PINNED:
        low, high = bounds(name)
        assert low <= numbers(version(name)) < high, f"{name} {version(name)} is outside >={low},<{high}"


def test_the_pins_allow_one_minor_release_of_uvicorn() -> None:
    low, high = bounds("uvicorn")
    assert high[:2] == (low[0], low[1] + 1), "uvicorn's internals change between minor releases"

"""Fixtures for the StreamsJS suites: one headless Debian chromium per session, the page server on the demo's
approved origin ``http://127.0.0.1:8080``, a fresh ``parley serve --demo`` per test (so a failed scenario never
leaves agents busy for the next), and a console/request watch that each test asserts clean."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, serving

from .browser import Allowed, Watch
from .pages import PageServer
from .seed import seed_document

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's chromium in a container: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# The approved origin of the demo instance the pages must come from (its port is part of the origin).
APPROVED_PORT = 8080
# Each (StreamsJS, ChatJS) pair under test -> the npm package (or alias) each is installed under: the seed
# document's versions (ChatJS 3.0.3 is the nearest the registry serves to its 3.0.5) and the latest.
VERSIONS = {("2.18.1", "3.0.3"): ("streams218", "chatjs3"),
            ("2.28.2", "5.0.0"): ("amazon-connect-streams", "amazon-connect-chatjs")}
SHOTS = Path("/tmp/parley-streams-e2e")


def require_packages(streams: str, chatjs: str) -> None:
    """Fail (never skip) when ``scripts/install --test`` did not install the libraries Parley must serve."""
    for package, version in zip(VERSIONS[(streams, chatjs)], (streams, chatjs), strict=True):
        manifest = REPO / "node_modules" / package / "package.json"
        if not manifest.is_file():
            pytest.fail(f"{manifest.parent} is missing: run scripts/install --test (npm ci)")
        found = json.loads(manifest.read_text())["version"]
        assert found == version, f"node_modules/{package} holds {found}, not {version}"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The seed-page tests need the seed document from outside the repository: decide before any browser or
    server starts whether they run, skip (document absent, ``CI`` unset: the reason shows with ``-rs``) or fail
    (document absent under ``CI``)."""
    module = getattr(item, "module", None)
    if module is not None and module.__name__.rpartition(".")[2] == "test_seed_page":
        seed_document()


@pytest.fixture(params=list(VERSIONS), ids=lambda pair: f"streams{pair[0]}-chatjs{pair[1]}")
def versions(request: pytest.FixtureRequest) -> tuple[str, str]:
    pair: tuple[str, str] = request.param
    require_packages(*pair)
    return pair


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (apt-get install chromium)")
    for pair in VERSIONS:
        require_packages(*pair)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    """``http://127.0.0.1:8080``: the seed page, the example page under ``/example/``, customer pages."""
    server = PageServer(APPROVED_PORT)
    server.add("/favicon.ico", b"", "image/x-icon")
    server.mount("/example/", REPO / "examples" / "custom-ccp")
    yield server
    server.close()


@pytest.fixture
def parley() -> Iterator[Server]:
    with serving(["--demo"], stays_up=True) as srv:
        yield srv


# Console errors accepted while a Parley bug stands (see docs/custom-ccp.md, "Known issues"); each names the URL.
def known_parley_bugs(server: Server) -> list[Allowed]:
    return []


@pytest.fixture
def watch(parley: Server) -> Watch:
    return Watch(allowed=known_parley_bugs(parley))


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS

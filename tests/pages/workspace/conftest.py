"""Fixtures of the agent workspace's browser tests: one ``parley serve --demo`` per test (a scenario that fails
half-way never leaves agents busy for the next), one headless Debian chromium per session, and ``browse``: browser
contexts whose console errors, page errors, CSP violations, dialogs and requests to other hosts fail the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, serving
from tests.pages.browser.support import DESKTOP
from tests.pages.browser.watch import Watch

CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's chromium in a container: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SHOTS = Path("/tmp/parley-workspace-shots")


@pytest.fixture
def parley(request: pytest.FixtureRequest) -> Iterator[Server]:
    """``parley serve --demo``, with more flags from ``parametrize("parley", [[...]], indirect=True)``."""
    with serving(["--demo", *getattr(request, "param", [])], stays_up=True) as srv:
        yield srv


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


class Browse:
    """Browser contexts for one test, all under one :class:`Watch`."""

    def __init__(self, browser: Any, watch: Watch) -> None:
        self.browser, self.watch, self.contexts = browser, watch, list[Any]()

    async def page(self, name: str, viewport: dict[str, int] | None = None) -> Any:
        context = await self.browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        await self.watch.attach(context, name)
        self.contexts.append(context)
        return await context.new_page()

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def browse(browser: Any, parley: Server) -> AsyncIterator[Browse]:
    session = Browse(browser, Watch({f"127.0.0.1:{parley.port}"}))
    yield session
    await session.close()
    session.watch.assert_clean()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS

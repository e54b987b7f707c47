"""Fixtures of the customer pages' browser tests: one ``parley serve --demo`` per module, one headless Debian
chromium per session, the host pages that embed the widget (``http://localhost:8000``, an allowed origin of the
demo widget, and a port on 127.0.0.1 no widget allows), and ``browse``: browser contexts whose console errors, page
errors, CSP violations, dialogs and requests to other hosts fail the test at its teardown."""

from __future__ import annotations

import contextlib
import errno
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, free_port, serving
from tests.e2e.streams.pages import PageServer

from .support import DESKTOP
from .watch import Watch

CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's chromium in a container: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# http://localhost:8000 is an allowed origin of the demo widget (parley.service.demo.DEMO_WIDGET_ORIGINS).
HOST_PORT = 8000
HOST_ORIGIN = f"http://localhost:{HOST_PORT}"
SHOTS = Path("/tmp/parley-pages-browser")


@pytest.fixture(scope="module")
def parley() -> Iterator[Server]:
    """A demo server for one module: a test that fails half-way never leaves agents busy for another module."""
    with serving(["--demo"], stays_up=True) as srv:
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


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise
    return True


@pytest.fixture(scope="session")
def host_pages() -> Iterator[PageServer]:
    """The website that embeds the widget, served on 127.0.0.1:8000 and opened as ``http://localhost:8000``."""
    deadline = time.monotonic() + 60  # another suite's page server may hold it for a moment
    while not _port_is_free(HOST_PORT) and time.monotonic() < deadline:
        time.sleep(0.5)
    if not _port_is_free(HOST_PORT):
        pytest.fail(f"port {HOST_PORT} is taken by another process (see `ss -ltnp 'sport = :{HOST_PORT}'`): these "
                    f"tests serve the host page from {HOST_ORIGIN}, an allowed origin of the demo widget; stop that "
                    "process and run again")
    pages = PageServer(HOST_PORT)
    pages.add("/favicon.ico", b"", "image/x-icon")
    yield pages
    pages.close()


@pytest.fixture(scope="session")
def other_pages() -> Iterator[PageServer]:
    """A website on an origin no widget allows (``http://127.0.0.1:<free port>``)."""
    pages = PageServer(free_port())
    pages.add("/favicon.ico", b"", "image/x-icon")
    yield pages
    pages.close()


def embed_page(widget_script: str, widget_id: str) -> str:
    """A plain website with the widget's one-line embed snippet (README's)."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Parcels</title></head>
<body>
<main><h1>Acme Parcels</h1><p>Track your parcel, or chat with us.</p></main>
<script src="{widget_script}" data-widget-id="{widget_id}" async></script>
</body>
</html>
"""


@dataclass
class Browse:
    """Browser contexts for one test, all under one :class:`Watch`."""

    browser: Any
    watch: Watch
    contexts: list[Any] = field(default_factory=list)

    async def context(self, name: str = "customer", viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = await self.browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **options)
        await self.watch.attach(context, name)
        self.contexts.append(context)
        return context

    async def page(self, name: str = "customer", viewport: dict[str, int] | None = None, **options: Any) -> Any:
        return await (await self.context(name, viewport, **options)).new_page()

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()

    async def screenshots(self, test: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for c, context in enumerate(self.contexts):
            for p, page in enumerate(context.pages):
                path = SHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', test)}-{c}-{p}.png"
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(path), full_page=True)
                    print(f"screenshot of {page.url}: {path}")


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Remember whether a test's body failed, for ``browse`` to take screenshots."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture
async def browse(request: pytest.FixtureRequest, browser: Any, parley: Server,
                 other_pages: PageServer) -> AsyncIterator[Browse]:
    """Contexts for the test; at teardown every console error, page error, CSP violation, dialog and request to a
    host other than this Parley and the two host page servers fails the test. A failed test leaves screenshots of
    its pages in /tmp/parley-pages-browser/."""
    hosts = {f"127.0.0.1:{parley.port}", f"localhost:{HOST_PORT}", f"127.0.0.1:{HOST_PORT}",
             f"127.0.0.1:{other_pages.port}"}
    session = Browse(browser, Watch(hosts))
    yield session
    if request.node.stash.get(FAILED, False):
        await session.screenshots(request.node.name)
    await session.close()
    session.watch.assert_clean()


@pytest.fixture(scope="module")
def demo_widget_id(parley: Server) -> str:
    """The demo widget's id, as ``parley widget list`` prints it for the server's database."""
    done = subprocess.run([sys.executable, "-m", "parley", "widget", "list", "--data-dir", str(parley.data_dir),
                           "--instance", "demo"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"parley widget list failed:\n{done.stdout}\n{done.stderr}"
    found = re.search(r"^([0-9a-f-]{36})\s.*\sDemo widget$", done.stdout, re.M)
    assert found, f"no 'Demo widget' in:\n{done.stdout}"
    return found.group(1)

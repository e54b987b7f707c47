"""Fixtures for the ChatJS suites: a Parley that closes every participant socket after 3 s, factories for Node
and Chromium customers (closed after each test), and one headless Debian chromium per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server, serving

from .harness import CHATJS_PACKAGES, SOCKET_LIFETIME, Chat
from .runtimes import CHROMIUM, CHROMIUM_ARGS, BrowserCustomer, NodeCustomer, PageServer


@pytest.fixture(params=list(CHATJS_PACKAGES))
def version(request: pytest.FixtureRequest) -> str:
    """Each ChatJS release under test: the latest (5.0.0) and 3.0.3 (nearest to the seed document's 3.0.5)."""
    return str(request.param)


@pytest.fixture(scope="session")
def lifetime_server() -> Iterator[Server]:
    with serving(["--demo", "--websocket-lifetime", str(SOCKET_LIFETIME)]) as srv:
        yield srv


@pytest.fixture
def node_customer(version: str) -> Iterator[Callable[[Chat], NodeCustomer]]:
    started: list[NodeCustomer] = []

    def start(chat: Chat) -> NodeCustomer:
        started.append(NodeCustomer(chat, version))
        return started[-1]

    yield start
    for customer in started:
        customer.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API keeps an event loop running while it is open, so it
    must be closed before the asyncio tests of other modules run."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def page_server() -> Iterator[PageServer]:
    pages = PageServer()
    yield pages
    pages.close()


@pytest.fixture
def browser_customer(browser: Any, page_server: PageServer,
                     version: str) -> Iterator[Callable[[Chat], BrowserCustomer]]:
    started: list[BrowserCustomer] = []

    def start(chat: Chat) -> BrowserCustomer:
        started.append(BrowserCustomer(browser, page_server, chat, version))
        return started[-1]

    yield start
    for customer in started:
        customer.close()


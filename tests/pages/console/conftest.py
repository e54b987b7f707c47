"""Fixtures of the console's tests: one ``parley serve --demo`` per module, the session's headless Debian chromium
(the customer pages' fixture), and ``watch``: console errors, page errors, CSP violations, dialogs and requests to
other hosts of the test's browser contexts fail it at its teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server, serving
from tests.pages.browser.conftest import browser
from tests.pages.browser.watch import Watch

__all__ = ["browser", "parley", "watch"]


@pytest.fixture(scope="module")
def parley() -> Iterator[Server]:
    with serving(["--demo"], stays_up=True) as srv:
        yield srv


@pytest.fixture
def watch(parley: Server) -> Iterator[Watch]:
    seen = Watch({f"127.0.0.1:{parley.port}"})
    yield seen
    seen.assert_clean()

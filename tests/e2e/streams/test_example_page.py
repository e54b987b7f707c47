"""Parley's own example custom CCP (``examples/custom-ccp``) completes the issue's scenario with each pair of
library versions Parley serves (chosen with the page's ``streams`` / ``chatjs`` query parameters); agent1
leaves with the page's "Leave chat" button, which calls ``connection.destroy()``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Server

from . import scenario
from .browser import Watch
from .pages import PageServer

pytestmark = pytest.mark.e2e


async def test_example_page_scenario(browser: Any, pages: PageServer, parley: Server, watch: Watch,
                                     versions: tuple[str, str], shots: Path) -> None:
    streams, chatjs = versions
    query = urlencode({"parley": parley.url, "qc": "Transfer-to-agent-2", "streams": streams, "chatjs": chatjs})
    url = f"{pages.origin}/example/index.html?{query}"
    await scenario.run(browser, watch, pages, parley, url, scenario.EXAMPLE, versions, shots)

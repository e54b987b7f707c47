"""The seed document's own example page, extracted at test time and changed only in its configuration
(INSTANCE_URL, the quick connect, the two library imports, ``endpoint`` for ChatJS), completes the issue's
scenario against ``parley serve --demo`` in headless Chromium, with the seed's library versions and the latest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

from . import scenario
from .browser import Watch
from .pages import PageServer
from .seed import SeedConfig, seed_page

pytestmark = pytest.mark.e2e


def configured_seed(server: Server, streams: str, chatjs: str) -> tuple[str, list[str]]:
    """The seed page with exactly the configuration a developer changes to run it against Parley."""
    return seed_page(SeedConfig(
        ccp_url=f"{server.url}/connect/demo/ccp-v2/?visual-refresh=true",
        streams_url=f"{server.url}/lib/streams/{streams}/connect-streams.js",
        chatjs_url=f"{server.url}/lib/chatjs/{chatjs}/amazon-connect-chat.js",
        participant_endpoint=server.url,
        quick_connect=scenario.demo(server).quick_connect,
    ))


async def test_seed_page_scenario(browser: Any, pages: PageServer, parley: Server, watch: Watch,
                                  versions: tuple[str, str], shots: Path) -> None:
    streams, chatjs = versions
    page, diff = configured_seed(parley, streams, chatjs)
    assert any("/lib/streams/" in line for line in diff) and any("endpoint:" in line for line in diff), diff
    url = pages.add(f"/seed/{streams}-{chatjs}.html", page)
    facts = await scenario.run(browser, watch, pages, parley, url, scenario.SEED, versions, shots)
    # For the record (docs/custom-ccp.md): the configuration diff and how many copies of each agent message the
    # seed page sent (its Send listeners pile up on every agent refresh; see scenario.PageKind.sends_once).
    record = {"diff": diff, "copies_sent": facts["copies"]}
    (shots / f"seed-{streams}-facts.json").write_text(json.dumps(record, indent=2))

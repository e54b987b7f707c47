"""The seed document's own example page, extracted at test time and changed only in its configuration
(INSTANCE_URL, the quick connect, the two library imports, ``endpoint`` for ChatJS), completes the issue's
scenario against ``parley serve --demo`` in headless Chromium, with the seed's library versions and the latest."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

from . import scenario
from .browser import Watch, sign_in
from .pages import PageServer
from .seed import SeedConfig, seed_page

pytestmark = pytest.mark.e2e
# How long the test chat page may take to show what it is waiting for (ms).
WAIT_MS = 20_000


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


async def test_seed_steps_with_the_test_chat_page(browser: Any, pages: PageServer, parley: Server, watch: Watch,
                                                  shots: Path) -> None:
    """The seed's test steps as README gives them: the seed page signed in as agent1 (agent2 beside it), Parley's
    test chat page (Connect's "Test Chat Page") in another context starts a chat as Jane; the seed page
    auto-accepts; messages go both ways; agent1's Quick Connect button adds agent2, whom Jane sees join and talk;
    Jane ends the chat and both agents see it end."""
    streams, chatjs = "2.28.2", "5.0.0"
    page, _ = configured_seed(parley, streams, chatjs)
    url = pages.add(f"/seed/test-chat-{streams}.html", page)
    kind = scenario.SEED
    agent1, agent2 = await asyncio.gather(
        sign_in(browser, watch, url, "agent1", kind.container),
        sign_in(browser, watch, url, "agent2", kind.container, available=False))

    customer = await browser.new_context()
    watch.attach(customer, "jane")
    jane = await customer.new_page()
    await jane.goto(f"{parley.url}/test-chat")
    await jane.get_by_label("Your name").fill("Jane")
    await jane.get_by_role("button", name="Start chat").click()
    log = jane.get_by_role("log", name="Conversation")

    contact1 = await agent1.wait_contact("connected", "the seed page to auto-accept Jane's chat")
    await jane.get_by_label("Message").fill("Hi, my order never arrived")
    await jane.get_by_label("Message").press("Enter")
    await scenario.sees(agent1, kind, "Jane: Hi, my order never arrived")
    await scenario.send(agent1, kind, "Hello Jane, Agent1 here")
    await log.get_by_text("Hello Jane, Agent1 here").first.wait_for(timeout=WAIT_MS)

    await agent2.set_state("Available")
    await agent1.page.locator(kind.quick_connect).click()
    contact2 = await agent2.wait_contact("connected", "the seed page to auto-accept the invitation", timeout=30)
    await log.get_by_text("Agent2 joined").wait_for(timeout=WAIT_MS)
    await scenario.send(agent2, kind, "Agent2 joining to help")
    await log.get_by_text("Agent2 joining to help").first.wait_for(timeout=WAIT_MS)
    await jane.screenshot(path=str(shots / "seed-test-chat-jane.png"))

    await jane.get_by_role("button", name="End chat").click()
    await jane.get_by_role("button", name="Yes, end chat").click()
    await jane.get_by_role("heading", name="Chat ended").wait_for(timeout=WAIT_MS)
    for agent, contact in ((agent1, contact1), (agent2, contact2)):
        await agent.wait_contact("ended", "the chat to end when Jane ended it")
        await agent.close_contact(contact["id"])
    for context in (agent1.context, agent2.context, customer):
        await context.close()
    watch.assert_clean()

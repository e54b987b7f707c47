"""Issue 21's acceptance end to end: ``admin`` does the seed's set-up for a new agent in the admin console (a user
with the Agent security profile and the Basic routing profile, a USER quick connect with "Default agent transfer",
attached to BasicQueue), takes the quick connect's id and ARN from the console's page into the seed document's
example page, and that page's Quick Connect button then adds the new agent to a running chat."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server

from . import scenario
from .browser import PASSWORD, Watch, sign_in
from .pages import PageServer
from .seed import SeedConfig, seed_page

pytestmark = pytest.mark.e2e
WAIT_MS = 20_000


async def set_up_agent6(browser: Any, watch: Watch, parley: Server) -> dict[str, str]:
    """The seed's set-up in the console, as admin; returns the quick connect as the seed page wants it."""
    context = await browser.new_context()
    watch.attach(context, "admin")
    page = await context.new_page()
    await page.goto(parley.url + "/admin")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{parley.url}/admin", timeout=WAIT_MS)

    async def nav(label: str) -> None:
        await page.get_by_role("navigation", name="Admin console").get_by_role("link", name=label, exact=True).click()
        await page.get_by_role("heading", level=1).wait_for(timeout=WAIT_MS)

    await nav("User management")
    await page.get_by_role("link", name="Add new user").click()
    await page.get_by_label("Username").fill("agent6")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("First name").fill("Agent6")
    await page.get_by_label("Routing profile").select_option(label="Basic Routing Profile")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("heading", name="User agent6").wait_for(timeout=WAIT_MS)

    await nav("Quick connects")
    await page.get_by_role("link", name="Add quick connect").click()
    await page.get_by_label("Name", exact=True).fill("transfer-to-agent-6")
    await page.get_by_role("combobox", name="User", exact=True).select_option(label="agent6")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("heading", name="Quick connect transfer-to-agent-6").wait_for(timeout=WAIT_MS)
    # What the page's copy buttons copy (tests/pages/console checks the clipboard itself).
    endpoint = {"id": (await page.locator("#qc-id").inner_text()).strip(),
                "endpointARN": (await page.locator("#qc-arn").inner_text()).strip(),
                "type": "agent", "name": "transfer-to-agent-6"}

    await nav("Queues")
    await page.get_by_role("link", name="BasicQueue").click()
    await page.get_by_label("Quick connect to add").select_option(label="transfer-to-agent-6 (User)")
    await page.get_by_role("button", name="Add quick connect").click()
    await page.get_by_role("button", name="Remove transfer-to-agent-6 from BasicQueue").wait_for(timeout=WAIT_MS)
    await context.close()
    return endpoint


async def test_a_quick_connect_made_in_the_console_adds_its_agent_from_the_seed_page(
        browser: Any, pages: PageServer, parley: Server, watch: Watch) -> None:
    endpoint = await set_up_agent6(browser, watch, parley)
    page, _ = seed_page(SeedConfig(
        ccp_url=f"{parley.url}/connect/demo/ccp-v2/?visual-refresh=true",
        streams_url=f"{parley.url}/lib/streams/2.28.2/connect-streams.js",
        chatjs_url=f"{parley.url}/lib/chatjs/5.0.0/amazon-connect-chat.js",
        participant_endpoint=parley.url, quick_connect=endpoint))
    url = pages.add("/seed/console-agent6.html", page)
    kind = scenario.SEED
    agent1 = await sign_in(browser, watch, url, "agent1", kind.container)
    agent6 = await sign_in(browser, watch, url, "agent6", kind.container, available=False)

    customer = await browser.new_context()
    watch.attach(customer, "jane")
    jane = await customer.new_page()
    await jane.goto(f"{parley.url}/test-chat")
    await jane.get_by_label("Your name").fill("Jane")
    await jane.get_by_role("button", name="Start chat").click()
    await agent1.wait_contact("connected", "the seed page to auto-accept Jane's chat")

    await agent6.set_state("Available")
    await agent1.page.locator(kind.quick_connect).click()
    contact6 = await agent6.wait_contact("connected", "agent6's page to accept the invitation", timeout=30)
    assert contact6["type"] == "chat", contact6
    await jane.get_by_role("log", name="Conversation").get_by_text("Agent6 joined").wait_for(timeout=WAIT_MS)
    await scenario.send(agent6, kind, "Agent6 here, added from the console's quick connect")
    await jane.get_by_role("log", name="Conversation").get_by_text(
        "Agent6 here, added from the console's quick connect").first.wait_for(timeout=WAIT_MS)
    for context in (agent1.context, agent6.context, customer):
        await context.close()
    watch.assert_clean()

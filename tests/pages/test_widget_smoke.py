"""Smoke tests of the widget's pages on a real demo server: the loader, the chat window and the test chat page are
served with the headers they need, and one customer flow runs through ``/test-chat`` in headless Debian chromium
against a scripted agent (``parley.client.Agent``): messages both ways, the agent's typing, the customer ends the
chat. The full browser suite (reload, drops, six parties, widget embedding, axe) lives in ``tests/pages/browser``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from parley.client import Agent, message_with
from tests.conftest import Server, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "Parley-demo-1"
WAIT_MS = 15000
# Reports CSP violations to the test (an init script runs outside the page's CSP).
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"""


@pytest.fixture(scope="module")
def parley() -> Iterator[Server]:
    with serving(["--demo"], stays_up=True) as srv:
        yield srv


def demo_widget_id(server: Server) -> str:
    listed = subprocess.run([sys.executable, "-m", "parley", "widget", "list", "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, check=True).stdout
    found = re.search(r"^([0-9a-f-]{36})\s.*Demo widget$", listed, re.MULTILINE)
    assert found, listed
    return found.group(1)


def test_loader_is_a_script_any_site_may_load(parley: Server) -> None:
    answer = httpx.get(f"{parley.url}/widget.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "window.ParleyWidget" in answer.text and "data-widget-id" in answer.text


def test_window_may_be_framed_only_by_the_widgets_origins(parley: Server) -> None:
    widget_id = demo_widget_id(parley)
    answer = httpx.get(f"{parley.url}/widget/{widget_id}/window", headers={"Accept": "text/html"})
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    ancestors = next(p for p in policy.split("; ") if p.startswith("frame-ancestors"))
    assert ancestors.split()[1:] == ["'self'", parley.url, "http://localhost:8800", "http://127.0.0.1:8800",
                                     "http://localhost:8000"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
    assert f"ws://{urlsplit(parley.url).netloc}" in policy  # ChatJS's websocket
    assert 'data-title="Chat with us"' in answer.text and "/lib/amazon-connect-chat.js" in answer.text

    unknown = httpx.get(f"{parley.url}/widget/00000000-0000-4000-8000-000000000000/window",
                        headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert "Page not found" in unknown.text


def test_test_chat_page_cannot_be_framed(parley: Server) -> None:
    answer = httpx.get(f"{parley.url}/test-chat", headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    text = " ".join(answer.text.split())
    assert "open the Customer widget" in text and 'href="/connect/demo/ccp-v2/"' in text


@pytest.fixture
async def page(parley: Server) -> AsyncIterator[tuple[Any, list[str]]]:
    """A chromium page, and the problems it reported (console errors, CSP violations, page errors, requests to
    another host)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.async_api import async_playwright

    problems: list[str] = []
    own = urlsplit(parley.url).netloc

    def request(url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
            problems.append(f"request to another host: {url}")

    def console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(CSP_LISTENER)
        tab = await context.new_page()
        tab.on("console", console)
        tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        tab.on("request", lambda r: request(r.url))
        tab.on("websocket", lambda w: request(w.url))
        yield tab, problems
        await browser.close()


@pytest.mark.e2e
async def test_customer_chats_with_an_agent_on_the_test_chat_page(parley: Server, page: tuple[Any, list[str]]) -> None:
    tab, problems = page
    async with Agent(parley.url, "agent1", PASSWORD, poll_seconds=2) as agent:
        await agent.go_available()
        await tab.goto(f"{parley.url}/test-chat")
        flow = tab.get_by_role("combobox", name="Contact flow")
        await flow.locator("option", has_text="(default)").wait_for(state="attached", timeout=WAIT_MS)
        assert await tab.get_by_role("combobox", name="Instance").input_value() != ""
        await tab.get_by_role("textbox", name="Your name").fill("Jane")
        await tab.get_by_role("textbox", name="Contact attributes").fill("orderId=42")
        await tab.get_by_role("button", name="Start chat").click()

        offer = await agent.wait_for_offer(timeout=15)
        assert offer.customer_name == "Jane"
        chat = await agent.accept(offer)
        log = tab.get_by_role("log", name="Conversation")
        await log.get_by_text("Agent1 joined", exact=True).wait_for(timeout=WAIT_MS)

        await chat.send("Hello Jane, how can I help?")
        agent_says = log.locator("li", has=tab.get_by_text("Hello Jane, how can I help?", exact=True))
        await agent_says.wait_for(timeout=WAIT_MS)
        assert "Agent1" in await agent_says.inner_text() and "Agent" in await agent_says.inner_text()

        box = tab.get_by_role("textbox", name="Message")
        await box.fill("My parcel is late")
        await box.press("Enter")  # Enter sends
        got = await chat.wait_for(message_with("My parcel is late"), timeout=15)
        assert got["DisplayName"] == "Jane" and got["ParticipantRole"] == "CUSTOMER"
        assert await box.input_value() == ""

        await chat.typing()
        await tab.get_by_text("Agent1 is typing…", exact=True).wait_for(timeout=WAIT_MS)
        await chat.read(got["Id"])
        await log.get_by_text("Read", exact=True).wait_for(timeout=WAIT_MS)  # two participants: receipts show

        await tab.get_by_role("button", name="End chat").click()
        await tab.get_by_role("button", name="Yes, end chat").click()
        await tab.get_by_role("heading", name="Chat ended").wait_for(timeout=WAIT_MS)
        await agent.wait_for_contact_state(offer, "ended")
        await agent.clear(offer)

        mine = log.locator("li", has=tab.get_by_text("My parcel is late", exact=True))
        assert await mine.count() == 1  # shown once, however it arrived (the send's answer and the echo)
        for name in ("Download transcript", "Print transcript", "Start a new chat"):
            assert await tab.get_by_role("button", name=name).is_visible()
        assert await tab.get_by_role("textbox", name="Message").count() == 0
    assert not problems, "\n".join(problems)

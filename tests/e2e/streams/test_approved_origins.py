"""Approved origins, as Amazon Connect's "Application integration" list works: a page served from an origin the
instance does not approve cannot frame the instance's CCP (``/connect/demo/ccp-v2/``, CSP ``frame-ancestors``: the
iframe never loads, StreamsJS gets no ACK, ``connect.agent`` never fires); ``AssociateApprovedOrigin`` through
boto3 makes the very same page work — StreamsJS's own iframe retry picks it up — without restarting Parley. An
origin approved on another instance frames that instance's CCP but never the demo's, signed out or in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Server

from . import scenario
from .browser import PASSWORD, WAIT, AgentPage, Allowed, Watch, until
from .conftest import REPO
from .pages import PageServer

pytestmark = pytest.mark.e2e

# A port the demo instance does not approve (it approves only http://127.0.0.1:8080 and http://localhost:8080).
OTHER_PORT = 8081
# What Chromium logs when CSP frame-ancestors blocks the CCP iframe; expected here, and only before the origin
# is approved.
BLOCKED = "violates the following Content Security Policy directive: \"frame-ancestors"
# Longer than StreamsJS's CCP load timeout (5 s): without an ACK by then, the page would already have given up.
NO_ACK_WAIT = 7.0


def frame_ancestors(server: Server, instance: str = "demo") -> str:
    policy = httpx.get(f"{server.url}/connect/{instance}/ccp-v2/").headers["content-security-policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("frame-ancestors"))


@pytest.fixture
def other_origin() -> Any:
    pages = PageServer(OTHER_PORT)
    pages.add("/favicon.ico", b"", "image/x-icon")
    pages.mount("/example/", REPO / "examples" / "custom-ccp")
    yield pages
    pages.close()


async def test_unapproved_origin_cannot_frame_until_associated(browser: Any, parley: Server, watch: Watch,
                                                               other_origin: PageServer, shots: Path) -> None:
    origin = other_origin.origin
    assert origin not in frame_ancestors(parley).split()
    watch.allowed.append(Allowed(BLOCKED, "", "the CSP violation this test provokes before approving the origin"))

    # The agent is signed in to Parley already (session cookie), so only the framing decides.
    context = await browser.new_context()
    watch.attach(context, "agent1")
    page = await context.new_page()
    await page.goto(f"{parley.url}/connect/login?landat=/connect/ccp-v2/")
    await page.locator("input[name=username]").fill("agent1")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{parley.url}/connect/ccp-v2/**")

    url = f"{origin}/example/index.html?" + urlencode({"parley": parley.url})
    await page.goto(url)
    agent = AgentPage("agent1", context, page, page.frame_locator("#ccp iframe"), watch)
    await until(lambda: _blocked(watch), "Chromium to refuse the CCP frame (frame-ancestors)",
                diagnostics=agent.diagnostics)
    await asyncio.sleep(NO_ACK_WAIT)
    log = await page.evaluate("() => window.parleyLog.map((e) => e.kind)")
    assert "agent" not in log, log
    assert await agent.frame.locator("select.state").count() == 0
    await page.screenshot(path=str(shots / "origin-blocked.png"))

    # The administrator approves the origin; the next iframe StreamsJS creates is allowed, no restart needed.
    connect = parley.connect()
    connect.associate_approved_origin(InstanceId=scenario.demo(parley).instance_id, Origin=origin)
    assert origin in frame_ancestors(parley).split()
    await until(lambda: page.evaluate("() => window.parleyLog.some((e) => e.kind === 'agent')"),
                "connect.agent once the origin is approved", timeout=WAIT, diagnostics=agent.diagnostics)
    blocked_before = len(watch.accepted)
    await agent.set_state("Available")
    assert await agent.frame.locator(".name").text_content() == "Agent1 Demo"
    await page.screenshot(path=str(shots / "origin-approved.png"))
    assert len(watch.accepted) == blocked_before, watch.accepted[blocked_before:]
    await context.close()
    watch.assert_clean()


async def _blocked(watch: Watch) -> bool:
    return any(BLOCKED in line for line in watch.accepted)


async def test_an_origin_approved_on_another_instance_cannot_frame_this_one(
        browser: Any, parley: Server, watch: Watch, other_origin: PageServer) -> None:
    """The issue's item 4: the signed-out CCP's frame-ancestors were the union of every instance's origins."""
    origin = other_origin.origin
    connect = parley.connect()
    alias = "other-crm"
    other = connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=alias,
                                    InboundCallsEnabled=True, OutboundCallsEnabled=False)["Id"]
    connect.associate_approved_origin(InstanceId=other, Origin=origin)
    assert origin in frame_ancestors(parley, alias).split()
    assert origin not in frame_ancestors(parley).split()
    generic = httpx.get(f"{parley.url}/connect/ccp-v2/").headers["content-security-policy"]
    assert origin not in generic, generic
    watch.allowed.append(Allowed(BLOCKED, "", "the CSP violation this test provokes: demo does not approve it"))

    context = await browser.new_context()
    watch.attach(context, "signed-out")
    page = await context.new_page()
    # The other instance's own CCP loads in the frame (signed out, it asks for the sign-in popup)...
    await page.goto(f"{origin}/example/index.html?" + urlencode({"parley": parley.url, "instance": alias}))
    framed = page.frame_locator("#ccp iframe")
    await until(lambda: _text(framed), "the other instance's CCP to load in the frame")
    assert not await _blocked(watch)
    # ...the demo instance's CCP does not, signed out...
    await page.goto(f"{origin}/example/index.html?" + urlencode({"parley": parley.url, "instance": "demo"}))
    await until(lambda: _blocked(watch), "Chromium to refuse the demo CCP frame (frame-ancestors)")
    # ...nor signed in as a demo agent.
    blocked = len(watch.accepted)
    await page.goto(f"{parley.url}/connect/login?landat=/connect/demo/ccp-v2/&instance=demo")
    await page.locator("input[name=username]").fill("agent1")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{parley.url}/connect/demo/ccp-v2/**")
    await page.goto(f"{origin}/example/index.html?" + urlencode({"parley": parley.url, "instance": "demo"}))
    await until(lambda: _more_blocked(watch, blocked), "Chromium to refuse the demo CCP frame when signed in")
    await asyncio.sleep(NO_ACK_WAIT)
    log = await page.evaluate("() => window.parleyLog.map((e) => e.kind)")
    assert "agent" not in log, log
    await context.close()
    watch.assert_clean()


async def _text(frame: Any) -> bool:
    status = frame.locator("p.status")
    return await status.count() > 0 and "Sign in" in (await status.first.text_content() or "")


async def _more_blocked(watch: Watch, before: int) -> bool:
    return sum(BLOCKED in line for line in watch.accepted[before:]) > 0

"""axe-core on the customer pages, at desktop (1280x800) and phone (390x844) widths: the home page, ``/test-chat``
before a chat, during one (with messages both ways) and after it ended, the widget window on its own (pre-chat form
and a waiting chat) and the embedded widget on a website. No serious or critical violation is allowed."""

from __future__ import annotations

import pytest

from tests.conftest import Server
from tests.e2e.streams.pages import PageServer

from .axe import AxeFinding, assert_no_axe, axe_check
from .conftest import HOST_ORIGIN, Browse, embed_page
from .support import (
    DESKTOP,
    PHONE,
    WAIT,
    WAIT_MS,
    agents,
    find_chat,
    find_in_frames,
    offer_for,
    open_test_chat,
    start_test_chat,
    tag,
)

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.mark.parametrize("width", list(VIEWPORTS))
async def test_customer_pages_have_no_serious_axe_violations(parley: Server, browse: Browse, host_pages: PageServer,
                                                             demo_widget_id: str, width: str) -> None:
    t = tag()
    viewport = VIEWPORTS[width]
    findings: list[AxeFinding] = []
    page = await browse.page(viewport=viewport)

    await page.goto(parley.url + "/")
    await page.get_by_role("main").first.wait_for(timeout=WAIT_MS)
    findings += await axe_check(page, f"{width} /")

    await open_test_chat(page, parley.url)
    findings += await axe_check(page, f"{width} /test-chat before a chat")

    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        started = await start_test_chat(page, parley.url, "Jane")
        chat = started.chat
        line = await agent1.accept(await offer_for(agent1, "Jane"))
        await line.send(f"Hello Jane, **welcome** ({t})", "text/markdown")
        await chat.log.locator("strong", has_text="welcome").wait_for(timeout=WAIT_MS)
        await chat.send(f"Hi, my parcel is late ({t})")
        await chat.see(f"Hi, my parcel is late ({t})")
        await line.typing()
        findings += await axe_check(page, f"{width} /test-chat during a chat")
        await chat.end()
        await chat.see_in_page("Chat ended")
        findings += await axe_check(page, f"{width} /test-chat after the chat ended")

    # The widget window on its own: the pre-chat form, then a chat waiting in the queue (ended at once after).
    window = await browse.page("window", viewport=viewport)
    await window.goto(f"{parley.url}/widget/{demo_widget_id}/window")
    await window.get_by_role("textbox", name="Your name", exact=True).wait_for(timeout=WAIT_MS)
    findings += await axe_check(window, f"{width} widget window, pre-chat form")
    await window.get_by_role("textbox", name="Your name", exact=True).fill("Jane")
    await window.get_by_role("button", name="Start chat", exact=True).click()
    waiting = await find_chat(window)
    await waiting.by_role("textbox", "Message").wait_for(timeout=WAIT_MS)
    findings += await axe_check(window, f"{width} widget window, chat waiting for an agent")
    await waiting.end()
    await waiting.see_in_page("Chat ended", timeout=WAIT)

    # The widget embedded on a website: the launcher and the open window.
    host_pages.add("/axe.html", embed_page(f"{parley.url}/widget.js", demo_widget_id))
    site = await browse.page("website", viewport=viewport)
    await site.goto(f"{HOST_ORIGIN}/axe.html")
    opener = site.get_by_role("button", name="Open chat", exact=True)
    await opener.wait_for(timeout=WAIT_MS)
    findings += await axe_check(site, f"{width} website with the launcher")
    await opener.click()
    await find_in_frames(site, lambda f: f.get_by_role("textbox", name="Your name", exact=True),
                         "the embedded window's pre-chat form")
    findings += await axe_check(site, f"{width} website with the chat window open")

    assert_no_axe(findings)


@pytest.mark.parametrize("width", list(VIEWPORTS))
async def test_sign_in_pages_have_no_serious_axe_violations(parley: Server, browse: Browse, width: str) -> None:
    """The sign-in form (fresh and after a wrong password), the sign-out page and the CCP's refusal notice."""
    browse.watch.expect_error("status of 401", "/connect/login", "the wrong password is answered 401")
    browse.watch.expect_error("status of 404", "/connect/no-such-instance/ccp-v2/", "no such instance: 404")
    page = await browse.page(viewport=VIEWPORTS[width])
    findings: list[AxeFinding] = []
    await page.goto(parley.url + "/connect/login")
    findings += await axe_check(page, f"{width} sign-in")
    await page.get_by_label("Username").fill("agent1")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Wrong username or password.").wait_for(timeout=WAIT_MS)
    findings += await axe_check(page, f"{width} sign-in refused")
    await page.goto(parley.url + "/connect/logout")
    findings += await axe_check(page, f"{width} signed out")
    await page.goto(parley.url + "/connect/no-such-instance/ccp-v2/")
    findings += await axe_check(page, f"{width} CCP of an unknown instance")
    assert_no_axe(findings)

"""The widget's one-line embed snippet on a plain website: from an allowed origin (``http://localhost:8000``) the
launcher opens the chat window and a chat reaches an agent; from an origin the widget does not allow, the chat cannot
start, the widget says why in an alert, and no contact is created."""

from __future__ import annotations

import pytest

from parley.client import message_with
from tests.conftest import Server
from tests.e2e.streams.pages import PageServer

from .conftest import HOST_ORIGIN, Browse, embed_page
from .support import WAIT, WAIT_MS, agents, count_contacts, find_chat, find_in_frames, offer_for, tag

pytestmark = pytest.mark.e2e


def launcher(page: object, name: str) -> object:
    return page.get_by_role("button", name=name, exact=True)  # type: ignore[attr-defined]


async def test_embedded_widget_on_an_allowed_origin_starts_a_chat(parley: Server, browse: Browse,
                                                                  host_pages: PageServer,
                                                                  demo_widget_id: str) -> None:
    t = tag()
    host_pages.add("/parcels.html", embed_page(f"{parley.url}/widget.js", demo_widget_id))
    page = await browse.page("website")
    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        await page.goto(f"{HOST_ORIGIN}/parcels.html")
        opener = launcher(page, "Open chat")
        await opener.wait_for(timeout=WAIT_MS)
        assert await opener.get_attribute("aria-expanded") == "false"
        await opener.click()
        closer = launcher(page, "Close chat")
        await closer.wait_for(timeout=WAIT_MS)
        assert await closer.get_attribute("aria-expanded") == "true"

        # The chat window (an iframe of Parley's /widget/{id}/window), named by the widget's title.
        await find_in_frames(page, lambda f: f.get_by_role("region", name="Chat with us", exact=True)
                             .or_(f.get_by_role("main", name="Chat with us", exact=True)),
                             "the chat window named 'Chat with us'")
        name_box = await find_in_frames(page, lambda f: f.get_by_role("textbox", name="Your name", exact=True),
                                        "the pre-chat form's 'Your name'")
        await name_box.fill("Jane")
        start = await find_in_frames(page, lambda f: f.get_by_role("button", name="Start chat", exact=True),
                                     "the pre-chat form's 'Start chat'")
        await start.click()

        chat = await find_chat(page)
        assert chat.frame != page.main_frame, "the conversation is not in the widget's iframe"
        assert f"/widget/{demo_widget_id}/window" in chat.frame.url
        offer = await offer_for(agent1, "Jane")
        line = await agent1.accept(offer)
        hello = f"Hello from Agent1 ({t})"
        await line.send(hello)
        await chat.see(hello)
        question = f"Where is my parcel? ({t})"
        await chat.send(question)
        got = await line.wait_for(message_with(question), timeout=WAIT)
        assert got["DisplayName"] == "Jane"

        # The launcher closes and reopens the window without losing the chat.
        await closer.click()
        await opener.wait_for(timeout=WAIT_MS)
        await opener.click()
        chat = await find_chat(page)
        await chat.see(hello)
        assert await chat.count(hello) == 1

        await chat.end()
        await agent1.wait_for_contact_state(offer, "ended", timeout=WAIT)
        await chat.see_in_page("Chat ended")


async def test_embedded_widget_on_another_origin_refuses_and_says_why(parley: Server, browse: Browse,
                                                                      other_pages: PageServer,
                                                                      demo_widget_id: str) -> None:
    origin = f"http://127.0.0.1:{other_pages.port}"
    other_pages.add("/shop.html", embed_page(f"{parley.url}/widget.js", demo_widget_id))
    # The browser logs the refusals Parley answers (403) as console errors; they are the point of this test.
    browse.watch.expect_error("status of 403", f"/widget/{demo_widget_id}/",
                              "the widget's config or start refused for an origin the widget does not allow")
    before = count_contacts(parley.data_dir)
    page = await browse.page("website")
    await page.goto(f"{origin}/shop.html")
    reason = f"This website ({origin}) is not allowed to start chats with this widget."

    opener = launcher(page, "Open chat")
    await opener.wait_for(timeout=WAIT_MS)
    await opener.click()
    alert = await find_in_frames(page, lambda f: f.get_by_role("alert").filter(has_text=reason),
                                 f"an alert saying {reason!r}")
    assert reason in await alert.inner_text()
    # Nothing to chat in: no pre-chat form, no conversation, and no contact created.
    for frame in page.frames:
        assert not await frame.get_by_role("log", name="Conversation").count(), "a conversation opened"
        assert not await frame.get_by_role("button", name="Start chat", exact=True).count(), "a chat can start"
    # A page that skips the loader and posts to the start endpoint itself (a "simple" cross-origin request, which
    # no preflight stops) starts nothing either.
    await page.evaluate("""(url) => fetch(url, { method: "POST", mode: "no-cors", body: JSON.stringify(
      { DisplayName: "Jane" }), headers: { "Content-Type": "text/plain" } }).then(() => true)""",
                        f"{parley.url}/widget/{demo_widget_id}/start")
    assert count_contacts(parley.data_dir) == before, "a contact was created for a refused origin"

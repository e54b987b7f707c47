"""The whole customer flow on ``/test-chat`` with a scripted agent1 on the other side: start as Jane, messages both
ways with names, typing shown both ways, delivered and read receipts, Markdown rendered and HTML shown as text, the
customer ends the chat, the agent sees it end, and the transcript downloads. Then HTML inside Markdown: sanitized,
never run, and without CSP noise."""

from __future__ import annotations

import asyncio

import pytest

from parley.client import CHAT_ENDED, content_type_is, is_typing, message_with
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT, agents, message_ids, offer_for, start_test_chat, tag

pytestmark = pytest.mark.e2e

XSS = "<img src=x onerror=alert(1)>"


async def test_customer_chats_with_an_agent_and_ends_the_chat(parley: Server, browse: Browse) -> None:
    t = tag()
    page = await browse.page()
    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        started = await start_test_chat(page, parley.url, "Jane")
        chat = started.chat
        offer = await offer_for(agent1, "Jane")
        assert offer.initial_contact_id == started.contact_id
        line = await agent1.accept(offer)

        # The agent types: the customer is told who.
        await line.typing()
        await chat.see_in_page("Agent1 is typing…")

        # Agent -> customer, shown with the agent's name and role.
        hello = f"Hello Jane, Agent1 here ({t})"
        await line.send(hello)
        await chat.see(hello)
        item = chat.item(hello)
        await item.get_by_text("Agent1", exact=True).first.wait_for(timeout=WAIT * 1000)
        await item.get_by_text("Agent", exact=True).first.wait_for(timeout=WAIT * 1000)
        assert await chat.count(hello) == 1
        # The message ends the typing indicator at once (well before its 12 s timeout): no typing that never clears.
        await chat.frame.get_by_text("Agent1 is typing…", exact=True).wait_for(state="hidden", timeout=3000)

        # The customer types: the agent gets the customer's typing event.
        await chat.by_role("textbox", "Message").press_sequentially("My parcel", delay=30)
        typing = await line.wait_for(lambda i: is_typing(i) and i.get("ParticipantRole") == "CUSTOMER", timeout=WAIT)
        assert typing["DisplayName"] == "Jane"
        # Customer -> agent, under the customer's name; receipts under the customer's own message.
        late = f"My parcel is late ({t})"
        await chat.send(late)
        got = await line.wait_for(message_with(late), timeout=WAIT)
        assert got["DisplayName"] == "Jane" and got["ParticipantRole"] == "CUSTOMER"
        await chat.see(late)
        mine = chat.item(late)
        await line.delivered(got["Id"])
        await mine.get_by_text("Delivered", exact=True).wait_for(timeout=WAIT * 1000)
        await line.read(got["Id"])
        await mine.get_by_text("Read", exact=True).wait_for(timeout=WAIT * 1000)

        # Markdown from the agent is rendered; HTML in a plain text message is shown as text, never run.
        await line.send(f"Your parcel is **shipped** ({t})", "text/markdown")
        strong = chat.log.locator("strong", has_text="shipped")
        await strong.wait_for(timeout=WAIT * 1000)
        plain = f"{XSS} ({t})"
        await line.send(plain)
        await chat.see(plain)
        marker = f"after the markup ({t})"
        await line.send(marker)
        await chat.see(marker)
        assert await chat.log.locator("img, [onerror], script").count() == 0
        await asyncio.sleep(0.3)  # an onerror handler would have run by now
        assert not browse.watch.dialogs, browse.watch.dialogs

        # Every message the customer sent reached the agent once.
        assert len(message_ids(line.received, late)) == 1

        # The customer ends the chat; both sides see it end.
        await chat.end()
        await line.wait_for(content_type_is(CHAT_ENDED), timeout=WAIT)
        await agent1.wait_for_contact_state(offer, "ended", timeout=WAIT)
        await chat.see_in_page("Chat ended")

        # The transcript downloads, with what both sides said.
        async with page.expect_download(timeout=WAIT * 1000) as info:
            await chat.by_role("button", "Download transcript").click()
        download = await info.value
        text = (await download.path()).read_text(errors="replace")
        for said in (hello, late, marker):
            assert said in text, f"{said!r} is missing from the downloaded transcript:\n{text[:2000]}"
        assert "Jane" in text and "Agent1" in text
        for name in ("Print transcript", "Start a new chat"):
            assert await chat.by_role("button", name).is_visible(), f"no {name!r} button after the chat ended"


async def test_html_in_agent_markdown_is_sanitized_quietly(parley: Server, browse: Browse) -> None:
    """Markdown holding HTML with an event handler and a script: nothing runs, nothing active reaches the page, and
    the sanitizing itself trips no CSP violation (a report or console error on every such message would bury real
    ones)."""
    t = tag()
    page = await browse.page()
    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        chat = (await start_test_chat(page, parley.url, "Jane")).chat
        line = await agent1.accept(await offer_for(agent1, "Jane"))
        await line.send(f"{XSS} <script>alert(2)</script> and **bold** ({t})", "text/markdown")
        await chat.log.locator("strong", has_text="bold").wait_for(timeout=WAIT * 1000)
        marker = f"after the markup ({t})"
        await line.send(marker)
        await chat.see(marker)
        assert await chat.log.locator("img, [onerror], script").count() == 0
        await asyncio.sleep(0.3)  # an onerror handler would have run by now
        assert not browse.watch.dialogs, browse.watch.dialogs
        await chat.end()
        await chat.see_in_page("Chat ended")

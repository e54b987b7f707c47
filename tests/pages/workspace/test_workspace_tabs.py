"""Two tabs of the same agent (two pages of one browser context, one sign-in) agree: the status set in one shows
in the other, an offer accepted in one opens the chat in both, every message (the customer's and the agent's from
either tab) is shown once in each, and closing the contact in one removes it from both."""

from __future__ import annotations

from typing import Any

import pytest

from parley.client import customer
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT_MS, accept_offer, set_status, shown_ids, shown_messages, sign_in, until, wait_in_log

pytestmark = pytest.mark.e2e
TOM = "Tom Tabs"


async def status_shown(page: Any, name: str) -> bool:
    return bool(await page.get_by_label("Status").input_value() == name)


async def same_log(first: Any, second: Any) -> bool:
    return bool(await shown_messages(first) == await shown_messages(second))


async def test_two_tabs_agree(browse: Browse, parley: Server) -> None:
    tab1 = await browse.page("agent1")
    await sign_in(tab1, parley.url, "agent1", available=False)
    tab2 = await tab1.context.new_page()
    await tab2.goto(f"{parley.url}/agent")
    await tab2.get_by_label("Status").wait_for(timeout=WAIT_MS)

    # The status, set in either tab, shows in both.
    await set_status(tab1, "Available")
    await until(lambda: status_shown(tab2, "Available"), "Available in the second tab")
    await set_status(tab2, "Offline")
    await until(lambda: status_shown(tab1, "Offline"), "Offline in the first tab")
    await set_status(tab1, "Available")
    await until(lambda: status_shown(tab2, "Available"), "Available again in the second tab")

    async with await customer(parley.url, TOM) as tom:
        # The offer rings in both; accepted in the second tab, the chat opens in both.
        for tab in (tab1, tab2):
            await tab.get_by_role("region", name="Incoming chat").get_by_text(TOM).wait_for(timeout=WAIT_MS)
        await accept_offer(tab2, TOM)
        await tab1.get_by_role("heading", name=TOM, exact=True).wait_for(timeout=WAIT_MS)
        assert await tab1.get_by_role("region", name="Incoming chat").count() == 0
        for tab in (tab1, tab2):
            await tab.get_by_text("1 of 3 chats").wait_for(timeout=WAIT_MS)

        await tom.send("One question")
        await tab1.get_by_label("Message").fill("Answer from the first tab")
        await tab1.get_by_label("Message").press("Enter")
        await tab2.get_by_label("Message").fill("And from the second")
        await tab2.get_by_label("Message").press("Enter")
        await tom.send("Thanks")
        for tab in (tab1, tab2):
            for text in ("One question", "Answer from the first tab", "And from the second", "Thanks"):
                await wait_in_log(tab, text)
        await until(lambda: same_log(tab1, tab2), "both tabs to show the same conversation")
        for tab in (tab1, tab2):
            shown = await shown_messages(tab)
            assert shown == {"One question": 1, "Answer from the first tab": 1, "And from the second": 1,
                             "Thanks": 1}, shown
            ids = await shown_ids(tab)
            assert len(ids) == len(set(ids)), ids
            # Both tabs' messages are the agent's own ("You"), whichever tab sent them.
            mine = await tab.locator(".message.mine .text").all_inner_texts()
            assert mine == ["Answer from the first tab", "And from the second"], mine
        sent = [i for i in tom.received if i.get("Type") == "MESSAGE" and i.get("ParticipantRole") == "AGENT"]
        assert [i["Content"] for i in sent] == ["Answer from the first tab", "And from the second"]

        # Leaving in one tab: both show after-contact work; closing in the other: gone from both.
        await tab1.get_by_role("button", name="Leave chat").click()
        for tab in (tab1, tab2):
            await tab.get_by_role("button", name="Close contact").wait_for(timeout=WAIT_MS)
        await tab2.get_by_role("button", name="Close contact").click()
        for tab in (tab1, tab2):
            await tab.get_by_role("button", name=TOM).wait_for(state="detached", timeout=WAIT_MS)
            await tab.get_by_text("0 of 3 chats").wait_for(timeout=WAIT_MS)

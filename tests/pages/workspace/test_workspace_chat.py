"""The seed document's scenario in Parley's own agent workspace (``/agent``): agent1 signs in, goes Available,
accepts a customer's chat from the offer, they talk; agent1 adds agent2 with the "Add participant" picker; agent2
accepts the invitation and sees the earlier transcript; all three talk; agent1 reloads mid-chat and finds every
message once and its draft; agent1 leaves and closes the contact; the customer ends the chat; agent2 reads it in
after-contact work and closes it. Every screen is checked with axe-core; no console error, no other host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from parley.client import customer
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT_MS, check_page, log, shown_ids, shown_messages, sign_in, until, wait_in_log

pytestmark = pytest.mark.e2e
JANE = "Jane Doe"


async def roster_has(roster: Any, name: str) -> bool:
    return name in await roster.inner_text()


def is_text(text: str) -> Any:
    return lambda item: item.get("Type") == "MESSAGE" and item.get("Content") == text


async def test_three_way_chat_from_the_workspace(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    await agent1.goto(f"{parley.url}/agent")
    await agent1.get_by_role("link", name="Sign in").wait_for(timeout=WAIT_MS)
    await check_page(agent1, "signed out", shots, "signed-out")
    await sign_in(agent1, parley.url, "agent1")
    await agent1.get_by_text("0 of 3 chats").wait_for(timeout=WAIT_MS)
    await check_page(agent1, "idle", shots, "idle")

    async with await customer(parley.url, JANE, supported_content_types=["text/plain", "text/markdown"]) as jane:
        # The offer: the customer's name, the queue, a countdown; Accept.
        offer = agent1.get_by_role("region", name="Incoming chat")
        await offer.get_by_text(JANE).wait_for(timeout=WAIT_MS)
        await offer.get_by_text("Expires in").wait_for()
        await check_page(agent1, "offer", shots, "offer")
        await offer.get_by_role("button", name="Accept").click()
        contact = agent1.get_by_role("button", name=JANE)
        await contact.wait_for(timeout=WAIT_MS)
        await agent1.get_by_role("heading", name=JANE).wait_for()

        await jane.send("Hi, my parcel never arrived")
        await wait_in_log(agent1, "Hi, my parcel never arrived")
        await agent1.get_by_label("Message").fill("Sorry to hear that, **Jane**. Let me check.")
        await agent1.get_by_role("button", name="Send").click()
        await jane.wait_for(is_text("Sorry to hear that, **Jane**. Let me check."))
        await jane.typing()
        await agent1.get_by_text(f"{JANE} is typing…").wait_for(timeout=WAIT_MS)

        # agent2, Available; agent1 adds agent2 from the picker.
        agent2 = await browse.page("agent2")
        await sign_in(agent2, parley.url, "agent2")
        await agent1.get_by_role("button", name="Add participant").click()
        picker = agent1.get_by_role("dialog", name="Add participant")
        await picker.get_by_label("Search quick connects").fill("agent-2")
        await picker.get_by_role("button", name="Transfer-to-agent-2").wait_for()
        await check_page(agent1, "picker", shots, "add-participant")
        await picker.get_by_role("button", name="Transfer-to-agent-2").click()
        await picker.wait_for(state="hidden")

        invitation = agent2.get_by_role("region", name="Invitation to join a chat")
        await invitation.get_by_text(JANE).wait_for(timeout=WAIT_MS)
        await invitation.get_by_text("Invited by").wait_for()
        await invitation.get_by_role("button", name="Accept").click()
        await wait_in_log(agent2, "Hi, my parcel never arrived")  # the earlier transcript
        await wait_in_log(agent2, "Sorry to hear that, Jane. Let me check.")  # Markdown, rendered
        assert await log(agent2).locator(".markdown strong", has_text="Jane").count() == 1

        await jane.send("Thanks both")
        await wait_in_log(agent1, "Thanks both")
        await wait_in_log(agent2, "Thanks both")
        await agent2.get_by_label("Message").fill("Hello Jane, agent2 here")
        await agent2.get_by_label("Message").press("Enter")
        await wait_in_log(agent1, "Hello Jane, agent2 here")
        await jane.wait_for(is_text("Hello Jane, agent2 here"))
        roster = agent1.locator(".roster")
        await until(lambda: roster_has(roster, "Agent2\nAgent · Connected"), "agent2 in agent1's roster")
        await check_page(agent1, "three-way", shots, "three-way")
        # No receipts while three parties are in the chat.
        assert await log(agent1).locator(".receipt").count() == 0

        # Reload mid-chat with a draft: every message once, the draft kept.
        await agent1.get_by_label("Message").fill("a draft to keep")
        before = await shown_messages(agent1)
        await agent1.reload()
        await wait_in_log(agent1, "Hello Jane, agent2 here")
        await agent1.wait_for_timeout(1500)  # the transcript reloads and live items keep arriving
        after = await shown_messages(agent1)
        assert after == before and all(n == 1 for n in after.values()), (before, after)
        ids = await shown_ids(agent1)
        assert len(ids) == len(set(ids)), ids
        assert await agent1.get_by_label("Message").input_value() == "a draft to keep"
        await jane.send("After your reload")
        await wait_in_log(agent1, "After your reload")
        assert (await shown_messages(agent1))["After your reload"] == 1

        # agent1 leaves; agent2 sees it; agent1's contact is in after-contact work until closed.
        await agent1.get_by_role("button", name="Leave chat").click()
        await log(agent2).locator(".notice", has_text=re.compile(r"^Agent1.* left")).wait_for(timeout=WAIT_MS)
        await agent1.get_by_role("button", name="Close contact").click()
        await contact.wait_for(state="detached", timeout=WAIT_MS)

        await jane.disconnect()
    await wait_in_log(agent2, "Chat ended")
    await agent2.get_by_role("button", name="Close contact").wait_for(timeout=WAIT_MS)
    await agent2.get_by_text("After contact work").first.wait_for()
    await check_page(agent2, "after-contact work", shots, "acw")
    await agent2.get_by_role("button", name="Close contact").click()
    await agent2.get_by_role("button", name=JANE).wait_for(state="detached", timeout=WAIT_MS)
    copies = [i for i in jane.received if i.get("Content") == "Hello Jane, agent2 here"]
    assert len({i["Id"] for i in copies}) == 1
    await until(lambda: agent2.get_by_text("0 of 3 chats").is_visible(), "agent2's slots to free up")

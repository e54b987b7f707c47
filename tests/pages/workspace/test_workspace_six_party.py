"""A six-party chat held entirely from the pages: five agents, each in their own workspace, and a customer on the
test chat page. agent1 accepts the chat and adds agent2 … agent5 with the "Add participant" picker; each accepts
the invitation in their own workspace. Every agent's roster shows the same six, every screen shows each join once,
each agent's message reaches every other screen once under its author's name, a 7th cannot be added from any
workspace and the picker says why; an agent leaving is seen everywhere; the customer ending the chat ends it on
every workspace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.pages.browser.support import start_test_chat

from .conftest import Browse
from .support import (
    WAIT_MS,
    accept_offer,
    check_page,
    log,
    pick,
    roster_text,
    set_status,
    shown_messages,
    sign_in,
    until,
    wait_in_log,
    wait_roster,
)

pytestmark = pytest.mark.e2e
SAM = "Sam Sixparty"
REFUSAL = "This chat already has 6 participants (6 of 6). Remove someone before adding another."
AGENTS = range(1, 6)


async def connected_count(page: Any) -> int:
    return int(await page.locator(".roster").get_by_text("Connected").count())


async def test_five_workspaces_and_the_test_chat_page_hold_a_six_party_chat(
        browse: Browse, parley: Server, shots: Path) -> None:
    desks = {n: await browse.page(f"agent{n}") for n in AGENTS}
    for n, page in desks.items():
        await sign_in(page, parley.url, f"agent{n}", available=n == 1)  # only agent1 takes the chat
    customer_page = await browse.page("customer")
    started = await start_test_chat(customer_page, parley.url, SAM)
    chat = started.chat

    await accept_offer(desks[1], SAM)
    await chat.see("Agent1 joined")
    await chat.send("Hello, I need a hand with a return")
    await wait_in_log(desks[1], "Hello, I need a hand with a return")

    # agent1 adds the others one by one; each accepts the invitation in their own workspace.
    for n in range(2, 6):
        await set_status(desks[n], "Available")
        await pick(desks[1], "Add participant", f"Transfer-to-agent-{n}")
        await accept_offer(desks[n], SAM, "Invitation to join a chat")
        await chat.see(f"Agent{n} joined")
        await wait_in_log(desks[n], "Hello, I need a hand with a return")  # the invited see what was said

    # Every roster shows the same six, all connected, each agent marked as "you" on their own screen.
    names = [SAM, *(f"Agent{n}" for n in AGENTS)]
    for n, page in desks.items():
        await until(lambda page=page: _six(page), f"six connected parties in agent{n}'s roster")
        shown = await roster_text(page)
        for name in names:
            assert name in shown, f"agent{n}'s roster lacks {name}: {shown}"
        assert f"Agent{n} (you)" in shown, shown
    await check_page(desks[3], "a six-party chat", shots, "six-party")

    # Every agent's screen tells the same story, once each: who was invited and who joined (those who joined later
    # read what came before from the transcript); the customer sees the joins.
    for n in range(2, 6):
        for m, page in desks.items():
            for what in ("was invited", "joined"):
                notice = log(page).locator(".notice", has_text=re.compile(rf"^Agent{n}\b.* {what}"))
                await notice.first.wait_for(timeout=WAIT_MS)
                assert await notice.count() == 1, f"agent{m} saw 'Agent{n} {what}' {await notice.count()} times"
        assert await chat.count(f"Agent{n} joined") == 1

    # Everyone talks: each message reaches every other screen once, under its author's name.
    said = {n: f"Agent{n} here, looking into it" for n in AGENTS}
    for n, page in desks.items():
        await page.get_by_label("Message").fill(said[n])
        await page.get_by_label("Message").press("Enter")
    for n in AGENTS:
        await chat.see(said[n])
        assert await chat.count(said[n]) == 1
        await chat.item(said[n]).get_by_text(f"Agent{n}", exact=True).first.wait_for(timeout=WAIT_MS)
        for page in desks.values():
            await wait_in_log(page, said[n])
    for m, page in desks.items():
        counts = await shown_messages(page)
        assert all(counts.get(said[n]) == 1 for n in AGENTS), (m, counts)

    # A 7th cannot be added, from whichever workspace tries; the picker says why.
    for n in (1, 4):
        await desks[n].get_by_role("button", name="Add participant").click()
        picker = desks[n].get_by_role("dialog", name="Add participant")
        await picker.get_by_role("alert").get_by_text(REFUSAL).wait_for(timeout=WAIT_MS)
        assert await picker.get_by_role("button", name="Transfer-to-BasicQueue").is_disabled()
        await desks[n].keyboard.press("Escape")
        await picker.wait_for(state="hidden")

    # agent3 leaves: the customer and every other agent see it; the chat goes on with the rest.
    await desks[3].get_by_role("button", name="Leave chat").click()
    await chat.see("Agent3 left")
    for n in (1, 2, 4, 5):
        await wait_roster(desks[n], "Agent3\nAgent · Left")
        await log(desks[n]).locator(".notice", has_text=re.compile(r"^Agent3\b.* left")).first.wait_for(
            timeout=WAIT_MS)
    await desks[3].get_by_role("button", name="Close contact").click()
    await chat.send("Thanks, all of you")
    for n in (1, 2, 4, 5):
        await wait_in_log(desks[n], "Thanks, all of you")

    # The customer ends the chat: it ends on every workspace still in it.
    await chat.end()
    for n in (1, 2, 4, 5):
        await wait_in_log(desks[n], "Chat ended")
        await desks[n].get_by_role("button", name="Close contact").click()
    await chat.see_in_page("Chat ended")


async def _six(page: Any) -> bool:
    return await connected_count(page) == 6

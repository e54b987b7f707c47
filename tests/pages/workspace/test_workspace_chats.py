"""Several chats at once (issue 20's acceptance): agent1 holds three chats ("3 of 3 chats"); messages to the chats
not on screen are counted as unread; Alt+N / Alt+Shift+N go through the chats; each chat keeps its draft and
scroll position while another is shown; a reload loses no chat, message or draft and shows nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.client import ChatParticipant, customer
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT_MS, check_page, log, shown_ids, shown_messages, sign_in, until, wait_in_log

pytestmark = pytest.mark.e2e
NAMES = ("Ann Alpha", "Ben Beta", "Cat Gamma")
EARLIER = 30  # messages of Ann's, enough for her transcript to scroll


def row(page: Any, name: str) -> Any:
    return page.locator(".contact").filter(has=page.get_by_role("button", name=name, exact=True))


async def unread(page: Any, name: str) -> str:
    badge = row(page, name).locator(".unread")
    return str(await badge.inner_text()) if await badge.count() else ""


async def unread_is(page: Any, name: str, count: str, what: str) -> None:
    async def check() -> bool:
        return await unread(page, name) == count
    await until(check, what)


async def on_screen(page: Any, name: str) -> None:
    await page.get_by_role("heading", name=name, exact=True).wait_for(timeout=WAIT_MS)


async def scroll_top(page: Any) -> int:
    return int(await page.locator(".transcript").evaluate("(el) => Math.round(el.scrollTop)"))


async def at_bottom(page: Any) -> bool:
    return bool(await page.locator(".transcript").evaluate(
        "(el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40"))


async def test_three_chats_at_once(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    people: dict[str, ChatParticipant] = {}
    try:
        for n, name in enumerate(NAMES, start=1):
            people[name] = await customer(parley.url, name)
            offer = agent1.get_by_role("region", name="Incoming chat").filter(has_text=name)
            await offer.wait_for(timeout=WAIT_MS)
            await agent1.keyboard.press("Alt+KeyA")
            await on_screen(agent1, name)
            await agent1.get_by_text(f"{n} of 3 chats").wait_for(timeout=WAIT_MS)
        ann, ben, cat = (people[n] for n in NAMES)

        # Ann is on screen; Ben's two messages and Cat's one are counted as unread.
        await row(agent1, NAMES[0]).get_by_role("button").click()
        await on_screen(agent1, NAMES[0])
        for i in range(EARLIER):
            await ann.send(f"Ann's line {i}")
        await ben.send("Ben here")
        await ben.send("Are you there?")
        await cat.send("Cat here")
        await wait_in_log(agent1, f"Ann's line {EARLIER - 1}")
        await unread_is(agent1, NAMES[1], "2", "2 unread in Ben's chat")
        await until(lambda: unread(agent1, NAMES[2]), "unread in Cat's chat")
        assert await unread(agent1, NAMES[2]) == "1" and await unread(agent1, NAMES[0]) == ""
        assert "Ben Beta: Are you there?" in await row(agent1, NAMES[1]).inner_text()
        assert "2 unread" in await row(agent1, NAMES[1]).inner_text()
        await check_page(agent1, "three chats", shots, "chats")

        # A draft and a scroll position in Ann's chat.
        await until(lambda: at_bottom(agent1), "Ann's transcript at its newest message")
        await agent1.locator(".transcript").evaluate("(el) => { el.scrollTop = 120; }")
        await until(lambda: agent1.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(true)))"),
                    "a frame after the scroll")
        await agent1.get_by_label("Message").fill("draft for Ann")

        # Alt+N: Ben's chat, its unread cleared, at its newest message; a draft there too.
        await agent1.keyboard.press("Alt+KeyN")
        await on_screen(agent1, NAMES[1])
        await unread_is(agent1, NAMES[1], "", "Ben's unread count cleared")
        assert await agent1.get_by_label("Message").input_value() == ""
        assert await at_bottom(agent1)
        await agent1.get_by_label("Message").fill("draft for Ben")
        await agent1.keyboard.press("Alt+KeyN")
        await on_screen(agent1, NAMES[2])
        await agent1.keyboard.press("Alt+KeyN")  # wraps around to Ann: her draft and scroll position are back
        await on_screen(agent1, NAMES[0])
        assert await agent1.get_by_label("Message").input_value() == "draft for Ann"
        assert abs(await scroll_top(agent1) - 120) <= 2, await scroll_top(agent1)
        await ann.send("Ann again")  # scrolled up: the view stays where the agent was reading
        await wait_in_log(agent1, "Ann again")
        assert abs(await scroll_top(agent1) - 120) <= 2
        await agent1.keyboard.press("Alt+Shift+KeyN")  # back to Cat
        await on_screen(agent1, NAMES[2])
        await agent1.keyboard.press("Alt+Shift+KeyN")
        await on_screen(agent1, NAMES[1])
        assert await agent1.get_by_label("Message").input_value() == "draft for Ben"
        await agent1.get_by_label("Message").press("Enter")  # sends the draft
        await ben.wait_for(lambda i: i.get("Content") == "draft for Ben")

        # Reload with Ben on screen: every chat back, Ben still on screen, Ann's draft kept, nothing twice.
        before = {}
        for name in NAMES:
            await row(agent1, name).get_by_role("button").click()
            await on_screen(agent1, name)
            before[name] = await shown_messages(agent1)
        await row(agent1, NAMES[1]).get_by_role("button").click()
        await agent1.reload()
        await on_screen(agent1, NAMES[1])
        await agent1.get_by_text("3 of 3 chats").wait_for(timeout=WAIT_MS)
        await wait_in_log(agent1, "draft for Ben")
        await cat.send("Cat after the reload")
        await unread_is(agent1, NAMES[2], "1", "Cat's new message counted")
        before[NAMES[2]]["Cat after the reload"] = 1
        for name in NAMES:
            await row(agent1, name).get_by_role("button").click()
            await on_screen(agent1, name)
            await wait_in_log(agent1, next(iter(before[name])))
            after = await shown_messages(agent1)
            assert after == before[name], (name, before[name], after)
            ids = await shown_ids(agent1)
            assert len(ids) == len(set(ids)), (name, ids)
            draft = await agent1.get_by_label("Message").input_value()
            assert draft == ("draft for Ann" if name == NAMES[0] else ""), (name, draft)
        await row(agent1, NAMES[0]).get_by_role("button").click()
        assert await log(agent1).locator(".message").count() == EARLIER + 1  # her lines and "Ann again"
    finally:
        for person in people.values():
            await person.close()

"""Canned responses in the workspace: typing "/" in the message box lists the instance's (the demo's three, and one
an administrator adds with ``parley canned add`` while the server runs) and the agent's own; Up/Down/Enter insert
one, a click too; Escape lets "/..." be sent as typed; "Save reply" keeps the agent's own (a duplicate name refused
in Parley's words), still there after a reload, and lists them for deleting (asked twice)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from parley.cli import main
from parley.client import customer
from parley.service.canned import DEMO_RESPONSES
from tests.conftest import Server
from tests.pages.browser.axe import assert_no_axe, axe_check

from .conftest import Browse
from .support import WAIT_MS, accept_offer, check_page, sign_in, until

pytestmark = pytest.mark.e2e
CARL = "Carl Canned"
TEXTS = dict(DEMO_RESPONSES)


def listbox(page: Any) -> Any:
    return page.get_by_role("listbox", name="Canned responses")


async def options(page: Any) -> list[str]:
    names: list[str] = await listbox(page).locator(".canned-name").all_inner_texts()
    return names


async def selected(page: Any) -> str:
    option = listbox(page).locator("[role=option][aria-selected=true] .canned-name")
    return str(await option.inner_text())


def received(person: Any, text: str) -> Any:
    async def check() -> bool:
        return any(i.get("Type") == "MESSAGE" and i.get("Content") == text for i in person.received)
    return check


async def test_canned_responses_from_the_composer(browse: Browse, parley: Server, shots: Path) -> None:
    # An administrator adds one to the instance's list from the command line while the server runs.
    added = await asyncio.to_thread(main, ["canned", "add", "--instance", "demo", "--data-dir", str(parley.data_dir),
                                           "--name", "Opening hours", "--text", "We are open 9:00-17:00, Mon-Fri."])
    assert added == 0
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    async with await customer(parley.url, CARL) as carl:
        await accept_offer(agent1, CARL)
        box = agent1.get_by_label("Message")

        # "/" lists every response; words narrow it; the textbox points at the active option.
        await box.fill("/")
        await listbox(agent1).wait_for(timeout=WAIT_MS)
        assert sorted(await options(agent1)) == sorted([*TEXTS, "Opening hours"])
        await box.press_sequentially("mom")
        await until(lambda: options_are(agent1, ["One moment"]), "only 'One moment' for /mom")
        active = await box.get_attribute("aria-activedescendant")
        assert active and await agent1.locator(f"#{active}").get_attribute("aria-selected") == "true"
        await box.fill("/")
        await until(lambda: options_are(agent1, None), "every option again")
        first = await selected(agent1)
        await box.press("ArrowDown")
        await box.press("ArrowDown")
        third = await selected(agent1)
        assert third != first
        await box.press("ArrowUp")
        await box.press("ArrowDown")
        assert await selected(agent1) == third
        assert_no_axe(await axe_check(agent1, "the canned responses list"))
        await agent1.screenshot(path=str(shots / "workspace-canned.png"))
        await box.press("Enter")  # inserts, does not send
        await listbox(agent1).wait_for(state="detached")
        inserted = await box.input_value()
        assert inserted == ({**TEXTS, "Opening hours": "We are open 9:00-17:00, Mon-Fri."})[third]
        await box.press("Enter")  # now sends
        await until(received(carl, inserted), "the customer to receive the inserted reply")

        # A click inserts too; "/" with no match and Escape sends the text as typed.
        await box.fill("/hours")
        await listbox(agent1).get_by_role("option", name="Opening hours").click()
        assert await box.input_value() == "We are open 9:00-17:00, Mon-Fri."
        await box.fill("/shrug")
        await agent1.get_by_text("No canned response matches “shrug”").wait_for()
        await box.press("Enter")  # nothing to insert: nothing sent
        assert await box.input_value() == "/shrug"
        await box.press("Escape")
        await agent1.locator(".canned-popup").wait_for(state="detached")
        await box.press("Enter")
        await until(received(carl, "/shrug"), "the customer to receive '/shrug' as typed")

        # "Save reply" keeps the agent's own; the same name again is refused in Parley's words.
        await box.fill("Our returns window is 30 days from delivery.")
        await agent1.get_by_role("button", name="Save reply").click()
        dialog = agent1.get_by_role("dialog", name="Save reply")
        await dialog.get_by_label("Name").fill("Returns")
        assert await dialog.get_by_label("Text").input_value() == "Our returns window is 30 days from delivery."
        await check_page(agent1, "save reply", shots, "save-reply", phone=False)
        await dialog.get_by_role("button", name="Save").click()
        await dialog.wait_for(state="hidden")
        browse.watch.expect_error("409 (Conflict)", "/agent/canned", "the same name is saved twice on purpose")
        await agent1.get_by_role("button", name="Save reply").click()
        await dialog.get_by_label("Name").fill("Returns")
        await dialog.get_by_role("button", name="Save").click()
        await dialog.get_by_role("alert").get_by_text("Your list already has a canned response named 'Returns'.") \
            .wait_for(timeout=WAIT_MS)
        await dialog.get_by_role("button", name="Cancel").click()
        await dialog.wait_for(state="hidden")

        # After a reload the agent's own is still there, marked as the agent's.
        await agent1.reload()
        box = agent1.get_by_label("Message")
        await box.wait_for(timeout=WAIT_MS)
        await box.fill("/ret")
        option = listbox(agent1).get_by_role("option", name="Returns")
        await option.wait_for(timeout=WAIT_MS)
        assert "Yours" in await option.text_content()
        await box.press("Tab")
        assert await box.input_value() == "Our returns window is 30 days from delivery."

        # The dialog lists the agent's own; Delete asks once more, then the response is gone for good.
        await agent1.get_by_role("button", name="Save reply").click()
        own = dialog.get_by_role("region", name="Your canned responses")
        await own.get_by_text("Returns", exact=True).wait_for(timeout=WAIT_MS)
        await check_page(agent1, "own canned responses", shots, "save-reply-own")
        await own.get_by_role("button", name="Delete “Returns”").click()
        await own.get_by_role("button", name="Delete “Returns” for good").click()
        await own.wait_for(state="detached", timeout=WAIT_MS)  # the agent has none of its own left
        await agent1.locator("[aria-live=polite]", has_text="Deleted “Returns” from your canned responses") \
            .wait_for(state="attached", timeout=WAIT_MS)
        await dialog.get_by_role("button", name="Cancel").click()
        await agent1.reload()  # gone from Parley, not only from the page
        box = agent1.get_by_label("Message")
        await box.wait_for(timeout=WAIT_MS)
        await box.fill("/ret")
        await agent1.get_by_text("No canned response matches “ret”").wait_for(timeout=WAIT_MS)


async def options_are(page: Any, wanted: list[str] | None) -> bool:
    shown = await options(page)
    return shown == wanted if wanted is not None else len(shown) == len(TEXTS) + 1

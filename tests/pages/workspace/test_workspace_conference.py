"""A six-party chat in the workspace: agent1 accepts a chat with the keyboard (Alt+A), invites agent2..agent5 one
by one with the "Add participant" picker (opened with Alt+P), each accepting through the CTI API as their own CCPs
would; the roster shows all six; the picker then refuses a 7th and says why; the shortcuts are in the help dialog.
Then a 2-party chat: receipts show under agent1's own message."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.client import customer
from tests.agents.cti import Agent
from tests.aws.chat_helpers import participant_client
from tests.conftest import Server
from tests.pages.browser.axe import assert_no_axe, axe_check

from .conftest import Browse
from .support import WAIT_MS, log, sign_in, until, wait_in_log

pytestmark = pytest.mark.e2e
REFUSAL = "This chat already has 6 participants (6 of 6). Remove someone before adding another."


async def test_seventh_participant_refused_in_the_picker(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    participants = participant_client(parley.url)
    others = [await Agent.sign_in(parley.url, f"agent{n}", participants) for n in range(2, 6)]
    try:
        async with await customer(parley.url, "Sam Six") as sam:
            await agent1.get_by_role("region", name="Incoming chat").wait_for(timeout=WAIT_MS)
            await agent1.keyboard.press("Alt+KeyA")  # accept the offer from the keyboard
            await agent1.get_by_role("heading", name="Sam Six").wait_for(timeout=WAIT_MS)
            await sam.send("Hello everyone")
            await wait_in_log(agent1, "Hello everyone")

            for n, other in enumerate(others, start=2):
                await other.available()
                await agent1.keyboard.press("Alt+KeyP")
                picker = agent1.get_by_role("dialog", name="Add participant")
                await picker.get_by_label("Search quick connects").fill(f"agent-{n}")
                await picker.get_by_role("button", name=f"Transfer-to-agent-{n}").click()
                await picker.wait_for(state="hidden")
                offer = await other.wait_offer(sam.contact_id)
                await other.accept(offer["contactId"])
                await wait_in_log(agent1, f"Agent{n} joined")

            roster = agent1.locator(".roster")

            async def six_connected() -> bool:
                return bool(await roster.get_by_text("Connected").count() == 6)
            await until(six_connected, "six connected parties in agent1's roster")
            await agent1.get_by_role("button", name="Add participant").click()
            picker = agent1.get_by_role("dialog", name="Add participant")
            await picker.get_by_role("alert").get_by_text(REFUSAL).wait_for(timeout=WAIT_MS)
            queue = picker.get_by_role("button", name="Transfer-to-BasicQueue")
            assert await queue.is_disabled()
            assert_no_axe(await axe_check(agent1, "picker refusing the 7th"))
            await agent1.screenshot(path=str(shots / "workspace-seventh-refused.png"))
            await agent1.keyboard.press("Escape")
            await picker.wait_for(state="hidden")

            # The shortcuts are listed in the help dialog ("?").
            await agent1.get_by_role("heading", name="Sam Six").click()
            await agent1.keyboard.press("?")
            help_dialog = agent1.get_by_role("dialog", name="Keyboard shortcuts")
            for keys in ("Alt+A", "Alt+N", "Enter", "Alt+P"):
                await help_dialog.get_by_role("cell", name=keys, exact=True).wait_for()
            await agent1.keyboard.press("Escape")
            # No receipts with six parties, and no request was refused for it.
            await sam.send("Any news?")
            await wait_in_log(agent1, "Any news?")
            assert await log(agent1).locator(".receipt").count() == 0
    finally:
        for other in others:
            await other.close()


async def test_receipts_in_a_two_party_chat(browse: Browse, parley: Server) -> None:
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    async with await customer(parley.url, "Rita Read") as rita:
        offer = agent1.get_by_role("region", name="Incoming chat")
        await offer.get_by_role("button", name="Accept").click()
        await agent1.get_by_role("heading", name="Rita Read").wait_for(timeout=WAIT_MS)
        await agent1.get_by_label("Message").fill("Hello Rita")
        await agent1.get_by_label("Message").press("Enter")
        sent = await rita.wait_for(lambda i: i.get("Content") == "Hello Rita")
        await rita.read(sent["Id"])
        await log(agent1).locator(".receipt", has_text="Read").wait_for(timeout=WAIT_MS)

"""Handing a chat over from the workspace: an invitation rejected by the invited agent, a pending invitation
cancelled by the inviter, a transfer with the picker in transfer mode (the customer ends up with the other agent,
the first one in after-contact work), and an invitation that expires (a server whose offers last 5 s)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from parley.client import customer
from tests.conftest import Server
from tests.pages.browser.axe import assert_no_axe, axe_check

from .conftest import Browse
from .support import WAIT_MS, accept_offer, log, pick, sign_in, until, wait_in_log, wait_roster

pytestmark = pytest.mark.e2e
JANE = "Jane Handover"


def is_text(text: str) -> Any:
    return lambda item: item.get("Type") == "MESSAGE" and item.get("Content") == text


async def test_reject_cancel_and_transfer(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    agent2 = await browse.page("agent2")
    await sign_in(agent1, parley.url, "agent1")
    await sign_in(agent2, parley.url, "agent2", available=False)
    async with await customer(parley.url, JANE) as jane:
        await accept_offer(agent1, JANE)
        await jane.send("Can someone from billing help?")
        await wait_in_log(agent1, "Can someone from billing help?")

        connected_at = await own_connection_time(agent1)
        await agent1.wait_for_timeout(2100)  # so that a timer started again would show less than 0:02

        # agent2 (Available) rejects the invitation: agent1 sees it over, agent2 stays Available with no chat.
        await agent2.get_by_label("Status").select_option("Available")
        await pick(agent1, "Add participant", "Transfer-to-agent-2")
        await wait_roster(agent1, "Agent2\nAgent · Invited, connecting")
        invitation = agent2.get_by_role("region", name="Invitation to join a chat")
        await invitation.get_by_text("Invited by Agent1").wait_for(timeout=WAIT_MS)
        await invitation.get_by_role("button", name="Reject").click()
        await invitation.wait_for(state="detached", timeout=WAIT_MS)
        await wait_roster(agent1, "Agent2\nAgent · Left")
        assert await agent2.get_by_label("Status").input_value() == "Available"
        await agent2.get_by_text("0 of 3 chats").wait_for(timeout=WAIT_MS)
        assert await agent2.get_by_role("heading", name=JANE).count() == 0

        # agent3 (signed out, so the invitation stays pending): agent1 cancels it from the roster.
        await pick(agent1, "Add participant", "Transfer-to-agent-3")
        await wait_roster(agent1, "Agent3\nAgent · Invited, connecting")
        assert_no_axe(await axe_check(agent1, "a pending invitation"))
        await agent1.screenshot(path=str(shots / "workspace-pending-invitation.png"))
        await agent1.get_by_role("button", name="Cancel invitation for Agent3").click()
        await wait_roster(agent1, "Agent3\nAgent · Left")
        assert await agent1.get_by_role("button", name="Cancel invitation for Agent3").count() == 0
        # Invitations did not restart agent1's "Connected" timer (its connection's state timestamp).
        assert await own_connection_time(agent1) == connected_at
        timer = await agent1.get_by_text(re.compile(r"^Connected \d+:\d\d$")).inner_text()
        assert timer >= "Connected 0:02", timer

        # Transfer to agent2 with the picker in transfer mode: agent2 gets a transferred chat with its history.
        await agent1.keyboard.press("Alt+KeyT")
        picker = agent1.get_by_role("dialog", name="Transfer")
        await picker.get_by_text(f"Hand over the chat with {JANE}").wait_for()
        await picker.get_by_label("Search quick connects").fill("agent-2")
        await picker.get_by_role("button", name="Transfer-to-agent-2").click()
        await picker.wait_for(state="hidden")
        offer = agent2.get_by_role("region", name="Transferred chat")
        await offer.get_by_text(JANE).wait_for(timeout=WAIT_MS)
        assert await offer.get_by_text("Invited by").count() == 0

        # agent1 is out of the chat at once, in after-contact work, the chat still readable.
        await agent1.get_by_role("button", name="Close contact").wait_for(timeout=WAIT_MS)
        await agent1.get_by_text("This chat has ended for you.").wait_for()
        assert await agent1.get_by_label("Message").count() == 0
        assert await log(agent1).get_by_text("Can someone from billing help?", exact=True).count() == 1

        await accept_offer(agent2, JANE, "Transferred chat")
        await wait_in_log(agent2, "Can someone from billing help?")  # the transcript before the transfer
        await agent2.get_by_label("Message").fill("Agent2 from billing here")
        await agent2.get_by_label("Message").press("Enter")
        await jane.wait_for(is_text("Agent2 from billing here"))
        await jane.send("Thank you")
        await wait_in_log(agent2, "Thank you")
        await wait_roster(agent2, "Agent2 (you)\nAgent · Connected")
        roster = await agent2.locator(".roster").inner_text()
        assert "Agent1" not in roster.replace("Agent1\nAgent · Left", ""), roster
        await agent2.get_by_text("1 of 3 chats").wait_for()

        # agent1 never sees what was said after it left, and closes the contact.
        assert await log(agent1).get_by_text("Thank you", exact=True).count() == 0
        await agent1.get_by_role("button", name="Close contact").click()
        await agent1.get_by_role("button", name=JANE).wait_for(state="detached", timeout=WAIT_MS)
        await agent1.get_by_text("0 of 3 chats").wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize("parley", [["--offer-timeout", "5"]], indirect=True)
async def test_invitation_expires(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    agent2 = await browse.page("agent2")
    await sign_in(agent1, parley.url, "agent1")
    await sign_in(agent2, parley.url, "agent2")
    async with await customer(parley.url, JANE) as jane:
        await accept_offer(agent1, JANE)
        await jane.send("Hello?")
        await wait_in_log(agent1, "Hello?")
        connected_at = await own_connection_time(agent1)
        await pick(agent1, "Add participant", "Transfer-to-agent-2")
        invitation = agent2.get_by_role("region", name="Invitation to join a chat")
        countdown = invitation.get_by_text("Expires in 0:0")
        await countdown.wait_for(timeout=WAIT_MS)
        assert int((await countdown.inner_text())[-1]) <= 5
        await agent2.screenshot(path=str(shots / "workspace-invitation.png"))
        # Nobody answers: the offer goes away, agent2 is set to "Missed chat", agent1 sees the invitation over.
        await invitation.wait_for(state="detached", timeout=WAIT_MS)
        status = agent2.get_by_label("Status")
        await until(lambda: missed(agent2), "agent2's status to be Missed chat")
        await agent2.get_by_text("Missed a chat · set Available to get chats").wait_for(timeout=WAIT_MS)
        assert_no_axe(await axe_check(agent2, "a missed invitation"))
        await wait_roster(agent1, "Agent2\nAgent · Left")
        await agent1.get_by_text("1 of 3 chats").wait_for()
        # agent2 goes Available again and can be invited once more.
        await status.select_option("Available")
        await agent2.get_by_text("Missed a chat").wait_for(state="detached", timeout=WAIT_MS)
        await pick(agent1, "Add participant", "Transfer-to-agent-2")
        await accept_offer(agent2, JANE, "Invitation to join a chat")
        await wait_in_log(agent2, "Hello?")
        await wait_roster(agent1, "Agent2\nAgent · Connected")
        assert await own_connection_time(agent1) == connected_at  # agent2 joining did not restart it either


async def own_connection_time(page: Any) -> float:
    """When agent's own connection to the (only) chat entered its state, as StreamsJS reports it (ms)."""
    return float(await page.evaluate(
        "() => new connect.Agent().getContacts()[0].getAgentConnection().getState().timestamp.getTime()"))


async def missed(page: Any) -> bool:
    """The Status selector shows "Missed chat" (StreamsJS's MissedCallAgent state)."""
    text = await page.get_by_label("Status").evaluate("(s) => s.selectedOptions[0].text")
    return bool(text == "Missed chat")

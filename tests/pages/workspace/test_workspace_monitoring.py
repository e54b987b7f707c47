"""The acceptance of enhanced chat monitoring, tried as a new user would (issue 22, docs/monitoring.md): a customer
chats with agent1 in the workspace, agent2 is invited; ``supervisor`` opens the console's live view, clicks
"Monitor" on the chat and lands in the workspace watching it silently (the transcript so far and every new message;
the customer sees no change), barges in (the customer sees the supervisor join, agent1's roster shows "Supervisor
(barged in)"), writes to the customer, removes agent2 and leaves, then closes the contact; the chat goes on between
the customer and agent1, a message each way. Every page passes axe-core and is photographed to
docs/screenshots/supervisor-*.png at desktop and phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.client import customer
from tests.agents.cti import Agent
from tests.aws.chat_helpers import participant_client
from tests.conftest import Server
from tests.pages.browser.axe import assert_no_axe, axe_check
from tests.pages.browser.support import DESKTOP, PHONE

from .conftest import Browse
from .support import PASSWORD, WAIT_MS, accept_offer, log, pick, sign_in, wait_in_log, wait_roster

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
JOINED = "application/vnd.amazonaws.connect.event.participant.joined"
SILENT = "You are monitoring this chat silently — the customer and agents don't see you."
BARGED = "You barged in — the customer and agents see you and your messages."


async def photograph(page: Any, label: str, name: str) -> None:
    """axe-core (0 serious or critical) and a screenshot at desktop and phone width."""
    assert_no_axe(await axe_check(page, label))
    await page.screenshot(path=str(DOCS / f"supervisor-{name}.png"))
    await page.set_viewport_size(PHONE)
    await page.wait_for_timeout(200)
    assert_no_axe(await axe_check(page, f"{label} (phone)"))
    await page.screenshot(path=str(DOCS / f"supervisor-{name}-phone.png"))
    await page.set_viewport_size(DESKTOP)
    await page.wait_for_timeout(200)


def supervisor_joined(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i.get("ContentType") == JOINED and i.get("ParticipantRole") == "SUPERVISOR"]


async def test_supervisor_monitors_barges_in_removes_and_leaves(browse: Browse, parley: Server) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    agent2 = await Agent.sign_in(parley.url, "agent2", participant_client(parley.url))
    try:
        async with await customer(parley.url, "Casey Cole") as casey:
            await accept_offer(agent1, "Casey Cole")
            await casey.send("My order never arrived")
            await wait_in_log(agent1, "My order never arrived")
            await agent2.available()
            await pick(agent1, "Add participant", "Transfer-to-agent-2")
            offer = await agent2.wait_offer(casey.contact_id)
            await agent2.accept(offer["contactId"])
            await wait_in_log(agent1, "Agent2 joined")

            # The supervisor: the live view's "Monitor" on Casey's chat opens the workspace, monitoring silently.
            sup = await browse.page("supervisor")
            await sup.goto(f"{parley.url}/admin/live")
            await sup.get_by_label("Username").fill("supervisor")
            await sup.get_by_label("Password").fill(PASSWORD)
            await sup.get_by_role("button", name="Sign in").click()
            monitor = sup.get_by_role("button", name="Monitor the chat with Casey Cole")
            await monitor.wait_for(timeout=WAIT_MS)
            await photograph(sup, "live view with Monitor", "live")
            await monitor.click()
            await sup.wait_for_url(f"{parley.url}/agent", timeout=WAIT_MS)
            chats = sup.get_by_role("navigation", name="Chats")
            await chats.get_by_text("Monitoring", exact=True).wait_for(timeout=WAIT_MS)
            await sup.get_by_role("status").filter(has_text=SILENT).wait_for(timeout=WAIT_MS)
            await wait_in_log(sup, "My order never arrived")  # the transcript from the start
            assert await sup.get_by_label("Message").is_disabled()
            assert await sup.get_by_role("button", name="Send").is_disabled()
            assert await sup.get_by_role("button", name="Remove Agent2").count() == 0
            await casey.send("Hello? Anyone?")
            await wait_in_log(sup, "Hello? Anyone?")  # every new item, live
            await photograph(sup, "workspace monitoring silently", "silent")
            # The customer saw no change: no "joined", no other item from the supervisor.
            assert not supervisor_joined(casey.received)
            assert all(i.get("ParticipantRole") != "SUPERVISOR" for i in await casey.transcript())

            # Barge in: the customer and agent1 see the supervisor join; the composer works.
            await sup.get_by_role("button", name="Barge in").click()
            await sup.get_by_role("status").filter(has_text=BARGED).wait_for(timeout=WAIT_MS)
            joined = await casey.wait_for(lambda i: i.get("ContentType") == JOINED
                                          and i.get("ParticipantRole") == "SUPERVISOR")
            assert joined["DisplayName"] == "Supervisor"
            await wait_roster(agent1, "Supervisor (barged in)")
            await chats.get_by_text("Barged in", exact=True).wait_for(timeout=WAIT_MS)
            await sup.get_by_label("Message").fill("I'm the supervisor; I'll sort this out.")
            await sup.get_by_role("button", name="Send").click()
            said = await casey.wait_for(lambda i: i.get("Content") == "I'm the supervisor; I'll sort this out.")
            assert said["DisplayName"] == "Supervisor" and said["ParticipantRole"] == "SUPERVISOR"
            await wait_in_log(agent1, "I'm the supervisor; I'll sort this out.")
            await photograph(sup, "workspace after barging in", "barged")

            # The barged supervisor removes agent2, as invited agents can, then leaves and closes the contact.
            await sup.get_by_role("button", name="Remove Agent2").click()
            await wait_in_log(agent1, "Agent2 left")
            await agent2.wait_state(offer["contactId"], "ended")  # agent2 is in after-contact work
            await sup.get_by_role("button", name="Leave chat").click()
            await wait_in_log(agent1, "Supervisor left")
            await sup.get_by_role("button", name="Close contact").click()
            await chats.get_by_text("No chats", exact=False).wait_for(timeout=WAIT_MS)

            # The chat goes on between Casey and agent1.
            await casey.send("Thanks, is it coming today?")
            await wait_in_log(agent1, "Thanks, is it coming today?")
            await agent1.get_by_label("Message").fill("Yes, this afternoon.")
            await agent1.get_by_label("Message").press("Enter")
            await casey.wait_for(lambda i: i.get("Content") == "Yes, this afternoon.")
            assert not casey.ended
            assert await log(agent1).get_by_text("Chat ended").count() == 0
    finally:
        await agent2.close()

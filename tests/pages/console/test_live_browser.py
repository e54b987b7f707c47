"""The live view (/admin/live) and the audit trail (/admin/audit) in Debian's chromium: the live view follows a chat
without reloading as a customer arrives, an agent accepts, a second agent joins through a quick connect and leaves;
its figures agree with GetCurrentMetricData at the same moment; both pages pass axe-core (0 serious or critical) at
desktop and phone width with no console error, and are photographed to docs/screenshots/console-{live,audit}-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.client import customer
from tests.conftest import Server
from tests.pages.browser.axe import AxeFinding, assert_no_axe, axe_check
from tests.pages.browser.support import DESKTOP, PHONE, WAIT_MS, agents
from tests.pages.browser.watch import Watch

from .support import PASSWORD, demo_instance

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
METRICS = ("CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CONTACT", "AGENTS_AFTER_CONTACT_WORK",
           "AGENTS_STAFFED", "SLOTS_ACTIVE", "SLOTS_AVAILABLE")


async def open_live(browser: Any, watch: Watch, parley: Server, viewport: dict[str, int]) -> Any:
    context = await browser.new_context(viewport=viewport)
    await watch.attach(context, "admin")
    page = await context.new_page()
    await page.goto(parley.url + "/admin/live")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{parley.url}/admin/live", timeout=WAIT_MS)
    await page.get_by_role("heading", name="Live view", level=1).wait_for(timeout=WAIT_MS)
    return page


def chat_row(page: Any, customer_name: str) -> Any:
    table = page.get_by_role("table", name="Active chats and their parties")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=customer_name))


def cell(row: Any, field: str) -> Any:
    return row.locator(f"[data-{field}]")


async def shows(locator: Any, text: str) -> None:
    """Wait until ``locator``'s text is ``text`` (the panels are swapped in every second)."""
    await locator.filter(has_text=text).wait_for(timeout=WAIT_MS)
    assert (await locator.inner_text()).strip() == text


async def tiles(page: Any) -> dict[str, str]:
    return dict(await page.eval_on_selector_all(
        "[data-metric]", "els => els.map(e => [e.dataset.metric, e.textContent.trim()])"))


def api_figures(connect: Any, iid: str) -> dict[str, float]:
    queues = [q["Id"] for q in connect.list_queues(InstanceId=iid, QueueTypes=["STANDARD"])["QueueSummaryList"]]
    answer = connect.get_current_metric_data(
        InstanceId=iid, Filters={"Queues": queues, "Channels": ["CHAT"]},
        CurrentMetrics=[{"Name": n, "Unit": "COUNT"} for n in METRICS] +
                       [{"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"}])
    return {c["Metric"]["Name"]: c["Value"] for c in answer["MetricResults"][0]["Collections"]}


async def agree(page: Any, connect: Any, iid: str) -> None:
    """At one moment (the next poll's panels, then the API at once), the tiles show what the API answers."""
    async with page.expect_response(lambda r: r.url.endswith("/admin/live/panels")) as polled:
        pass
    await (await polled.value).finished()
    await page.wait_for_timeout(50)  # the swap follows the response
    shown, api = await tiles(page), api_figures(connect, iid)
    assert {m: int(shown[m]) for m in METRICS} == {m: int(api[m]) for m in METRICS}, (shown, api)
    waited = shown["OLDEST_CONTACT_AGE"]
    seconds = int(waited.split()[0]) * (60 if "min" in waited else 1) + (int(waited.split()[2]) if "min" in waited
                                                                          else 0)
    assert abs(seconds - api["OLDEST_CONTACT_AGE"] / 1000) <= 2, (waited, api["OLDEST_CONTACT_AGE"])


async def test_the_live_view_follows_a_chat_as_agents_join_and_leave(
        browser: Any, watch: Watch, parley: Server) -> None:
    connect = parley.connect()
    iid = demo_instance(connect)
    page = await open_live(browser, watch, parley, DESKTOP)
    await page.evaluate("window.__sameDocument = true")  # gone if the page reloads or navigates
    chats = page.get_by_role("table", name="Active chats and their parties")
    await page.get_by_text("No chat is active.").wait_for(timeout=WAIT_MS)
    basic = page.get_by_role("table", name="Queues right now").get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="BasicQueue"))

    async with agents(parley.url, "agent1", "agent2") as signed:
        agent1, agent2 = signed["agent1"], signed["agent2"]
        jane = await customer(parley.url, "Jane")
        # Jane waits in BasicQueue: the chat appears, the queue counts her.
        row = chat_row(page, "Jane")
        await shows(cell(row, "status"), "Waiting in BasicQueue")
        await shows(basic.get_by_role("cell").nth(0), "1")
        await page.wait_for_timeout(2100)
        await agree(page, connect, iid)
        assert await row.locator(".monitor-slot").count() == 1  # where supervisor monitoring will put its action

        # agent1 becomes Available: offered, then accepts.
        await agent1.go_available()
        offer = await agent1.wait_for_offer(10)
        await shows(cell(row, "status"), "Offered to Agent1")
        agent_row = page.get_by_role("table", name="Agents online or with contacts").get_by_role("row").filter(
            has=page.get_by_role("rowheader", name="Agent1 agent1"))
        await shows(cell(agent_row, "activity"), "Incoming")
        chat1 = await agent1.accept(offer)
        await shows(cell(row, "status"), "With an agent")
        await shows(cell(row, "primary"), "Agent1")
        await shows(cell(agent_row, "activity"), "On contact")
        await shows(cell(agent_row, "slots"), "1 of 3")
        await shows(basic.get_by_role("cell").nth(0), "0")

        # agent1 invites agent2: a pending invitation, then a second agent in the chat.
        await agent2.go_available()
        await agent1.invite(offer, "Transfer-to-agent-2")
        invitation = await agent2.wait_for_offer(10)
        await shows(cell(row, "pending"), "Agent2 (offered to Agent2)")
        await agent2.accept(invitation)
        await shows(cell(row, "invited"), "Agent2")
        await shows(cell(row, "pending"), "—")
        await agree(page, connect, iid)
        assert_no_axe(await axe_check(page, "live view, three parties"))
        await page.screenshot(path=str(SHOTS / "console-live-desktop.png"), full_page=True)

        # agent2 leaves: out of the chat, in after-contact work.
        await agent2.leave(invitation)
        await shows(cell(row, "invited"), "—")
        agent2_row = page.get_by_role("table", name="Agents online or with contacts").get_by_role("row").filter(
            has=page.get_by_role("rowheader", name="Agent2 agent2"))
        await shows(cell(agent2_row, "activity"), "After contact work")
        await shows(cell(row, "primary"), "Agent1")
        await agree(page, connect, iid)

        phone = await open_live(browser, watch, parley, PHONE)
        await chat_row(phone, "Jane").wait_for(timeout=WAIT_MS)
        assert_no_axe(await axe_check(phone, "live view on a phone"))
        await phone.screenshot(path=str(SHOTS / "console-live-phone.png"), full_page=True)

        # Jane leaves: the chat is over.
        await jane.disconnect()
        await chat_row(page, "Jane").wait_for(state="detached", timeout=WAIT_MS)
        await page.get_by_text("No chat is active.").wait_for(timeout=WAIT_MS)
        await chat1.close()
        await jane.close()
        for agent in (agent1, agent2):
            await agent.go_offline()
    assert await chats.count() == 0
    assert await page.evaluate("window.__sameDocument === true"), "the live view reloaded"


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_the_audit_trail_passes_axe(browser: Any, watch: Watch, parley: Server, width: str) -> None:
    connect = parley.connect()
    iid = demo_instance(connect)
    connect.associate_approved_origin(InstanceId=iid, Origin=f"https://audit-{width}.example")
    page = await open_live(browser, watch, parley, DESKTOP if width == "desktop" else PHONE)
    findings: list[AxeFinding] = []
    await page.get_by_role("navigation", name="Admin console").get_by_role("link", name="Audit trail").click()
    await page.get_by_role("heading", name="Audit trail", level=1).wait_for(timeout=WAIT_MS)
    await page.get_by_role("cell", name=f"Approved origins: https://audit-{width}.example").wait_for(timeout=WAIT_MS)
    findings += await axe_check(page, f"audit {width}")
    await page.screenshot(path=str(SHOTS / f"console-audit-{width}.png"), full_page=True)
    await page.get_by_label("Resource type").select_option(label="Users")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/admin/audit?type=user", timeout=WAIT_MS)
    assert await page.get_by_role("cell", name="CreateUser").count() >= 7  # the demo's users, by Parley
    assert await page.get_by_role("cell", name="AssociateApprovedOrigin").count() == 0
    findings += await axe_check(page, f"audit users {width}")
    assert_no_axe(findings)

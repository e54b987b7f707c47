"""The admin console in Debian's chromium, driven by accessible names: the seed document's whole set-up done by
``admin`` in the browser and then checked through boto3, an agent refused with the 403 page, a refusal shown inline
with the Connect API's own message, the copy buttons, and every page at desktop and phone width with 0 serious or
critical axe-core violations, no console error, and a screenshot in docs/screenshots/console-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.pages.browser.axe import AxeFinding, assert_no_axe, axe_check
from tests.pages.browser.support import DESKTOP, PHONE, WAIT_MS
from tests.pages.browser.watch import Watch

from .support import PASSWORD, demo_instance

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
ORIGIN = "http://localhost:8080"


async def open_console(browser: Any, watch: Watch, parley: Server, username: str,
                       viewport: dict[str, int] | None = None) -> Any:
    """A page signed in as ``username`` through /admin's redirect to the sign-in page."""
    context = await browser.new_context(viewport=viewport or DESKTOP)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=parley.url)
    await watch.attach(context, username)
    page = await context.new_page()
    await page.goto(parley.url + "/admin")
    assert "/connect/login" in page.url and "landat=/admin" in page.url
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{parley.url}/admin", timeout=WAIT_MS)
    return page


async def nav(page: Any, label: str) -> None:
    await page.get_by_role("navigation", name="Admin console").get_by_role("link", name=label, exact=True).click()
    await page.get_by_role("heading", level=1).wait_for(timeout=WAIT_MS)


async def test_the_seed_set_up_in_the_console_then_checked_through_boto3(
        browser: Any, watch: Watch, parley: Server) -> None:
    connect = parley.connect()
    iid = demo_instance(connect)
    # Start from what the seed document starts from: the switch off, the page's origin not approved.
    for name in ("MULTI_PARTY_CHAT_CONFERENCE", "ENHANCED_CHAT_MONITORING"):
        connect.update_instance_attribute(InstanceId=iid, AttributeType=name, Value="false")
    connect.disassociate_approved_origin(InstanceId=iid, Origin=ORIGIN)
    page = await open_console(browser, watch, parley, "admin")

    # 1. Enable Multi-Party Chats and Enhanced Monitoring for Chat.
    await nav(page, "Telephony and chat")
    box = page.get_by_role("checkbox", name="Enable Multi-Party Chats and Enhanced Monitoring for Chat")
    assert not await box.is_checked()
    await box.check()
    await page.get_by_role("button", name="Save changes").click()
    await page.get_by_role("status").get_by_text("Saved.").wait_for(timeout=WAIT_MS)
    assert await box.is_checked()

    # 2.2 A new agent with the Agent security profile and the Basic routing profile.
    await nav(page, "User management")
    await page.get_by_role("link", name="Add new user").click()
    await page.get_by_label("Username").fill("agent6")
    await page.get_by_label("Password", exact=True).fill("Agent6-pass")
    await page.get_by_label("First name").fill("Agent6")
    await page.get_by_label("Routing profile").select_option(label="Basic Routing Profile")
    assert await page.get_by_role("checkbox", name="Agent", exact=True).is_checked()
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("heading", name="User agent6").wait_for(timeout=WAIT_MS)

    # 2.1 A USER quick connect to agent6 with "Default agent transfer" (preselected).
    await nav(page, "Quick connects")
    await page.get_by_role("link", name="Add quick connect").click()
    await page.get_by_label("Name", exact=True).fill("transfer-to-agent-6")
    assert await page.get_by_role("radio", name="User").is_checked()
    await page.get_by_role("combobox", name="User", exact=True).select_option(label="agent6")
    chosen = await page.get_by_label("Contact flow").evaluate("s => s.selectedOptions[0].text")
    assert chosen == "Default agent transfer"
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("heading", name="Quick connect transfer-to-agent-6").wait_for(timeout=WAIT_MS)
    qc_id = (await page.locator("#qc-id").inner_text()).strip()
    qc_arn = (await page.locator("#qc-arn").inner_text()).strip()
    # 4. The id and ARN, copied with their buttons.
    await page.get_by_role("button", name="Copy quick connect ARN").click()
    await page.get_by_text("Copied quick connect ARN.").wait_for(state="attached", timeout=WAIT_MS)
    assert await page.evaluate("navigator.clipboard.readText()") == qc_arn
    await page.get_by_role("button", name="Copy quick connect ID").click()
    await page.get_by_text("Copied quick connect ID.").wait_for(state="attached", timeout=WAIT_MS)
    assert await page.evaluate("navigator.clipboard.readText()") == qc_id
    # Connect's own console paths from the seed show the same page.
    await page.goto(f"{parley.url}/transfer-dests/edit?id={qc_id}")
    assert (await page.locator("#qc-arn").inner_text()).strip() == qc_arn
    await page.goto(f"{parley.url}/quick-connect-management/quick-connects/{qc_id}")
    assert (await page.locator("#qc-id").inner_text()).strip() == qc_id

    # 2.3 Added to BasicQueue.
    await nav(page, "Queues")
    await page.get_by_role("link", name="BasicQueue").click()
    await page.get_by_label("Quick connect to add").select_option(label="transfer-to-agent-6 (User)")
    await page.get_by_role("button", name="Add quick connect").click()
    await page.get_by_role("button", name="Remove transfer-to-agent-6 from BasicQueue").wait_for(timeout=WAIT_MS)

    # Application integration: a refusal inline with the API's own message, then the seed's origin.
    await nav(page, "Application integration")
    watch.expect_error("400", "/admin/origins/add", "a refused form is shown again with the status 400")
    await page.get_by_role("textbox", name="Origin", exact=True).fill("https://*")
    await page.get_by_role("button", name="Add origin").click()
    alert = page.get_by_role("alert")
    await alert.wait_for(timeout=WAIT_MS)
    with pytest.raises(connect.exceptions.InvalidParameterException) as api:
        connect.associate_approved_origin(InstanceId=iid, Origin="https://*")
    assert (await alert.inner_text()).strip() == api.value.response["Error"]["Message"]
    assert await page.get_by_role("textbox", name="Origin", exact=True).input_value() == "https://*"
    await page.get_by_role("textbox", name="Origin", exact=True).fill(ORIGIN)
    await page.get_by_role("button", name="Add origin").click()
    await page.get_by_role("button", name=f"Remove {ORIGIN}").wait_for(timeout=WAIT_MS)

    # Checked through boto3: what the console did is what the Connect API describes.
    described = connect.describe_quick_connect(InstanceId=iid, QuickConnectId=qc_id)["QuickConnect"]
    flows = {f["Id"]: f["Name"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]}
    users = {u["Username"]: u["Id"] for u in connect.list_users(InstanceId=iid)["UserSummaryList"]}
    assert described["Name"] == "transfer-to-agent-6" and described["QuickConnectARN"] == qc_arn
    config = described["QuickConnectConfig"]
    assert config["QuickConnectType"] == "USER" and config["UserConfig"]["UserId"] == users["agent6"]
    assert flows[config["UserConfig"]["ContactFlowId"]] == "Default agent transfer"
    queue_id = next(q["Id"] for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
                    if q.get("Name") == "BasicQueue")
    assert qc_id in [q["Id"] for q in connect.list_queue_quick_connects(InstanceId=iid, QueueId=queue_id)[
        "QuickConnectSummaryList"]]
    assert ORIGIN in connect.list_approved_origins(InstanceId=iid)["Origins"]
    user = connect.describe_user(InstanceId=iid, UserId=users["agent6"])["User"]
    profiles = {p["Id"]: p["Name"] for p in connect.list_security_profiles(InstanceId=iid)[
        "SecurityProfileSummaryList"]}
    routing = {p["Id"]: p["Name"] for p in connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"]}
    assert [profiles[p] for p in user["SecurityProfileIds"]] == ["Agent"]
    assert routing[user["RoutingProfileId"]] == "Basic Routing Profile"
    for name in ("MULTI_PARTY_CHAT_CONFERENCE", "ENHANCED_CHAT_MONITORING"):
        assert connect.describe_instance_attribute(InstanceId=iid, AttributeType=name)["Attribute"]["Value"] == "true"


async def test_an_agent_is_refused_with_the_403_page(browser: Any, watch: Watch, parley: Server) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    await watch.attach(context, "agent1")
    page = await context.new_page()
    watch.expect_error("403", "/admin", "the console answers an agent's request with its 403 page")
    await page.goto(parley.url + "/admin")
    await page.get_by_label("Username").fill("agent1")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Not allowed").wait_for(timeout=WAIT_MS)
    message = await page.get_by_role("alert").inner_text()
    assert "agent1 may not view the instance's settings" in message and "TelephonyAndChat.View" in message
    assert_no_axe(await axe_check(page, "403"))
    await page.screenshot(path=str(SHOTS / "console-refused-desktop.png"), full_page=True)


def pages_of(connect: Any, iid: str) -> list[tuple[str, str]]:
    """Every console page (name, path), with resources the demo has."""
    qc = connect.list_quick_connects(InstanceId=iid)["QuickConnectSummaryList"][0]["Id"]
    queue = next(q["Id"] for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
                 if q.get("Name") == "BasicQueue")
    user = next(u["Id"] for u in connect.list_users(InstanceId=iid)["UserSummaryList"] if u["Username"] == "agent1")
    sp = next(p["Id"] for p in connect.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]
              if p["Name"] == "Agent")
    rp = connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"][0]["Id"]
    flow = connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"][0]["Id"]
    return [
        ("overview", "/admin"), ("settings", "/admin/settings"), ("origins", "/admin/origins"),
        ("users", "/admin/users"), ("user-new", "/admin/users/new"), ("user", f"/admin/users/{user}"),
        ("security-profiles", "/admin/security-profiles"), ("security-profile-new", "/admin/security-profiles/new"),
        ("security-profile", f"/admin/security-profiles/{sp}"), ("routing-profiles", "/admin/routing-profiles"),
        ("routing-profile-new", "/admin/routing-profiles/new"), ("routing-profile", f"/admin/routing-profiles/{rp}"),
        ("queues", "/admin/queues"), ("queue", f"/admin/queues/{queue}"),
        ("quick-connects", "/admin/quick-connects"), ("quick-connect-new", "/admin/quick-connects/new"),
        ("quick-connect", f"/transfer-dests/edit?id={qc}"), ("flows", "/admin/flows"), ("flow", f"/admin/flows/{flow}"),
        ("widgets", "/admin/widgets"), ("widget-new", "/admin/widgets/new"),
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_every_page_passes_axe_at_both_widths(browser: Any, watch: Watch, parley: Server, width: str) -> None:
    connect = parley.connect()
    iid = demo_instance(connect)
    page = await open_console(browser, watch, parley, "admin", DESKTOP if width == "desktop" else PHONE)
    findings: list[AxeFinding] = []
    shown = pages_of(connect, iid)
    widget = await _first_widget(page, parley)
    shown.append(("widget", widget))
    for name, path in shown:
        answer = await page.goto(parley.url + path)
        assert answer is not None and answer.status == 200, f"{path} answered {answer and answer.status}"
        await page.get_by_role("heading", level=1).wait_for(timeout=WAIT_MS)
        findings += await axe_check(page, f"{width} {path}")
        await page.screenshot(path=str(SHOTS / f"console-{name}-{width}.png"), full_page=True)
    # A refusal shown inline (the services' message), and the search narrowing the list as one types (htmx).
    await page.goto(parley.url + "/admin/origins")
    watch.expect_error("400", "/admin/origins/add", "a refused form is shown again with the status 400")
    await page.get_by_role("textbox", name="Origin", exact=True).fill("https://*")
    await page.get_by_role("button", name="Add origin").click()
    await page.get_by_role("alert").wait_for(timeout=WAIT_MS)
    findings += await axe_check(page, f"{width} origins refused")
    await page.screenshot(path=str(SHOTS / f"console-origins-refused-{width}.png"), full_page=True)
    await page.goto(parley.url + "/admin/quick-connects")
    await page.get_by_role("searchbox", name="Search quick connects by name").press_sequentially("agent-2")
    await page.get_by_role("link", name="Transfer-to-agent-1").wait_for(state="detached", timeout=WAIT_MS)
    assert await page.get_by_role("link", name="Transfer-to-agent-2").is_visible()
    assert_no_axe(findings)


async def _first_widget(page: Any, parley: Server) -> str:
    await page.goto(parley.url + "/admin/widgets")
    href = await page.get_by_role("link", name="Demo widget").get_attribute("href")
    assert href
    return str(href)

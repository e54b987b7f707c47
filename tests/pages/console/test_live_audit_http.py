"""The live view and the audit trail over HTTP against a real demo server: who may see them, the live view's poll
once signed out, and the trail recording what the console, boto3 and Parley itself changed (and nothing that was
refused), newest first, filtered by resource type and paged, everything typed shown as text."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Server

from .support import demo_instance, post_form, sign_in, text_of


@pytest.fixture(scope="module")
def admin(parley: Server) -> httpx.Client:
    return sign_in(parley.url, "admin")


@pytest.fixture(scope="module")
def connect(parley: Server) -> Any:
    return parley.connect()


def rows(page: httpx.Response) -> list[str]:
    """The trail's rows as a person reads them, newest first."""
    return [text_of(httpx.Response(200, text=row)) for row in re.findall(r"<tr data-action=.*?</tr>", page.text, re.S)]


def test_the_live_view_needs_real_time_metrics_access(parley: Server) -> None:
    agent = sign_in(parley.url, "agent1", "/admin")
    refused = agent.get("/admin/live")
    assert refused.status_code == 403
    assert "agent1 may not view real-time metrics" in text_of(refused)
    assert "AccessMetrics.RealTimeMetrics.Access" in text_of(refused)
    assert agent.get("/admin/live/panels").status_code == 403
    supervisor = sign_in(parley.url, "supervisor", "/admin")  # CallCenterManager: real-time metrics, no admin
    live = supervisor.get("/admin/live")
    assert live.status_code == 200 and 'hx-get="/admin/live/panels" hx-trigger="every 1s"' in live.text
    assert supervisor.get("/admin/audit").status_code == 403


def test_a_poll_after_signing_out_sends_the_page_to_the_sign_in_page(parley: Server) -> None:
    with httpx.Client(base_url=parley.url) as anonymous:
        poll = anonymous.get("/admin/live/panels", headers={"HX-Request": "true"})
        assert poll.status_code == 204 and poll.headers["HX-Redirect"] == "/connect/login?landat=/admin/live"
        assert anonymous.get("/admin/live").headers["location"].startswith("/connect/login?landat=/admin/live")


def test_the_panels_alone_are_the_pages_panels(admin: httpx.Client) -> None:
    panels = admin.get("/admin/live/panels")
    assert panels.status_code == 200 and panels.headers["cache-control"] == "no-store"
    assert "<html" not in panels.text and 'id="totals-heading"' in panels.text
    assert "BasicQueue" in text_of(panels) and "No chat is active." in text_of(panels)


def test_the_trail_records_who_changed_what(parley: Server, admin: httpx.Client, connect: Any) -> None:
    iid = demo_instance(connect)
    setup = text_of(admin.get("/admin/audit", params={"type": "quick_connect"}))
    assert "Parley System CreateQuickConnect Quick connects: Transfer-to-agent-1 USER to user agent1, flow Default " \
        "agent transfer" in setup  # the demo's set-up, by Parley itself, destinations by name

    # In the console, as admin: an origin approved, then the same refused (nothing recorded for it).
    added = post_form(admin, "/admin/origins", "/admin/origins/add", {"origin": "https://audit.example"})
    assert added.status_code == 303
    again = post_form(admin, "/admin/origins", "/admin/origins/add", {"origin": "https://audit.example"})
    assert again.status_code == 409
    # Through boto3, with the demo's access key: a quick connect whose name is markup.
    flows = {f["Name"]: f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]}
    queue = next(q["Id"] for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
                 if q.get("Name") == "BasicQueue")
    config = {"QueueId": queue, "ContactFlowId": flows["Default queue transfer"]}
    qc = connect.create_quick_connect(InstanceId=iid, Name="<b>bold</b> & co", QuickConnectConfig={
        "QuickConnectType": "QUEUE", "QueueConfig": config})
    page = admin.get("/admin/audit")
    newest = rows(page)[:2]
    assert newest[0].startswith(f"{newest[0][:19]} test Access key CreateQuickConnect Quick connects: <b>bold</b> & co")
    assert newest[0].endswith("QUEUE to queue BasicQueue, flow Default queue transfer")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d admin User AssociateApprovedOrigin Approved origins: "
                        r"https://audit\.example —", newest[1]), newest[1]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page.text and "<b>bold</b>" not in page.text
    assert f'href="/admin/quick-connects/{qc["QuickConnectId"]}"' in page.text
    assert len([r for r in rows(page) if "https://audit.example" in r]) == 1

    only_origins = rows(admin.get("/admin/audit", params={"type": "approved_origin"}))
    assert only_origins and all("Approved origins:" in r for r in only_origins)
    unknown = admin.get("/admin/audit", params={"type": "spaceships"})
    assert unknown.status_code == 400 and "has no resource type 'spaceships'" in text_of(unknown)
    assert rows(unknown)  # the whole trail is still shown under the message


def test_the_trail_pages_newest_first(admin: httpx.Client, connect: Any) -> None:
    iid = demo_instance(connect)
    for n in range(30):  # 60 changes: more than a page
        connect.associate_approved_origin(InstanceId=iid, Origin=f"https://page{n}.example")
        connect.disassociate_approved_origin(InstanceId=iid, Origin=f"https://page{n}.example")
    first = admin.get("/admin/audit", params={"type": "approved_origin"})
    shown = rows(first)
    assert len(shown) == 50 and "DisassociateApprovedOrigin Approved origins: https://page29.example" in shown[0]
    older = re.search(r'href="(/admin/audit\?type=approved_origin&amp;after=[^"]+)"', first.text)
    assert older, first.text[-2000:]
    second = admin.get(older.group(1).replace("&amp;", "&"))
    more = rows(second)
    assert "DisassociateApprovedOrigin Approved origins: https://page4.example" in more[0]
    assert "Newest changes" in text_of(second)
    bad = admin.get("/admin/audit", params={"after": "not-a-token"})
    assert bad.status_code == 400 and "NextToken is not valid" in text_of(bad)


def test_every_kind_of_change_through_the_api_is_recorded_in_order(admin: httpx.Client, connect: Any) -> None:
    iid = demo_instance(connect)
    ids = {p["Name"]: p["Id"] for p in connect.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]}
    basic_queue = next(q["Id"] for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
                       if q.get("Name") == "BasicQueue")
    hours = connect.describe_queue(InstanceId=iid, QueueId=basic_queue)["Queue"]["HoursOfOperationId"]
    queue = connect.create_queue(InstanceId=iid, Name="Audit queue", HoursOfOperationId=hours)["QueueId"]
    basic = next(p["Id"] for p in connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"]
                 if p["Name"] == "Basic Routing Profile")
    profile = connect.create_routing_profile(
        InstanceId=iid, Name="Audit profile", Description="d", DefaultOutboundQueueId=queue,
        MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 2}])["RoutingProfileId"]
    connect.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=basic, QueueConfigs=[
        {"QueueReference": {"QueueId": queue, "Channel": "CHAT"}, "Priority": 2, "Delay": 5}])
    connect.create_security_profile(InstanceId=iid, SecurityProfileName="Audit sp", Permissions=["BasicAgentAccess"])
    user = connect.create_user(InstanceId=iid, Username="audited", Password="Audited-pass-1",
                               PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[ids["Agent"]],
                               RoutingProfileId=basic)["UserId"]
    connect.update_user_identity_info(InstanceId=iid, UserId=user, IdentityInfo={"FirstName": "Aud"})
    connect.update_user_routing_profile(InstanceId=iid, UserId=user, RoutingProfileId=profile)
    connect.update_user_security_profiles(InstanceId=iid, UserId=user,
                                          SecurityProfileIds=[ids["Agent"], ids["CallCenterManager"]])
    with pytest.raises(connect.exceptions.DuplicateResourceException):  # refused: nothing recorded
        connect.create_user(InstanceId=iid, Username="audited", Password="Audited-pass-1",
                            PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[ids["Agent"]],
                            RoutingProfileId=basic)
    connect.delete_user(InstanceId=iid, UserId=user)
    connect.update_instance_attribute(InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="true")

    trail = rows(admin.get("/admin/audit"))
    expected = [
        "UpdateInstanceAttribute Instance settings: demo MULTI_PARTY_CHAT_CONFERENCE = true",
        "DeleteUser Users: audited —",
        "UpdateUserSecurityProfiles Users: audited Security profiles Agent, CallCenterManager",
        "UpdateUserRoutingProfile Users: audited Routing profile Audit profile",
        "UpdateUserIdentityInfo Users: audited —",
        "CreateUser Users: audited —",
        "CreateSecurityProfile Security profiles: Audit sp —",
        "AssociateRoutingProfileQueues Routing profiles: Basic Routing Profile Queues added: Audit queue (CHAT, "
        "priority 2, delay 5)",
        "CreateRoutingProfile Routing profiles: Audit profile —",
        "CreateQueue Queues: Audit queue —",
    ]
    assert [r.split(" Access key ", 1)[1] for r in trail[:len(expected)]] == expected
    assert all(" test Access key " in r for r in trail[:len(expected)])
    users = admin.get("/admin/audit", params={"type": "user"})
    assert [r.split(" Access key ", 1)[1].split(" Users:")[0] for r in rows(users)[:5]] == [
        "DeleteUser", "UpdateUserSecurityProfiles", "UpdateUserRoutingProfile", "UpdateUserIdentityInfo",
        "CreateUser"]
    assert f'href="/admin/users/{user}"' in users.text  # earlier events link to the user; its deletion does not

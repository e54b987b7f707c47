"""The admin console over HTTP against a real demo server: sign-in and the 403 of an agent, CSRF refusals that
change nothing, the services' own refusals shown inline, and every change checked through boto3 (the Connect API
describes what the console did, since both call the same use cases)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Server

from .support import csrf_of, demo_instance, post_form, sign_in, text_of


@pytest.fixture(scope="module")
def admin(parley: Server) -> httpx.Client:
    return sign_in(parley.url, "admin")


@pytest.fixture(scope="module")
def connect(parley: Server) -> Any:
    return parley.connect()


@pytest.fixture(scope="module")
def instance_id(connect: Any) -> str:
    return demo_instance(connect)


def created_id(answer: httpx.Response, prefix: str) -> str:
    assert answer.status_code == 303, text_of(answer)[:1500]
    found = re.fullmatch(rf"{prefix}/([0-9a-f-]{{36}})\?done=created", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def test_signed_out_goes_to_the_sign_in_page_and_lands_back(parley: Server) -> None:
    with httpx.Client(base_url=parley.url) as anonymous:
        answer = anonymous.get("/admin")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/connect/login?landat=/admin&instance=demo"
        deep = anonymous.get("/admin/queues", params={"q": "Basic"})
        assert deep.headers["location"] == "/connect/login?landat=/admin/queues%3Fq%3DBasic&instance=demo"
        assert anonymous.post("/admin/origins/add", data={"origin": "https://a.example"}).status_code == 401
    admin = sign_in(parley.url, "admin")
    page = admin.get("/admin")
    assert page.status_code == 200
    assert "Instance demo" in text_of(page) and "Signed in as admin" in text_of(page)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


@pytest.mark.parametrize(("path", "permission"), [
    ("/admin", "TelephonyAndChat.View"), ("/admin/users", "Users.View"), ("/admin/queues", "Queues.View"),
    ("/admin/security-profiles", "SecurityProfiles.View"), ("/admin/settings", "TelephonyAndChat.View"),
])
def test_an_agent_gets_a_403_page_naming_the_missing_permission(parley: Server, path: str, permission: str) -> None:
    agent = sign_in(parley.url, "agent1")
    page = agent.get(path)
    assert page.status_code == 403
    assert f"none of the user's security profiles grants {permission}" in text_of(page)
    assert "agent1 may not" in text_of(page)


def test_an_agent_cannot_change_anything_either(parley: Server, connect: Any, instance_id: str) -> None:
    agent = sign_in(parley.url, "agent1")
    page = agent.get("/admin/quick-connects")  # agents may view quick connects (TransferDestinations.View)
    assert page.status_code == 200
    answer = agent.post("/admin/quick-connects/new", data={
        "csrf": agent.cookies["parley_csrf_pages"], "name": "agent-made", "type": "QUEUE", "queue": "x",
        "queue_flow": "y"})
    assert answer.status_code == 403
    assert "none of the user's security profiles grants TransferDestinations.Create" in text_of(answer)
    names = [q["Name"] for q in connect.list_quick_connects(InstanceId=instance_id)["QuickConnectSummaryList"]]
    assert "agent-made" not in names


def test_origins_add_remove_and_the_apis_own_refusal(admin: httpx.Client, connect: Any, instance_id: str) -> None:
    refused = post_form(admin, "/admin/origins", "/admin/origins/add", {"origin": "https://*"})
    assert refused.status_code == 400
    with pytest.raises(connect.exceptions.InvalidParameterException) as api:
        connect.associate_approved_origin(InstanceId=instance_id, Origin="https://*")
    assert api.value.response["Error"]["Message"] in text_of(refused)
    assert 'value="https://*"' in refused.text  # what was typed is shown again

    added = post_form(admin, "/admin/origins", "/admin/origins/add", {"origin": "https://crm.example.com"})
    assert added.status_code == 303 and added.headers["location"] == "/admin/origins?done=added"
    assert "https://crm.example.com" in connect.list_approved_origins(InstanceId=instance_id)["Origins"]
    again = post_form(admin, "/admin/origins", "/admin/origins/add", {"origin": "https://crm.example.com"})
    assert again.status_code == 409 and "already approved" in text_of(again)
    removed = post_form(admin, "/admin/origins", "/admin/origins/remove", {"origin": "https://crm.example.com"})
    assert removed.status_code == 303
    assert "https://crm.example.com" not in connect.list_approved_origins(InstanceId=instance_id)["Origins"]


def test_a_post_without_the_csrf_token_or_from_another_site_changes_nothing(
        admin: httpx.Client, connect: Any, instance_id: str) -> None:
    before = connect.list_approved_origins(InstanceId=instance_id)["Origins"]
    page = admin.get("/admin/origins")
    token = csrf_of(page)
    forged = [
        ({"origin": "https://evil.example"}, {}),  # no token at all
        ({"origin": "https://evil.example", "csrf": "x" * 43}, {}),  # a token that is not the cookie's
        ({"origin": "https://evil.example", "csrf": token}, {"Origin": "https://evil.example"}),
        ({"origin": "https://evil.example", "csrf": token}, {"Sec-Fetch-Site": "cross-site"}),
    ]
    for fields, headers in forged:
        answer = admin.post("/admin/origins/add", data=fields, headers=headers)
        assert answer.status_code == 403, (fields, headers)
        assert "Nothing was changed" in text_of(answer)
    assert connect.list_approved_origins(InstanceId=instance_id)["Origins"] == before


def test_the_multi_party_checkbox_sets_both_attributes(admin: httpx.Client, connect: Any, instance_id: str) -> None:
    def value(name: str) -> str:
        return str(connect.describe_instance_attribute(InstanceId=instance_id, AttributeType=name)
                   ["Attribute"]["Value"])

    off = post_form(admin, "/admin/settings", "/admin/settings/multi-party", {})
    assert off.status_code == 303
    assert value("MULTI_PARTY_CHAT_CONFERENCE") == "false" and value("ENHANCED_CHAT_MONITORING") == "false"
    assert "checked" not in admin.get("/admin/settings").text.split('id="multi-party"')[1].split(">")[0]
    on = post_form(admin, "/admin/settings", "/admin/settings/multi-party", {"enabled": "true"})
    assert on.status_code == 303
    assert value("MULTI_PARTY_CHAT_CONFERENCE") == "true" and value("ENHANCED_CHAT_MONITORING") == "true"
    assert "checked" in admin.get("/admin/settings").text.split('id="multi-party"')[1].split(">")[0]

    one = post_form(admin, "/admin/settings", "/admin/settings/attribute",
                    {"name": "CONTACTFLOW_LOGS", "value": "true"})
    assert one.status_code == 303 and value("CONTACTFLOW_LOGS") == "true"
    bad = post_form(admin, "/admin/settings", "/admin/settings/attribute",
                    {"name": "CONTACTFLOW_LOGS", "value": "maybe"})
    assert bad.status_code == 400 and "use true or false" in text_of(bad)
    unknown = post_form(admin, "/admin/settings", "/admin/settings/attribute", {"name": "NOPE", "value": "true"})
    assert unknown.status_code == 400 and "no setting named 'NOPE'" in text_of(unknown)


def test_quick_connect_create_view_edit_delete(admin: httpx.Client, connect: Any, instance_id: str) -> None:
    users = {u["Username"]: u["Id"] for u in connect.list_users(InstanceId=instance_id)["UserSummaryList"]}
    flows = {f["Name"]: f["Id"] for f in connect.list_contact_flows(InstanceId=instance_id)["ContactFlowSummaryList"]}
    form = admin.get("/admin/quick-connects/new")
    # "Default agent transfer" is preselected for a USER quick connect, as on Connect.
    assert re.search(rf'<option value="{flows["Default agent transfer"]}" selected>', form.text)
    qc_id = created_id(admin.post("/admin/quick-connects/new", data={
        "csrf": csrf_of(form), "name": "<b>to agent3</b>", "type": "USER", "user": users["agent3"],
        "user_flow": flows["Default agent transfer"]}), "/admin/quick-connects")
    described = connect.describe_quick_connect(InstanceId=instance_id, QuickConnectId=qc_id)["QuickConnect"]
    assert described["Name"] == "<b>to agent3</b>"
    assert described["QuickConnectConfig"]["UserConfig"] == {"UserId": users["agent3"],
                                                             "ContactFlowId": flows["Default agent transfer"]}
    for path in (f"/admin/quick-connects/{qc_id}", f"/transfer-dests/edit?id={qc_id}",
                 f"/quick-connect-management/quick-connects/{qc_id}"):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert described["QuickConnectARN"] in page.text and f'data-copy="{qc_id}"' in page.text
        assert "&lt;b&gt;to agent3&lt;/b&gt;" in page.text and "<b>to agent3" not in page.text
    listing = admin.get("/admin/quick-connects", params={"q": "to agent3"})
    assert f'data-copy="{described["QuickConnectARN"]}"' in listing.text
    assert "Transfer-to-agent-1" not in listing.text

    wrong_flow = admin.post(f"/admin/quick-connects/{qc_id}", data={
        "csrf": csrf_of(form), "name": "to agent3", "type": "QUEUE",
        "queue": connect.list_queues(InstanceId=instance_id, QueueTypes=["STANDARD"])["QueueSummaryList"][0]["Id"],
        "queue_flow": flows["Default agent transfer"]})
    assert wrong_flow.status_code == 400
    assert "A QUEUE quick connect needs a flow of type QUEUE_TRANSFER" in text_of(wrong_flow)
    renamed = admin.post(f"/admin/quick-connects/{qc_id}", data={
        "csrf": csrf_of(form), "name": "to agent3", "description": "Third desk", "type": "USER",
        "user": users["agent3"], "user_flow": flows["Default agent transfer"]})
    assert renamed.status_code == 303
    assert connect.describe_quick_connect(InstanceId=instance_id, QuickConnectId=qc_id)["QuickConnect"][
        "Description"] == "Third desk"
    empty = admin.post("/admin/quick-connects/new", data={"csrf": csrf_of(form), "name": "", "type": "USER"})
    assert empty.status_code == 400 and "Enter a name." in text_of(empty)

    deleted = admin.post(f"/admin/quick-connects/{qc_id}/delete", data={"csrf": csrf_of(form)})
    assert deleted.status_code == 303
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_quick_connect(InstanceId=instance_id, QuickConnectId=qc_id)
    gone = admin.get(f"/transfer-dests/edit?id={qc_id}")
    assert gone.status_code == 404 and "was not found" in text_of(gone)
    assert admin.get("/transfer-dests/edit").status_code == 404


def test_a_queues_quick_connects_and_a_new_user(admin: httpx.Client, connect: Any, instance_id: str) -> None:
    queue = next(q for q in connect.list_queues(InstanceId=instance_id, QueueTypes=["STANDARD"])[
        "QueueSummaryList"] if q["Name"] == "BasicQueue")
    profiles = {p["Name"]: p["Id"] for p in connect.list_security_profiles(InstanceId=instance_id)[
        "SecurityProfileSummaryList"]}
    routing = {p["Name"]: p["Id"] for p in connect.list_routing_profiles(InstanceId=instance_id)[
        "RoutingProfileSummaryList"]}
    form = admin.get("/admin/users/new")
    weak = admin.post("/admin/users/new", data={
        "csrf": csrf_of(form), "username": "agent9", "password": "short", "security_profile": profiles["Agent"],
        "routing_profile": routing["Basic Routing Profile"]})
    assert weak.status_code == 400 and "8 to 64 characters" in text_of(weak)
    assert 'value="agent9"' in weak.text and "short" not in weak.text  # the password is never shown again
    user_id = created_id(admin.post("/admin/users/new", data={
        "csrf": csrf_of(form), "username": "agent9", "password": "Agent9-pass", "first_name": "Nina",
        "security_profile": profiles["Agent"], "routing_profile": routing["Basic Routing Profile"]}), "/admin/users")
    user = connect.describe_user(InstanceId=instance_id, UserId=user_id)["User"]
    assert user["SecurityProfileIds"] == [profiles["Agent"]] and user["IdentityInfo"]["FirstName"] == "Nina"
    page = admin.get(f"/admin/users/{user_id}")
    assert "Offline" in text_of(page)  # the user's state right now: never signed in
    taken = admin.post("/admin/users/new", data={
        "csrf": csrf_of(form), "username": "agent9", "password": "Agent9-pass",
        "security_profile": profiles["Agent"], "routing_profile": routing["Basic Routing Profile"]})
    assert taken.status_code == 409 and "A user with username 'agent9' already exists." in text_of(taken)

    qc_id = created_id(post_form(admin, "/admin/quick-connects/new", "/admin/quick-connects/new", {
        "name": "to agent9", "type": "USER", "user": user_id,
        "user_flow": next(f["Id"] for f in connect.list_contact_flows(InstanceId=instance_id)[
            "ContactFlowSummaryList"] if f["Name"] == "Default agent transfer")}), "/admin/quick-connects")
    added = post_form(admin, f"/admin/queues/{queue['Id']}", f"/admin/queues/{queue['Id']}/quick-connects/add",
                      {"quick_connect": qc_id})
    assert added.status_code == 303

    def of_queue() -> list[str]:
        return [q["Id"] for q in connect.list_queue_quick_connects(InstanceId=instance_id, QueueId=queue["Id"])[
            "QuickConnectSummaryList"]]

    assert qc_id in of_queue()
    removed = post_form(admin, f"/admin/queues/{queue['Id']}", f"/admin/queues/{queue['Id']}/quick-connects/remove",
                        {"quick_connect": qc_id})
    assert removed.status_code == 303 and qc_id not in of_queue()

    reset = post_form(admin, f"/admin/users/{user_id}", f"/admin/users/{user_id}/password",
                      {"new_password": "Other-pass-1"})
    assert reset.status_code == 303
    sign_in(str(admin.base_url).rstrip("/"), "agent9", password="Other-pass-1").close()
    deleted = post_form(admin, f"/admin/users/{user_id}", f"/admin/users/{user_id}/delete", {})
    assert deleted.status_code == 303
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_user(InstanceId=instance_id, UserId=user_id)


def test_profiles_flows_and_widgets(admin: httpx.Client, connect: Any, instance_id: str) -> None:
    sp_id = created_id(post_form(admin, "/admin/security-profiles/new", "/admin/security-profiles/new", {
        "name": "Transfer desk", "permission": ["BasicAgentAccess", "TransferDestinations.View"]}),
        "/admin/security-profiles")
    assert sorted(connect.list_security_profile_permissions(InstanceId=instance_id, SecurityProfileId=sp_id)[
        "Permissions"]) == ["BasicAgentAccess", "TransferDestinations.View"]
    view = text_of(admin.get(f"/admin/security-profiles/{sp_id}"))
    assert "Quick connects - View" in view and "Contact Control Panel (CCP) - Access" in view

    queue_id = next(q["Id"] for q in connect.list_queues(InstanceId=instance_id, QueueTypes=["STANDARD"])[
        "QueueSummaryList"] if q["Name"] == "BasicQueue")
    too_many = post_form(admin, "/admin/routing-profiles/new", "/admin/routing-profiles/new", {
        "name": "Chat desk", "description": "Chats only", "outbound_queue": queue_id, "chat": "11"})
    assert too_many.status_code == 400 and "Concurrency for CHAT must be between 1 and 10, got 11." in text_of(too_many)
    rp_id = created_id(post_form(admin, "/admin/routing-profiles/new", "/admin/routing-profiles/new", {
        "name": "Chat desk", "description": "Chats only", "outbound_queue": queue_id, "chat": "5",
        "queue": queue_id}), "/admin/routing-profiles")
    described = connect.describe_routing_profile(InstanceId=instance_id, RoutingProfileId=rp_id)["RoutingProfile"]
    assert {m["Channel"]: m["Concurrency"] for m in described["MediaConcurrencies"]}["CHAT"] == 5
    assert described["AssociatedQueueIds"] == [queue_id]

    flows = admin.get("/admin/flows")
    assert "Default agent transfer" in text_of(flows)
    flow_id = connect.list_contact_flows(InstanceId=instance_id)["ContactFlowSummaryList"][0]["Id"]
    assert admin.get(f"/admin/flows/{flow_id}").status_code == 200

    widgets = admin.get("/admin/widgets")
    assert "Demo widget" in text_of(widgets) and "/widget.js" in text_of(widgets)
    bad = post_form(admin, "/admin/widgets/new", "/admin/widgets/new", {
        "name": "Shop", "flow": flow_id, "title": "Chat", "primary_color": "#ffffff", "on_primary_color": "#fefefe"})
    assert bad.status_code == 400 and "contrast" in text_of(bad).lower()

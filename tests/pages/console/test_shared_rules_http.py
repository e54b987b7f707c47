"""One rule set: the console has no input checks of its own; the use cases refuse what Connect's model refuses
(parley.service.inputs) and the console shows their sentence, while the Connect API still answers the same input
with its model's own error, before any use case runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Server

from .support import demo_instance, post_form, sign_in, text_of


@pytest.fixture(scope="module")
def admin(parley: Server) -> httpx.Client:
    return sign_in(parley.url, "admin")


@pytest.fixture(scope="module")
def raw(parley: Server) -> Any:
    return parley.connect(validate=False)


def ids(connect: Any, iid: str) -> dict[str, str]:
    flows = {f["Name"]: f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]}
    queue = next(q["Id"] for q in connect.list_queues(InstanceId=iid)["QueueSummaryList"]
                 if q.get("Name") == "BasicQueue")
    profile = next(p["Id"] for p in connect.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"]
                   if p["Name"] == "Basic Routing Profile")
    agent = next(p["Id"] for p in connect.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]
                 if p["Name"] == "Agent")
    return {"flow": flows["Default queue transfer"], "queue": queue, "profile": profile, "agent": agent}


def test_the_console_shows_the_use_cases_refusals_and_the_api_its_models(
        parley: Server, admin: httpx.Client, raw: Any) -> None:
    iid = demo_instance(raw)
    known = ids(raw, iid)
    long_name = "q" * 128
    qc = post_form(admin, "/admin/quick-connects/new", "/admin/quick-connects/new", {
        "name": long_name, "type": "QUEUE", "queue": known["queue"], "queue_flow": known["flow"]})
    assert qc.status_code == 400 and "A name is longer than 127 characters." in text_of(qc)
    with pytest.raises(raw.exceptions.InvalidParameterException) as api:
        raw.create_quick_connect(InstanceId=iid, Name=long_name, QuickConnectConfig={
            "QuickConnectType": "QUEUE", "QueueConfig": {"QueueId": known["queue"], "ContactFlowId": known["flow"]}})
    assert api.value.response["Error"]["Message"].endswith(
        "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 127")

    priority = post_form(admin, f"/admin/routing-profiles/{known['profile']}",
                         f"/admin/routing-profiles/{known['profile']}/queues",
                         {"queue": known["queue"], "priority": "100", "delay": "0"})
    assert priority.status_code == 400 and "Enter the priority as a whole number from 1 to 99." in text_of(priority)
    typed = post_form(admin, f"/admin/routing-profiles/{known['profile']}",
                      f"/admin/routing-profiles/{known['profile']}/queues",
                      {"queue": known["queue"], "priority": "soon", "delay": "0"})
    assert typed.status_code == 400 and "Enter the priority as a whole number." in text_of(typed)
    with pytest.raises(raw.exceptions.InvalidParameterException) as api:
        raw.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=known["profile"], QueueConfigs=[
            {"QueueReference": {"QueueId": known["queue"], "Channel": "CHAT"}, "Priority": 100, "Delay": 0}])
    assert "Member must have value less than or equal to 99" in api.value.response["Error"]["Message"]

    surname = post_form(admin, "/admin/users/new", "/admin/users/new", {
        "username": "longname", "password": "Long-name-1", "last_name": "x" * 301,
        "security_profile": known["agent"], "routing_profile": known["profile"]})
    assert surname.status_code == 400 and "The last name is longer than 300 characters." in text_of(surname)
    blank = post_form(admin, "/admin/users/new", "/admin/users/new", {
        "username": "  ", "password": "Long-name-1", "security_profile": known["agent"],
        "routing_profile": known["profile"]})
    assert blank.status_code == 400 and "Enter a username." in text_of(blank)
    with pytest.raises(raw.exceptions.InvalidParameterException) as api:
        raw.create_user(InstanceId=iid, Username="weak", Password="weakpass", PhoneConfig={"PhoneType": "SOFT_PHONE"},
                        SecurityProfileIds=[known["agent"]], RoutingProfileId=known["profile"])
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in \
        api.value.response["Error"]["Message"]
    users = {u["Username"]: u["Id"] for u in raw.list_users(InstanceId=iid)["UserSummaryList"]}
    assert "longname" not in users
    reset = post_form(admin, f"/admin/users/{users['agent5']}", f"/admin/users/{users['agent5']}/password",
                      {"new_password": "no digits Here"})
    assert reset.status_code == 400 and "8 to 64 characters" in text_of(reset)

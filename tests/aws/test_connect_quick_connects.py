"""Connect API through boto3: quick connects, their queue associations, contact flows, approved origins;
and issue 2's acceptance scenario from enabling multi-party chat to describing a started chat."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

Refused = Callable[..., dict[str, Any]]
Lister = Callable[..., list[Any]]
Unique = Callable[[str], str]


def queue_quick_connects(connect: Any, list_all: Lister, iid: str, queue_id: str) -> dict[str, str]:
    rows = list_all(connect, "list_queue_quick_connects", "QuickConnectSummaryList", InstanceId=iid,
                    QueueId=queue_id)
    return {q["Id"]: q["Name"] for q in rows}


def all_quick_connects(connect: Any, list_all: Lister, iid: str) -> list[dict[str, Any]]:
    return list_all(connect, "list_quick_connects", "QuickConnectSummaryList", InstanceId=iid)


def user_config(user_id: str, flow_id: str) -> dict[str, Any]:
    return {"QuickConnectType": "USER", "UserConfig": {"UserId": user_id, "ContactFlowId": flow_id}}


def queue_config(queue_id: str, flow_id: str) -> dict[str, Any]:
    return {"QuickConnectType": "QUEUE", "QueueConfig": {"QueueId": queue_id, "ContactFlowId": flow_id}}


def test_acceptance_scenario(connect: Any, demo_id: str, list_all: Lister, unique: Unique) -> None:
    """Issue 2's acceptance, as a new user would try it with boto3 against the demo instance."""
    # Enable multi-party chat (and enhanced monitoring), as the console checkbox does.
    for attribute in ("MULTI_PARTY_CHAT_CONFERENCE", "ENHANCED_CHAT_MONITORING"):
        connect.update_instance_attribute(InstanceId=demo_id, AttributeType=attribute, Value="true")
        assert connect.describe_instance_attribute(
            InstanceId=demo_id, AttributeType=attribute)["Attribute"]["Value"] == "true"

    # Create a new user.
    security = list_all(connect, "list_security_profiles", "SecurityProfileSummaryList", InstanceId=demo_id)
    routing = list_all(connect, "list_routing_profiles", "RoutingProfileSummaryList", InstanceId=demo_id)
    username = unique("newagent")
    user_id = connect.create_user(
        InstanceId=demo_id, Username=username, Password="Parley-demo-2",
        IdentityInfo={"FirstName": "Newton", "LastName": "Agent"}, PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[next(s["Id"] for s in security if s["Name"] == "Agent")],
        RoutingProfileId=next(r["Id"] for r in routing if r["Name"] == "Basic Routing Profile"),
    )["UserId"]

    # A USER quick connect for it with the "Default agent transfer" flow.
    flows = list_all(connect, "list_contact_flows", "ContactFlowSummaryList", InstanceId=demo_id,
                     ContactFlowTypes=["AGENT_TRANSFER"])
    flow_id = next(f["Id"] for f in flows if f["Name"] == "Default agent transfer")
    name = f"Transfer-to-{username}"
    created = connect.create_quick_connect(
        InstanceId=demo_id, Name=name, Description="Invite the new agent",
        QuickConnectConfig=user_config(user_id, flow_id),
    )
    qc_id = created["QuickConnectId"]
    assert created["QuickConnectARN"].endswith(f"/transfer-destination/{qc_id}")

    # Describe it.
    qc = connect.describe_quick_connect(InstanceId=demo_id, QuickConnectId=qc_id)["QuickConnect"]
    assert qc["QuickConnectARN"] == (
        f"arn:aws:connect:us-west-2:123456789012:instance/{demo_id}/transfer-destination/{qc_id}"
    )
    assert qc["QuickConnectId"] == qc_id
    assert qc["Name"] == name
    assert qc["Description"] == "Invite the new agent"
    assert qc["QuickConnectConfig"] == user_config(user_id, flow_id)

    # Associate it with BasicQueue and see it in ListQueueQuickConnects.
    queues = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=demo_id, QueueTypes=["STANDARD"])
    basic_queue = next(q["Id"] for q in queues if q["Name"] == "BasicQueue")
    connect.associate_queue_quick_connects(InstanceId=demo_id, QueueId=basic_queue, QuickConnectIds=[qc_id])
    listed = list_all(connect, "list_queue_quick_connects", "QuickConnectSummaryList", InstanceId=demo_id,
                      QueueId=basic_queue)
    mine = [q for q in listed if q["Id"] == qc_id]
    assert len(mine) == 1
    assert mine[0]["Name"] == name
    assert mine[0]["QuickConnectType"] == "USER"
    assert mine[0]["Arn"] == qc["QuickConnectARN"]

    # Start a chat contact and describe it.
    inbound = list_all(connect, "list_contact_flows", "ContactFlowSummaryList", InstanceId=demo_id,
                       ContactFlowTypes=["CONTACT_FLOW"])
    started = connect.start_chat_contact(
        InstanceId=demo_id, ContactFlowId=next(f["Id"] for f in inbound if f["Name"] == "Sample inbound flow"),
        ParticipantDetails={"DisplayName": "Customer"},
    )
    assert started["ContactId"] and started["ParticipantId"] and started["ParticipantToken"]
    contact = connect.describe_contact(InstanceId=demo_id, ContactId=started["ContactId"])["Contact"]
    assert contact["Id"] == started["ContactId"]
    assert contact["Channel"] == "CHAT"
    assert contact["InitiationMethod"] == "API"
    assert contact["QueueInfo"]["Id"] == basic_queue
    assert contact["ChatMetrics"]["ChatContactMetrics"]["MultiParty"] is True


def test_demo_quick_connects_are_on_basic_queue(connect: Any, demo: Any, list_all: Lister) -> None:
    on_queue = set(queue_quick_connects(connect, list_all, demo.instance_id, demo.basic_queue).values())
    expected = {f"Transfer-to-agent-{n}" for n in range(1, 6)} | {"Transfer-to-BasicQueue"}
    assert expected <= on_queue
    summaries = {q["Name"]: q for q in all_quick_connects(connect, list_all, demo.instance_id)}
    assert summaries["Transfer-to-agent-1"]["QuickConnectType"] == "USER"
    assert summaries["Transfer-to-BasicQueue"]["QuickConnectType"] == "QUEUE"
    qc = connect.describe_quick_connect(InstanceId=demo.instance_id,
                                        QuickConnectId=summaries["Transfer-to-agent-3"]["Id"])["QuickConnect"]
    assert qc["QuickConnectConfig"] == user_config(demo.users["agent3"], demo.agent_transfer_flow)
    qc = connect.describe_quick_connect(InstanceId=demo.instance_id,
                                        QuickConnectId=summaries["Transfer-to-BasicQueue"]["Id"])["QuickConnect"]
    assert qc["QuickConnectConfig"] == queue_config(demo.basic_queue, demo.queue_transfer_flow)


def test_quick_connect_flow_types_are_enforced(
    connect: Any, demo: Any, make_user: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    user_id = make_user("flowcheck")["UserId"]
    before = all_quick_connects(connect, list_all, iid)
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=user_config(user_id, demo.queue_transfer_flow)),
        "InvalidParameterException", 400, "AGENT_TRANSFER", "QUEUE_TRANSFER")
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=user_config(user_id, demo.inbound_flow)),
        "InvalidParameterException", 400, "AGENT_TRANSFER", "CONTACT_FLOW")
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"),
        QuickConnectConfig=queue_config(demo.basic_queue, demo.agent_transfer_flow)),
        "InvalidParameterException", 400, "QUEUE_TRANSFER", "AGENT_TRANSFER")
    assert all_quick_connects(connect, list_all, iid) == before


def test_quick_connect_references_must_exist(
    connect: Any, raw_connect: Any, demo: Any, make_user: Any, unique: Unique, list_all: Lister,
    refused: Refused,
) -> None:
    iid = demo.instance_id
    before = all_quick_connects(connect, list_all, iid)
    missing = str(uuid.uuid4())
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=user_config(missing, demo.agent_transfer_flow)),
        "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=user_config(demo.users["agent1"], missing)),
        "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=queue_config(missing, demo.queue_transfer_flow)),
        "ResourceNotFoundException", 404, missing)
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig={"QuickConnectType": "USER"}),
        "InvalidParameterException", 400, "UserConfig")
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig={"QuickConnectType": "USER",
                                                               "UserConfig": {"UserId": demo.users["agent1"]}}),
        "InvalidParameterException", 400,
        "Value null at 'quickConnectConfig.userConfig.contactFlowId' failed to satisfy constraint: "
        "Member must not be null")
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig={"QuickConnectType": "EMAIL"}),
        "InvalidParameterException", 400,
        "Value 'EMAIL' at 'quickConnectConfig.quickConnectType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [USER, QUEUE, PHONE_NUMBER, FLOW]")
    # An agent's own queue is reached through a USER quick connect, not a QUEUE one.
    user = make_user("ownqueue")
    agent_queues = {q["Id"] for q in list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid,
                                              QueueTypes=["AGENT"])}
    some_agent_queue = sorted(agent_queues)[0]
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name=unique("qc"), QuickConnectConfig=queue_config(some_agent_queue,
                                                                           demo.queue_transfer_flow)),
        "InvalidParameterException", 400, "agent queue")
    assert user["UserId"]
    assert all_quick_connects(connect, list_all, iid) == before


def test_phone_number_quick_connect(
    connect: Any, raw_connect: Any, demo: Any, unique: Unique, refused: Refused
) -> None:
    iid = demo.instance_id
    created = connect.create_quick_connect(
        InstanceId=iid, Name=unique("Call the office"),
        QuickConnectConfig={"QuickConnectType": "PHONE_NUMBER", "PhoneConfig": {"PhoneNumber": "+12065550100"}},
    )
    qc = connect.describe_quick_connect(InstanceId=iid, QuickConnectId=created["QuickConnectId"])["QuickConnect"]
    assert qc["QuickConnectConfig"] == {"QuickConnectType": "PHONE_NUMBER",
                                        "PhoneConfig": {"PhoneNumber": "+12065550100"}}
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=iid, Name=unique("Bad number"),
        QuickConnectConfig={"QuickConnectType": "PHONE_NUMBER", "PhoneConfig": {"PhoneNumber": "206-555-0100"}}),
        "InvalidParameterException", 400,
        "Value '206-555-0100' at 'quickConnectConfig.phoneConfig.phoneNumber' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern")


def test_duplicate_quick_connect_name_is_refused(
    connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    before = all_quick_connects(connect, list_all, iid)
    refused(lambda: connect.create_quick_connect(
        InstanceId=iid, Name="Transfer-to-agent-1",
        QuickConnectConfig=user_config(demo.users["agent2"], demo.agent_transfer_flow)),
        "DuplicateResourceException", 409, "Transfer-to-agent-1")
    assert all_quick_connects(connect, list_all, iid) == before


def test_update_quick_connect_name_and_config(
    connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    qc_id = connect.create_quick_connect(
        InstanceId=iid, Name=unique("Before"),
        QuickConnectConfig=user_config(demo.users["agent4"], demo.agent_transfer_flow),
    )["QuickConnectId"]
    renamed = unique("After")
    connect.update_quick_connect_name(InstanceId=iid, QuickConnectId=qc_id, Name=renamed,
                                      Description="Now points at the queue")
    connect.update_quick_connect_config(InstanceId=iid, QuickConnectId=qc_id,
                                        QuickConnectConfig=queue_config(demo.basic_queue, demo.queue_transfer_flow))
    qc = connect.describe_quick_connect(InstanceId=iid, QuickConnectId=qc_id)["QuickConnect"]
    assert qc["Name"] == renamed
    assert qc["Description"] == "Now points at the queue"
    assert qc["QuickConnectConfig"] == queue_config(demo.basic_queue, demo.queue_transfer_flow)
    summary = next(q for q in all_quick_connects(connect, list_all, iid) if q["Id"] == qc_id)
    assert summary["Name"] == renamed and summary["QuickConnectType"] == "QUEUE"

    # UpdateQuickConnectName's model lists no DuplicateResourceException: a taken name is an invalid request.
    refused(lambda: connect.update_quick_connect_name(InstanceId=iid, QuickConnectId=qc_id,
                                                      Name="Transfer-to-agent-1"),
            "InvalidRequestException", 400, "Transfer-to-agent-1", "already exists")
    refused(lambda: connect.update_quick_connect_name(InstanceId=iid, QuickConnectId=qc_id),
            "InvalidRequestException", 400, "Name")
    refused(lambda: connect.update_quick_connect_config(
        InstanceId=iid, QuickConnectId=qc_id,
        QuickConnectConfig=user_config(demo.users["agent4"], demo.queue_transfer_flow)),
        "InvalidParameterException", 400, "AGENT_TRANSFER")
    missing = str(uuid.uuid4())
    refused(lambda: connect.update_quick_connect_config(
        InstanceId=iid, QuickConnectId=missing,
        QuickConnectConfig=queue_config(demo.basic_queue, demo.queue_transfer_flow)),
        "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.update_quick_connect_name(InstanceId=iid, QuickConnectId=missing, Name=unique("x")),
            "ResourceNotFoundException", 404, missing)
    assert connect.describe_quick_connect(InstanceId=iid, QuickConnectId=qc_id)["QuickConnect"] == qc


def test_associate_disassociate_and_delete(
    connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    queue = connect.create_queue(InstanceId=iid, Name=unique("Associations"), HoursOfOperationId=connect.describe_queue(
        InstanceId=iid, QueueId=demo.basic_queue)["Queue"]["HoursOfOperationId"])["QueueId"]
    first, second = (
        connect.create_quick_connect(
            InstanceId=iid, Name=unique(label),
            QuickConnectConfig=user_config(demo.users[agent], demo.agent_transfer_flow),
        )["QuickConnectId"]
        for label, agent in (("first", "agent1"), ("second", "agent2"))
    )
    assert queue_quick_connects(connect, list_all, iid, queue) == {}
    connect.associate_queue_quick_connects(InstanceId=iid, QueueId=queue, QuickConnectIds=[first, second])
    assert set(queue_quick_connects(connect, list_all, iid, queue)) == {first, second}
    # Associating again is harmless.
    connect.associate_queue_quick_connects(InstanceId=iid, QueueId=queue, QuickConnectIds=[first])
    assert set(queue_quick_connects(connect, list_all, iid, queue)) == {first, second}

    missing = str(uuid.uuid4())
    refused(lambda: connect.associate_queue_quick_connects(InstanceId=iid, QueueId=queue,
                                                           QuickConnectIds=[missing]),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.associate_queue_quick_connects(InstanceId=iid, QueueId=missing,
                                                           QuickConnectIds=[first]),
            "ResourceNotFoundException", 404, missing)
    assert set(queue_quick_connects(connect, list_all, iid, queue)) == {first, second}

    connect.disassociate_queue_quick_connects(InstanceId=iid, QueueId=queue, QuickConnectIds=[first])
    assert set(queue_quick_connects(connect, list_all, iid, queue)) == {second}

    connect.delete_quick_connect(InstanceId=iid, QuickConnectId=second)
    assert queue_quick_connects(connect, list_all, iid, queue) == {}
    refused(lambda: connect.describe_quick_connect(InstanceId=iid, QuickConnectId=second),
            "ResourceNotFoundException", 404, second)
    refused(lambda: connect.delete_quick_connect(InstanceId=iid, QuickConnectId=second),
            "ResourceNotFoundException", 404, second)
    assert second not in {q["Id"] for q in all_quick_connects(connect, list_all, iid)}


def test_list_quick_connects_by_type(connect: Any, demo: Any, list_all: Lister) -> None:
    iid = demo.instance_id
    users = list_all(connect, "list_quick_connects", "QuickConnectSummaryList", InstanceId=iid,
                     QuickConnectTypes=["USER"])
    assert users and all(q["QuickConnectType"] == "USER" for q in users)
    both = list_all(connect, "list_quick_connects", "QuickConnectSummaryList", InstanceId=iid,
                    QuickConnectTypes=["USER", "QUEUE"])
    assert {q["QuickConnectType"] for q in both} == {"USER", "QUEUE"}
    for q in both:
        assert q["Arn"].endswith(f"/transfer-destination/{q['Id']}")


@pytest.fixture(scope="module")
def paging_instance(connect: Any, builtins_of: Callable[[str], Any]) -> Any:
    """An instance of its own with seven QUEUE quick connects, so its listings are known exactly."""
    iid = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InstanceAlias=f"paging-{uuid.uuid4().hex[:10]}",
        InboundCallsEnabled=True, OutboundCallsEnabled=True,
    )["Id"]
    ids = builtins_of(iid)
    for n in range(7):
        qc = connect.create_quick_connect(InstanceId=iid, Name=f"Queue-{n}",
                                          QuickConnectConfig=queue_config(ids.basic_queue, ids.queue_transfer_flow))
        connect.associate_queue_quick_connects(InstanceId=iid, QueueId=ids.basic_queue,
                                               QuickConnectIds=[qc["QuickConnectId"]])
    return ids


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 8])
def test_pagination_walks_every_quick_connect_once(connect: Any, paging_instance: Any, page_size: int) -> None:
    iid = paging_instance.instance_id
    for method, extra in (("list_quick_connects", {}),
                          ("list_queue_quick_connects", {"QueueId": paging_instance.basic_queue})):
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            page = getattr(connect, method)(InstanceId=iid, MaxResults=page_size, **extra,
                                            **({"NextToken": token} if token else {}))
            pages += 1
            assert len(page["QuickConnectSummaryList"]) <= page_size
            seen.extend(q["Name"] for q in page["QuickConnectSummaryList"])
            token = page.get("NextToken")
            if not token:
                break
        assert seen == [f"Queue-{n}" for n in range(7)], method
        assert pages == -(-7 // page_size), (method, pages)


def test_garbage_next_token_is_refused(connect: Any, paging_instance: Any, refused: Refused) -> None:
    iid = paging_instance.instance_id
    for token in ("garbage", "eyJ4IjoxfQ", "x" * 40):
        refused(lambda t=token: connect.list_quick_connects(InstanceId=iid, NextToken=t),
                "InvalidParameterException", 400, "NextToken")
        refused(lambda t=token: connect.list_queue_quick_connects(
            InstanceId=iid, QueueId=paging_instance.basic_queue, NextToken=t),
                "InvalidParameterException", 400, "NextToken")


# contact flows -------------------------------------------------------------------------------------------
def test_contact_flows(connect: Any, demo: Any, list_all: Lister, refused: Refused) -> None:
    iid = demo.instance_id
    flows = {f["Name"]: f for f in list_all(connect, "list_contact_flows", "ContactFlowSummaryList",
                                            InstanceId=iid)}
    assert flows["Sample inbound flow"]["ContactFlowType"] == "CONTACT_FLOW"
    assert flows["Default agent transfer"]["ContactFlowType"] == "AGENT_TRANSFER"
    assert flows["Default queue transfer"]["ContactFlowType"] == "QUEUE_TRANSFER"
    for f in flows.values():
        assert f["Arn"].endswith(f"/contact-flow/{f['Id']}")
        assert f["ContactFlowState"] == "ACTIVE"

    transfers = list_all(connect, "list_contact_flows", "ContactFlowSummaryList", InstanceId=iid,
                         ContactFlowTypes=["AGENT_TRANSFER", "QUEUE_TRANSFER"])
    assert {f["ContactFlowType"] for f in transfers} == {"AGENT_TRANSFER", "QUEUE_TRANSFER"}

    described = connect.describe_contact_flow(InstanceId=iid, ContactFlowId=demo.inbound_flow)["ContactFlow"]
    assert described["Id"] == demo.inbound_flow
    assert described["Name"] == "Sample inbound flow"
    assert described["Type"] == "CONTACT_FLOW"
    assert described["Arn"] == flows["Sample inbound flow"]["Arn"]
    assert isinstance(described["Content"], str)

    missing = str(uuid.uuid4())
    refused(lambda: connect.describe_contact_flow(InstanceId=iid, ContactFlowId=missing),
            "ResourceNotFoundException", 404, missing)


def test_list_contact_flows_refuses_unknown_type(raw_connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: raw_connect.list_contact_flows(InstanceId=demo.instance_id, ContactFlowTypes=["IVR"]),
            "InvalidParameterException", 400,
            "Value 'IVR' at 'contactFlowTypes.1.member' failed to satisfy constraint: "
            "Member must satisfy enum value set")


# approved origins ----------------------------------------------------------------------------------------
def origins(connect: Any, list_all: Lister, iid: str) -> list[str]:
    return list_all(connect, "list_approved_origins", "Origins", InstanceId=iid)


def test_demo_origins(connect: Any, demo: Any, list_all: Lister) -> None:
    assert {"http://localhost:8080", "http://127.0.0.1:8080"} <= set(origins(connect, list_all, demo.instance_id))


def test_associate_and_disassociate_origin(
    connect: Any, raw_connect: Any, demo: Any, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    origin = f"https://{uuid.uuid4().hex[:8]}.example.com"
    connect.associate_approved_origin(InstanceId=iid, Origin=origin)
    assert origin in origins(connect, list_all, iid)
    before = origins(connect, list_all, iid)
    refused(lambda: connect.associate_approved_origin(InstanceId=iid, Origin=origin),
            "ResourceConflictException", 409, origin)
    refused(lambda: connect.associate_approved_origin(InstanceId=iid, Origin="not an origin"),
            "InvalidParameterException", 400, "not an origin")
    refused(lambda: connect.associate_approved_origin(InstanceId=iid, Origin="https://example.com/path"),
            "InvalidParameterException", 400, "https://example.com/path")
    refused(lambda: raw_connect.associate_approved_origin(InstanceId=iid, Origin="https://" + "a" * 270),
            "InvalidParameterException", 400, "at 'origin' failed to satisfy constraint",
            "Member must have length less than or equal to 267")
    assert origins(connect, list_all, iid) == before

    connect.disassociate_approved_origin(InstanceId=iid, Origin=origin)
    assert origin not in origins(connect, list_all, iid)


def test_approved_origins_page(connect: Any, demo: Any, list_all: Lister) -> None:
    iid = demo.instance_id
    for _ in range(3):
        connect.associate_approved_origin(InstanceId=iid, Origin=f"https://{uuid.uuid4().hex[:8]}.example.org")
    whole = origins(connect, list_all, iid)
    seen: list[str] = []
    token = None
    while True:
        page = connect.list_approved_origins(InstanceId=iid, MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["Origins"]) <= 2
        seen.extend(page["Origins"])
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(whole)
    assert len(seen) == len(set(seen))

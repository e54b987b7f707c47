"""Connect API through boto3: users, security profiles, routing profiles and queues."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

Refused = Callable[..., dict[str, Any]]
Lister = Callable[..., list[Any]]
Unique = Callable[[str], str]


def usernames(list_all: Lister, connect: Any, iid: str) -> set[str]:
    return {u["Username"] for u in list_all(connect, "list_users", "UserSummaryList", InstanceId=iid)}


def agent_queues(list_all: Lister, connect: Any, iid: str) -> set[str]:
    rows = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid, QueueTypes=["AGENT"])
    assert all(q["QueueType"] == "AGENT" for q in rows)
    return {q["Id"] for q in rows}


def hours_id(connect: Any, demo: Any) -> str:
    return str(connect.describe_queue(InstanceId=demo.instance_id, QueueId=demo.basic_queue)["Queue"]
               ["HoursOfOperationId"])


# users ---------------------------------------------------------------------------------------------------
def test_create_describe_list_user(connect: Any, demo: Any, make_user: Any, list_all: Lister) -> None:
    user = make_user("alice", IdentityInfo={"FirstName": "Alice", "LastName": "Liddell",
                                            "Email": "alice@example.com"},
                     AutoAcceptConfigs=[{"Channel": "CHAT", "AutoAccept": True}])
    iid = demo.instance_id
    assert user["UserArn"] == f"arn:aws:connect:us-west-2:123456789012:instance/{iid}/agent/{user['UserId']}"

    described = connect.describe_user(InstanceId=iid, UserId=user["UserId"])["User"]
    assert described["Id"] == user["UserId"]
    assert described["Arn"] == user["UserArn"]
    assert described["Username"] == user["Username"]
    assert described["IdentityInfo"] == {"FirstName": "Alice", "LastName": "Liddell", "Email": "alice@example.com"}
    assert described["SecurityProfileIds"] == [demo.security_profiles["Agent"]]
    assert described["RoutingProfileId"] == demo.basic_routing_profile
    assert described["PhoneConfig"]["PhoneType"] == "SOFT_PHONE"
    assert {"Channel": "CHAT", "AutoAccept": True} in described["AutoAcceptConfigs"]
    assert "Password" not in described

    listed = list_all(connect, "list_users", "UserSummaryList", InstanceId=iid)
    mine = [u for u in listed if u["Id"] == user["UserId"]]
    assert len(mine) == 1 and mine[0]["Username"] == user["Username"]
    assert mine[0]["Arn"] == user["UserArn"]


def test_demo_users_are_there(connect: Any, demo: Any) -> None:
    assert {"admin", "agent1", "agent2", "agent3", "agent4", "agent5", "supervisor"} <= set(demo.users)
    agent1 = connect.describe_user(InstanceId=demo.instance_id, UserId=demo.users["agent1"])["User"]
    assert agent1["IdentityInfo"]["FirstName"] == "Agent1"
    assert agent1["SecurityProfileIds"] == [demo.security_profiles["Agent"]]
    supervisor = connect.describe_user(InstanceId=demo.instance_id, UserId=demo.users["supervisor"])["User"]
    assert supervisor["SecurityProfileIds"] == [demo.security_profiles["CallCenterManager"]]


def test_each_user_gets_an_agent_queue_and_delete_removes_it(
    connect: Any, demo: Any, make_user: Any, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    before = agent_queues(list_all, connect, iid)
    user = make_user("queued")
    after = agent_queues(list_all, connect, iid)
    assert len(after - before) == 1
    assert before <= after
    (queue_id,) = after - before
    queue = connect.describe_queue(InstanceId=iid, QueueId=queue_id)["Queue"]
    assert queue["QueueArn"].endswith(f"/queue/{queue_id}")
    standard = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid, QueueTypes=["STANDARD"])
    assert queue_id not in {q["Id"] for q in standard}

    connect.delete_user(InstanceId=iid, UserId=user["UserId"])
    assert agent_queues(list_all, connect, iid) == before
    assert user["Username"] not in usernames(list_all, connect, iid)
    refused(lambda: connect.describe_user(InstanceId=iid, UserId=user["UserId"]),
            "ResourceNotFoundException", 404, user["UserId"])
    refused(lambda: connect.describe_queue(InstanceId=iid, QueueId=queue_id),
            "ResourceNotFoundException", 404, queue_id)
    refused(lambda: connect.delete_user(InstanceId=iid, UserId=user["UserId"]),
            "ResourceNotFoundException", 404, user["UserId"])


def test_duplicate_username_is_refused(
    connect: Any, demo: Any, make_user: Any, list_all: Lister, refused: Refused
) -> None:
    user = make_user("twin")
    before = list_all(connect, "list_users", "UserSummaryList", InstanceId=demo.instance_id)
    queues = agent_queues(list_all, connect, demo.instance_id)
    refused(
        lambda: connect.create_user(
            InstanceId=demo.instance_id, Username=user["Username"], Password="Parley-test-2",
            PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[demo.security_profiles["Agent"]],
            RoutingProfileId=demo.basic_routing_profile),
        "DuplicateResourceException", 409, user["Username"],
    )
    assert list_all(connect, "list_users", "UserSummaryList", InstanceId=demo.instance_id) == before
    assert agent_queues(list_all, connect, demo.instance_id) == queues


def test_bad_users_are_refused_and_change_nothing(
    connect: Any, raw_connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    before = list_all(connect, "list_users", "UserSummaryList", InstanceId=iid)
    queues = agent_queues(list_all, connect, iid)
    base: dict[str, Any] = {
        "InstanceId": iid, "Password": "Parley-test-1", "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
        "SecurityProfileIds": [demo.security_profiles["Agent"]], "RoutingProfileId": demo.basic_routing_profile,
    }
    missing = str(uuid.uuid4())
    refused(lambda: connect.create_user(**{**base, "Username": unique("u"), "SecurityProfileIds": [missing]}),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.create_user(**{**base, "Username": unique("u"), "RoutingProfileId": missing}),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.create_user(**{k: v for k, v in base.items() if k != "Password"},
                                        Username=unique("u")),
            "InvalidParameterException", 400, "password")
    response = refused(
        lambda: connect.create_user(**{**base, "Username": unique("u"), "Password": "weakpass"}),
        "InvalidParameterException", 400,
        "1 validation error detected: Value at 'password' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern",
    )
    assert "weakpass" not in response["Error"]["Message"]
    refused(lambda: raw_connect.create_user(**{**base, "Username": "u" * 101}),
            "InvalidParameterException", 400, "at 'username' failed to satisfy constraint",
            "Member must have length less than or equal to 100")
    refused(lambda: raw_connect.create_user(**{**base, "Username": unique("u"),
                                               "SecurityProfileIds": [str(uuid.uuid4()) for _ in range(11)]}),
            "InvalidParameterException", 400, "at 'securityProfileIds' failed to satisfy constraint",
            "Member must have length less than or equal to 10")
    refused(lambda: raw_connect.create_user(**{**base, "Username": unique("u"),
                                               "PhoneConfig": {"PhoneType": "CELL_PHONE"}}),
            "InvalidParameterException", 400,
            "Value 'CELL_PHONE' at 'phoneConfig.phoneType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [SOFT_PHONE, DESK_PHONE]")
    refused(lambda: raw_connect.create_user(InstanceId=iid, Username=unique("u")),
            "InvalidParameterException", 400, "2 validation errors detected",
            "Value null at 'securityProfileIds' failed to satisfy constraint: Member must not be null",
            "Value null at 'routingProfileId'")
    assert list_all(connect, "list_users", "UserSummaryList", InstanceId=iid) == before
    assert agent_queues(list_all, connect, iid) == queues


def test_update_user_identity_routing_and_security(
    connect: Any, demo: Any, make_user: Any, unique: Unique, refused: Refused
) -> None:
    iid = demo.instance_id
    user = make_user("mover")
    uid = user["UserId"]
    connect.update_user_identity_info(InstanceId=iid, UserId=uid,
                                      IdentityInfo={"FirstName": "Mo", "LastName": "Ver", "Mobile": "+12065550100"})
    connect.update_user_security_profiles(
        InstanceId=iid, UserId=uid,
        SecurityProfileIds=[demo.security_profiles["Agent"], demo.security_profiles["CallCenterManager"]],
    )
    profile = connect.create_routing_profile(
        InstanceId=iid, Name=unique("rp"), Description="For the mover",
        DefaultOutboundQueueId=demo.basic_queue, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 5}],
    )
    connect.update_user_routing_profile(InstanceId=iid, UserId=uid, RoutingProfileId=profile["RoutingProfileId"])

    described = connect.describe_user(InstanceId=iid, UserId=uid)["User"]
    assert described["IdentityInfo"] == {"FirstName": "Mo", "LastName": "Ver", "Mobile": "+12065550100"}
    assert sorted(described["SecurityProfileIds"]) == sorted(
        [demo.security_profiles["Agent"], demo.security_profiles["CallCenterManager"]]
    )
    assert described["RoutingProfileId"] == profile["RoutingProfileId"]

    missing = str(uuid.uuid4())
    refused(lambda: connect.update_user_routing_profile(InstanceId=iid, UserId=uid, RoutingProfileId=missing),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.update_user_security_profiles(InstanceId=iid, UserId=uid,
                                                          SecurityProfileIds=[missing]),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.update_user_identity_info(InstanceId=iid, UserId=missing,
                                                      IdentityInfo={"FirstName": "X"}),
            "ResourceNotFoundException", 404, missing)
    assert connect.describe_user(InstanceId=iid, UserId=uid)["User"] == described


def test_list_users_pages_every_user_once(connect: Any, demo: Any, make_user: Any, list_all: Lister) -> None:
    for _ in range(3):
        make_user("pager")
    whole = list_all(connect, "list_users", "UserSummaryList", InstanceId=demo.instance_id)
    seen: list[str] = []
    token = None
    while True:
        page = connect.list_users(InstanceId=demo.instance_id, MaxResults=2,
                                  **({"NextToken": token} if token else {}))
        assert len(page["UserSummaryList"]) <= 2
        seen.extend(u["Id"] for u in page["UserSummaryList"])
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == {u["Id"] for u in whole}


# security profiles ---------------------------------------------------------------------------------------
def test_built_in_security_profiles(connect: Any, demo: Any, list_all: Lister) -> None:
    profiles = list_all(connect, "list_security_profiles", "SecurityProfileSummaryList",
                        InstanceId=demo.instance_id)
    names = {p["Name"] for p in profiles}
    assert {"Admin", "Agent", "CallCenterManager"} <= names
    for p in profiles:
        assert p["Arn"].endswith(f"/security-profile/{p['Id']}")

    def permissions(name: str) -> list[str]:
        return list_all(connect, "list_security_profile_permissions", "Permissions",
                        InstanceId=demo.instance_id, SecurityProfileId=demo.security_profiles[name])

    agent = permissions("Agent")
    assert "BasicAgentAccess" in agent
    assert "TransferDestinations.View" in agent
    assert "ManagerBargeIn" not in agent
    manager = permissions("CallCenterManager")
    assert {"BasicAgentAccess", "ManagerListenIn", "ManagerBargeIn"} <= set(manager)
    admin = permissions("Admin")
    assert {"TransferDestinations.Create", "Users.Create", "BasicAgentAccess"} <= set(admin)

    described = connect.describe_security_profile(
        InstanceId=demo.instance_id, SecurityProfileId=demo.security_profiles["Agent"]
    )["SecurityProfile"]
    assert described["SecurityProfileName"] == "Agent"
    assert described["Id"] == demo.security_profiles["Agent"]
    assert described["OrganizationResourceId"] == demo.instance_id


def test_security_profile_permissions_page(connect: Any, demo: Any, list_all: Lister) -> None:
    sp = demo.security_profiles["Admin"]
    whole = list_all(connect, "list_security_profile_permissions", "Permissions",
                     InstanceId=demo.instance_id, SecurityProfileId=sp)
    seen: list[str] = []
    token = None
    while True:
        page = connect.list_security_profile_permissions(
            InstanceId=demo.instance_id, SecurityProfileId=sp, MaxResults=4, **({"NextToken": token} if token else {})
        )
        assert len(page["Permissions"]) <= 4
        seen.extend(page["Permissions"])
        token = page.get("NextToken")
        if not token:
            break
    assert len(whole) > 4
    assert sorted(seen) == sorted(whole)
    assert len(seen) == len(set(seen))


def test_create_security_profile(
    connect: Any, raw_connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    name = unique("Escalations")
    created = connect.create_security_profile(
        InstanceId=iid, SecurityProfileName=name, Description="Agents who take escalations",
        Permissions=["BasicAgentAccess", "TransferDestinations.View", "ManagerListenIn"],
    )
    assert created["SecurityProfileArn"].endswith(f"/security-profile/{created['SecurityProfileId']}")
    described = connect.describe_security_profile(
        InstanceId=iid, SecurityProfileId=created["SecurityProfileId"]
    )["SecurityProfile"]
    assert described["SecurityProfileName"] == name
    assert described["Description"] == "Agents who take escalations"
    permissions = list_all(connect, "list_security_profile_permissions", "Permissions", InstanceId=iid,
                           SecurityProfileId=created["SecurityProfileId"])
    assert sorted(permissions) == ["BasicAgentAccess", "ManagerListenIn", "TransferDestinations.View"]

    before = list_all(connect, "list_security_profiles", "SecurityProfileSummaryList", InstanceId=iid)
    assert name in {p["Name"] for p in before}
    refused(lambda: connect.create_security_profile(InstanceId=iid, SecurityProfileName=name),
            "DuplicateResourceException", 409, name)
    refused(lambda: raw_connect.create_security_profile(InstanceId=iid, SecurityProfileName="no/slashes"),
            "InvalidParameterException", 400, "Value 'no/slashes' at 'securityProfileName'",
            "Member must satisfy regular expression pattern")
    missing = str(uuid.uuid4())
    refused(lambda: connect.describe_security_profile(InstanceId=iid, SecurityProfileId=missing),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.list_security_profile_permissions(InstanceId=iid, SecurityProfileId=missing),
            "ResourceNotFoundException", 404, missing)
    assert list_all(connect, "list_security_profiles", "SecurityProfileSummaryList", InstanceId=iid) == before


# routing profiles ----------------------------------------------------------------------------------------
def test_routing_profile_chat_concurrency_ten_is_accepted(
    connect: Any, demo: Any, unique: Unique, list_all: Lister
) -> None:
    iid = demo.instance_id
    name = unique("Chat heavy")
    created = connect.create_routing_profile(
        InstanceId=iid, Name=name, Description="Ten chats at once", DefaultOutboundQueueId=demo.basic_queue,
        MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 10}, {"Channel": "VOICE", "Concurrency": 1}],
        QueueConfigs=[{"QueueReference": {"QueueId": demo.basic_queue, "Channel": "CHAT"}, "Priority": 1,
                       "Delay": 0}],
    )
    rpid = created["RoutingProfileId"]
    assert created["RoutingProfileArn"].endswith(f"/routing-profile/{rpid}")
    described = connect.describe_routing_profile(InstanceId=iid, RoutingProfileId=rpid)["RoutingProfile"]
    assert described["Name"] == name
    assert described["Description"] == "Ten chats at once"
    assert described["DefaultOutboundQueueId"] == demo.basic_queue
    chat = next(m for m in described["MediaConcurrencies"] if m["Channel"] == "CHAT")
    assert chat["Concurrency"] == 10
    assert described["NumberOfAssociatedQueues"] == 1
    listed = list_all(connect, "list_routing_profiles", "RoutingProfileSummaryList", InstanceId=iid)
    assert [p["Name"] for p in listed if p["Id"] == rpid] == [name]
    queues = list_all(connect, "list_routing_profile_queues", "RoutingProfileQueueConfigSummaryList",
                      InstanceId=iid, RoutingProfileId=rpid)
    assert [(q["QueueId"], q["Channel"], q["QueueName"]) for q in queues] == [
        (demo.basic_queue, "CHAT", "BasicQueue")
    ]


def test_routing_profile_chat_concurrency_eleven_is_refused(
    connect: Any, raw_connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    before = list_all(connect, "list_routing_profiles", "RoutingProfileSummaryList", InstanceId=iid)
    params: dict[str, Any] = {"InstanceId": iid, "Name": unique("Too many"), "Description": "Eleven chats",
                              "DefaultOutboundQueueId": demo.basic_queue}
    refused(
        lambda: raw_connect.create_routing_profile(
            **params, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 11}]),
        "InvalidParameterException", 400,
        "1 validation error detected: Value '11' at 'mediaConcurrencies.1.member.concurrency' failed to satisfy "
        "constraint: Member must have value less than or equal to 10",
    )
    refused(
        lambda: connect.create_routing_profile(
            **params, MediaConcurrencies=[{"Channel": "VOICE", "Concurrency": 2}]),
        "InvalidParameterException", 400, "VOICE",
    )
    refused(
        lambda: connect.create_routing_profile(
            **params, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 0}]),
        "InvalidParameterException", 400, "CHAT",
    )
    refused(
        lambda: connect.create_routing_profile(
            **params, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 2}, {"Channel": "CHAT",
                                                                                 "Concurrency": 3}]),
        "InvalidParameterException", 400, "CHAT",
    )
    refused(
        lambda: connect.create_routing_profile(**params, MediaConcurrencies=[{"Channel": "CHAT"}]),
        "InvalidParameterException", 400, "Concurrency", "CHAT",
    )
    missing = str(uuid.uuid4())
    refused(
        lambda: connect.create_routing_profile(
            **{**params, "DefaultOutboundQueueId": missing},
            MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 2}]),
        "ResourceNotFoundException", 404, missing,
    )
    refused(
        lambda: connect.create_routing_profile(
            **{**params, "Name": "Basic Routing Profile"}, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 2}]),
        "DuplicateResourceException", 409, "Basic Routing Profile",
    )
    assert list_all(connect, "list_routing_profiles", "RoutingProfileSummaryList", InstanceId=iid) == before


def test_associate_routing_profile_queues(
    connect: Any, raw_connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    rp = connect.create_routing_profile(
        InstanceId=iid, Name=unique("Two queues"), Description="Basic and another",
        DefaultOutboundQueueId=demo.basic_queue, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 2}],
    )["RoutingProfileId"]
    other = connect.create_queue(InstanceId=iid, Name=unique("Escalation queue"),
                                 HoursOfOperationId=hours_id(connect, demo))["QueueId"]
    connect.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=rp, QueueConfigs=[
        {"QueueReference": {"QueueId": demo.basic_queue, "Channel": "CHAT"}, "Priority": 1, "Delay": 0},
        {"QueueReference": {"QueueId": other, "Channel": "CHAT"}, "Priority": 2, "Delay": 30},
    ])

    def configs() -> list[tuple[str, str, int, int]]:
        rows = list_all(connect, "list_routing_profile_queues", "RoutingProfileQueueConfigSummaryList",
                        InstanceId=iid, RoutingProfileId=rp)
        return sorted((r["QueueId"], r["Channel"], r["Priority"], r["Delay"]) for r in rows)

    expected = sorted([(demo.basic_queue, "CHAT", 1, 0), (other, "CHAT", 2, 30)])
    assert configs() == expected

    refused(lambda: connect.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=rp, QueueConfigs=[
        {"QueueReference": {"QueueId": other, "Channel": "TASK"}, "Priority": 1, "Delay": 0},
        {"QueueReference": {"QueueId": other, "Channel": "CHAT"}, "Priority": 1, "Delay": 0},
    ]), "InvalidRequestException", 400, other, "already associated")
    missing = str(uuid.uuid4())
    refused(lambda: connect.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=rp, QueueConfigs=[
        {"QueueReference": {"QueueId": other, "Channel": "TASK"}, "Priority": 1, "Delay": 0},
        {"QueueReference": {"QueueId": missing, "Channel": "CHAT"}, "Priority": 1, "Delay": 0},
    ]), "ResourceNotFoundException", 404, missing)
    refused(lambda: raw_connect.associate_routing_profile_queues(InstanceId=iid, RoutingProfileId=rp, QueueConfigs=[
        {"QueueReference": {"QueueId": other, "Channel": "TASK"}, "Priority": 100, "Delay": 0},
    ]), "InvalidParameterException", 400,
        "Value '100' at 'queueConfigs.1.member.priority' failed to satisfy constraint: "
        "Member must have value less than or equal to 99")
    assert configs() == expected


# queues --------------------------------------------------------------------------------------------------
def test_create_describe_list_queue(
    connect: Any, demo: Any, unique: Unique, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    name = unique("Billing")
    hours = hours_id(connect, demo)
    created = connect.create_queue(InstanceId=iid, Name=name, Description="Billing questions",
                                   HoursOfOperationId=hours, MaxContacts=25, Tags={"team": "billing"})
    qid = created["QueueId"]
    assert created["QueueArn"] == f"arn:aws:connect:us-west-2:123456789012:instance/{iid}/queue/{qid}"
    queue = connect.describe_queue(InstanceId=iid, QueueId=qid)["Queue"]
    assert queue["Name"] == name
    assert queue["QueueId"] == qid
    assert queue["Description"] == "Billing questions"
    assert queue["HoursOfOperationId"] == hours
    assert queue["MaxContacts"] == 25
    assert queue["Status"] == "ENABLED"
    assert queue["Tags"] == {"team": "billing"}

    standard = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid, QueueTypes=["STANDARD"])
    assert all(q["QueueType"] == "STANDARD" for q in standard)
    assert [q["Name"] for q in standard if q["Id"] == qid] == [name]
    assert "BasicQueue" in {q["Name"] for q in standard}
    everyone = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid)
    assert {q["QueueType"] for q in everyone} == {"STANDARD", "AGENT"}

    before = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid)
    refused(lambda: connect.create_queue(InstanceId=iid, Name=name, HoursOfOperationId=hours),
            "DuplicateResourceException", 409, name)
    missing = str(uuid.uuid4())
    refused(lambda: connect.create_queue(InstanceId=iid, Name=unique("q"), HoursOfOperationId=missing),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.describe_queue(InstanceId=iid, QueueId=missing),
            "ResourceNotFoundException", 404, missing)
    assert list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid) == before


def test_list_queues_pages_and_filters(
    connect: Any, raw_connect: Any, demo: Any, list_all: Lister, refused: Refused
) -> None:
    iid = demo.instance_id
    whole = list_all(connect, "list_queues", "QueueSummaryList", InstanceId=iid)
    seen: list[str] = []
    token = None
    while True:
        page = connect.list_queues(InstanceId=iid, MaxResults=3, **({"NextToken": token} if token else {}))
        assert len(page["QueueSummaryList"]) <= 3
        seen.extend(q["Id"] for q in page["QueueSummaryList"])
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == {q["Id"] for q in whole}
    refused(lambda: raw_connect.list_queues(InstanceId=iid, QueueTypes=["PERSONAL"]),
            "InvalidParameterException", 400,
            "Value 'PERSONAL' at 'queueTypes.1.member' failed to satisfy constraint: "
            "Member must satisfy enum value set: [STANDARD, AGENT]")


@pytest.mark.parametrize("token", ["garbage", "bm90LWpzb24", "WyJhIl0", "!!!"])
def test_garbage_next_token_is_refused(connect: Any, demo: Any, refused: Refused, token: str) -> None:
    refused(lambda: connect.list_users(InstanceId=demo.instance_id, NextToken=token),
            "InvalidParameterException", 400, "NextToken")
    refused(lambda: connect.list_queues(InstanceId=demo.instance_id, NextToken=token),
            "InvalidParameterException", 400, "NextToken")

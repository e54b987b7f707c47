"""Connect API errors through boto3 and raw signed HTTP: authentication, Coral-style validation messages,
serialization errors, unknown ids, duplicates, unimplemented operations and unknown paths; and that a
refused request changes nothing and no input produces a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

Refused = Callable[..., dict[str, Any]]
Lister = Callable[..., list[Any]]
Unique = Callable[[str], str]


def signed(server: Any, method: str, path: str, body: bytes = b"", *, key: str = "test", secret: str = "test",
           headers: dict[str, str] | None = None) -> httpx.Response:
    """Send a request signed like botocore signs it, with a body boto3 would never send."""
    request = AWSRequest(method=method, url=server.url + path, data=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
    SigV4Auth(Credentials(key, secret), "connect", "us-west-2").add_auth(request)
    prepared = request.prepare()
    return httpx.request(method, prepared.url, headers=dict(prepared.headers.items()), content=body, timeout=10)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    message = response.json().get("Message") or response.json().get("message") or ""
    return response.status_code, response.headers.get("x-amzn-ErrorType", ""), message


# authentication ------------------------------------------------------------------------------------------
def test_wrong_secret_is_invalid_signature(server: Any, refused: Refused) -> None:
    client = server.connect(secret="not-the-secret")
    refused(client.list_instances, "InvalidSignatureException", 403,
            "The request signature we calculated does not match the signature you provided")


def test_unknown_access_key_is_unrecognized(server: Any, refused: Refused) -> None:
    client = server.connect(key="AKIANOBODY", secret="whatever")
    refused(client.list_instances, "UnrecognizedClientException", 403,
            "The security token included in the request is invalid")


def test_unsigned_request_is_refused(server: Any) -> None:
    response = httpx.get(f"{server.url}/instance", timeout=10)
    assert error_of(response) == (403, "MissingAuthenticationTokenException", "Missing Authentication Token")


def test_body_changed_after_signing_is_refused(server: Any, demo: Any) -> None:
    request = AWSRequest(method="PUT", url=f"{server.url}/instance/{demo.instance_id}/approved-origin",
                         data=b'{"Origin": "https://signed.example.com"}',
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "connect", "us-west-2").add_auth(request)
    prepared = request.prepare()
    tampered = b'{"Origin": "https://evil.example.com"}'
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    response = httpx.put(prepared.url, headers=headers, content=tampered, timeout=10)
    status, code, _ = error_of(response)
    assert status == 403
    assert code in ("InvalidSignatureException", "XAmzContentSHA256Mismatch")


def test_wrong_signature_changes_nothing(server: Any, connect: Any, demo: Any, list_all: Lister,
                                         refused: Refused) -> None:
    before = list_all(connect, "list_approved_origins", "Origins", InstanceId=demo.instance_id)
    client = server.connect(secret="wrong")
    refused(lambda: client.associate_approved_origin(InstanceId=demo.instance_id,
                                                     Origin="https://forged.example.com"),
            "InvalidSignatureException", 403)
    assert list_all(connect, "list_approved_origins", "Origins", InstanceId=demo.instance_id) == before


# validation (Coral-style messages) -------------------------------------------------------------------------
def test_out_of_range_number(raw_connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: raw_connect.list_quick_connects(InstanceId=demo.instance_id, MaxResults=5000),
            "InvalidParameterException", 400,
            "1 validation error detected: Value '5000' at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 1000")
    refused(lambda: raw_connect.list_quick_connects(InstanceId=demo.instance_id, MaxResults=0),
            "InvalidParameterException", 400,
            "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1")


def test_missing_required_member(raw_connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=demo.instance_id,
        QuickConnectConfig={"QuickConnectType": "QUEUE",
                            "QueueConfig": {"QueueId": demo.basic_queue, "ContactFlowId": demo.queue_transfer_flow}}),
        "InvalidParameterException", 400,
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")


def test_wrong_enum(raw_connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: raw_connect.list_quick_connects(InstanceId=demo.instance_id, QuickConnectTypes=["AGENT"]),
            "InvalidParameterException", 400,
            "1 validation error detected: Value 'AGENT' at 'quickConnectTypes.1.member' failed to satisfy "
            "constraint: Member must satisfy enum value set: [USER, QUEUE, PHONE_NUMBER, FLOW]")


def test_too_long_string(raw_connect: Any, demo: Any, refused: Refused) -> None:
    response = refused(lambda: raw_connect.create_quick_connect(
        InstanceId=demo.instance_id, Name="n" * 128,
        QuickConnectConfig={"QuickConnectType": "QUEUE",
                            "QueueConfig": {"QueueId": demo.basic_queue, "ContactFlowId": demo.queue_transfer_flow}}),
        "InvalidParameterException", 400,
        "at 'name' failed to satisfy constraint: Member must have length less than or equal to 127")
    assert response["Error"]["Message"].startswith("1 validation error detected: Value 'nnnn")


def test_pattern_violation(raw_connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: raw_connect.create_quick_connect(
        InstanceId=demo.instance_id, Name="Dial",
        QuickConnectConfig={"QuickConnectType": "PHONE_NUMBER", "PhoneConfig": {"PhoneNumber": "call me"}}),
        "InvalidParameterException", 400,
        "1 validation error detected: Value 'call me' at 'quickConnectConfig.phoneConfig.phoneNumber' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern")


def test_several_problems_are_counted(raw_connect: Any, demo: Any, refused: Refused) -> None:
    response = refused(lambda: raw_connect.create_quick_connect(
        InstanceId=demo.instance_id, Name="",
        QuickConnectConfig={"QuickConnectType": "BOGUS"}, Description="d" * 251),
        "InvalidParameterException", 400, "3 validation errors detected",
        "at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "Value 'BOGUS' at 'quickConnectConfig.quickConnectType'",
        "at 'description' failed to satisfy constraint: Member must have length less than or equal to 250")
    assert response["Error"]["Message"].count("; ") == 2


def test_null_inside_a_map_or_list(server: Any, demo: Any) -> None:
    body = json.dumps({"InstanceId": demo.instance_id, "InitialContactId": MISSING,
                       "Attributes": {"a": None}}).encode()
    status, code, message = error_of(signed(server, "POST", "/contact/attributes", body))
    assert (status, code) == (400, "InvalidParameterException")
    assert "Value null at 'attributes.a.value' failed to satisfy constraint: Member must not be null" in message
    body = json.dumps({"QuickConnectIds": [None]}).encode()
    path = f"/queues/{demo.instance_id}/{demo.basic_queue}/associate-quick-connects"
    status, code, message = error_of(signed(server, "POST", path, body))
    assert (status, code) == (400, "InvalidParameterException")
    assert "Value null at 'quickConnectIds.1.member'" in message


def test_bad_query_number(server: Any, demo: Any) -> None:
    status, code, message = error_of(signed(server, "GET", f"/quick-connects/{demo.instance_id}?maxResults=ten"))
    assert (status, code) == (400, "InvalidParameterException")
    assert "Value 'ten' at 'maxResults'" in message


# serialization -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "fragment"), [
    (b'{"Name": 42, "QuickConnectConfig": {"QuickConnectType": "USER"}}', "'name'"),
    (b'{"Name": "x", "QuickConnectConfig": "USER"}', "'quickConnectConfig'"),
    (b'{"Name": "x", "QuickConnectConfig": {"QuickConnectType": ["USER"]}}', "'quickConnectConfig.quickConnectType'"),
    (b'{"Name": "x", "Tags": {"team": 7}, "QuickConnectConfig": {"QuickConnectType": "USER"}}', "'tags.team"),
])
def test_wrong_json_type_is_serialization_error(server: Any, demo: Any, body: bytes, fragment: str) -> None:
    status, code, message = error_of(signed(server, "PUT", f"/quick-connects/{demo.instance_id}", body))
    assert (status, code) == (400, "SerializationException")
    assert fragment in message


@pytest.mark.parametrize("body", [b'{"Name": "x", ', b"not json", b"\xff\xfe\x00", b'[1, 2]', b'"text"', b"42"])
def test_invalid_json_body_is_serialization_error(server: Any, demo: Any, body: bytes) -> None:
    status, code, message = error_of(signed(server, "PUT", f"/quick-connects/{demo.instance_id}", body))
    assert (status, code) == (400, "SerializationException")
    assert "JSON" in message or "object" in message


def test_wrong_json_type_in_start_chat(server: Any, demo: Any) -> None:
    body = json.dumps({"InstanceId": demo.instance_id, "ContactFlowId": demo.inbound_flow,
                       "ParticipantDetails": {"DisplayName": "Jane"}, "ChatDurationInMinutes": "sixty"}).encode()
    status, code, message = error_of(signed(server, "PUT", "/contact/chat", body))
    assert (status, code) == (400, "SerializationException")
    assert "chatDurationInMinutes" in message


# unknown ids, duplicates ---------------------------------------------------------------------------------
MISSING = "00000000-0000-4000-8000-000000000000"

UNKNOWN_ID_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "describe_instance": lambda c, d: c.describe_instance(InstanceId=MISSING),
    "describe_user": lambda c, d: c.describe_user(InstanceId=d.instance_id, UserId=MISSING),
    "delete_user": lambda c, d: c.delete_user(InstanceId=d.instance_id, UserId=MISSING),
    "describe_queue": lambda c, d: c.describe_queue(InstanceId=d.instance_id, QueueId=MISSING),
    "describe_routing_profile": lambda c, d: c.describe_routing_profile(InstanceId=d.instance_id,
                                                                        RoutingProfileId=MISSING),
    "list_routing_profile_queues": lambda c, d: c.list_routing_profile_queues(InstanceId=d.instance_id,
                                                                              RoutingProfileId=MISSING),
    "describe_security_profile": lambda c, d: c.describe_security_profile(InstanceId=d.instance_id,
                                                                          SecurityProfileId=MISSING),
    "describe_quick_connect": lambda c, d: c.describe_quick_connect(InstanceId=d.instance_id,
                                                                    QuickConnectId=MISSING),
    "delete_quick_connect": lambda c, d: c.delete_quick_connect(InstanceId=d.instance_id, QuickConnectId=MISSING),
    "list_queue_quick_connects": lambda c, d: c.list_queue_quick_connects(InstanceId=d.instance_id,
                                                                          QueueId=MISSING),
    "describe_contact_flow": lambda c, d: c.describe_contact_flow(InstanceId=d.instance_id, ContactFlowId=MISSING),
    "describe_contact": lambda c, d: c.describe_contact(InstanceId=d.instance_id, ContactId=MISSING),
    "list_users_of_unknown_instance": lambda c, d: c.list_users(InstanceId=MISSING),
    "list_queues_of_unknown_instance": lambda c, d: c.list_queues(InstanceId=MISSING),
    "list_approved_origins_of_unknown_instance": lambda c, d: c.list_approved_origins(InstanceId=MISSING),
}


@pytest.mark.parametrize("name", sorted(UNKNOWN_ID_CALLS))
def test_unknown_id_is_not_found(connect: Any, demo: Any, refused: Refused, name: str) -> None:
    refused(lambda: UNKNOWN_ID_CALLS[name](connect, demo), "ResourceNotFoundException", 404, MISSING)


DUPLICATE_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "queue": lambda c, d: c.create_queue(
        InstanceId=d.instance_id, Name="BasicQueue",
        HoursOfOperationId=c.describe_queue(InstanceId=d.instance_id, QueueId=d.basic_queue)["Queue"]
        ["HoursOfOperationId"]),
    "user": lambda c, d: c.create_user(
        InstanceId=d.instance_id, Username="agent1", Password="Parley-demo-1",
        PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[d.security_profiles["Agent"]],
        RoutingProfileId=d.basic_routing_profile),
    "security_profile": lambda c, d: c.create_security_profile(InstanceId=d.instance_id,
                                                               SecurityProfileName="Admin"),
    "routing_profile": lambda c, d: c.create_routing_profile(
        InstanceId=d.instance_id, Name="Basic Routing Profile", Description="again",
        DefaultOutboundQueueId=d.basic_queue, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 1}]),
    "quick_connect": lambda c, d: c.create_quick_connect(
        InstanceId=d.instance_id, Name="Transfer-to-BasicQueue",
        QuickConnectConfig={"QuickConnectType": "QUEUE", "QueueConfig": {
            "QueueId": d.basic_queue, "ContactFlowId": d.queue_transfer_flow}}),
}


@pytest.mark.parametrize("kind", sorted(DUPLICATE_CALLS))
def test_duplicate_name_is_refused(connect: Any, demo: Any, refused: Refused, kind: str) -> None:
    refused(lambda: DUPLICATE_CALLS[kind](connect, demo), "DuplicateResourceException", 409, "already exists")


# operations and paths Parley does not serve --------------------------------------------------------------
def test_unimplemented_operation_names_itself(connect: Any, demo: Any, refused: Refused) -> None:
    refused(lambda: connect.list_prompts(InstanceId=demo.instance_id), "NotImplementedException", 501,
            "ListPrompts")
    refused(lambda: connect.describe_hours_of_operation(InstanceId=demo.instance_id, HoursOfOperationId=MISSING),
            "NotImplementedException", 501, "DescribeHoursOfOperation")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/no/such/path"), ("GET", "/"), ("POST", "/instance"), ("GET", "/users-summary"),
    ("DELETE", "/contact/chat"),
])
def test_unknown_path_is_404(server: Any, method: str, path: str) -> None:
    status, code, message = error_of(signed(server, method, path))
    assert status == 404
    assert code
    assert path in message or method in message


# a refused request changes nothing -----------------------------------------------------------------------
def snapshot(connect: Any, demo: Any, list_all: Lister) -> dict[str, Any]:
    iid = demo.instance_id
    state: dict[str, Any] = {
        name: list_all(connect, method, key, InstanceId=iid)
        for name, method, key in [
            ("users", "list_users", "UserSummaryList"),
            ("queues", "list_queues", "QueueSummaryList"),
            ("routing", "list_routing_profiles", "RoutingProfileSummaryList"),
            ("security", "list_security_profiles", "SecurityProfileSummaryList"),
            ("quick_connects", "list_quick_connects", "QuickConnectSummaryList"),
            ("flows", "list_contact_flows", "ContactFlowSummaryList"),
            ("origins", "list_approved_origins", "Origins"),
            ("attributes", "list_instance_attributes", "Attributes"),
        ]
    }
    state["basic_queue_quick_connects"] = list_all(
        connect, "list_queue_quick_connects", "QuickConnectSummaryList", InstanceId=iid, QueueId=demo.basic_queue)
    state["basic_routing_queues"] = list_all(
        connect, "list_routing_profile_queues", "RoutingProfileQueueConfigSummaryList", InstanceId=iid,
        RoutingProfileId=demo.basic_routing_profile)
    state["agent1"] = connect.describe_user(InstanceId=iid, UserId=demo.users["agent1"])["User"]
    state["instances"] = list_all(connect, "list_instances", "InstanceSummaryList")
    return state


def test_refused_requests_change_nothing(
    server: Any, connect: Any, raw_connect: Any, demo: Any, list_all: Lister, unique: Unique
) -> None:
    iid = demo.instance_id
    agent = demo.security_profiles["Agent"]
    qc_queue = {"QuickConnectType": "QUEUE", "QueueConfig": {"QueueId": demo.basic_queue,
                                                             "ContactFlowId": demo.queue_transfer_flow}}
    attempts: list[Callable[[], Any]] = [
        lambda: raw_connect.create_user(InstanceId=iid, Username=unique("x"), Password="Parley-test-1",
                                        SecurityProfileIds=[agent], RoutingProfileId=MISSING),
        lambda: raw_connect.create_user(InstanceId=iid, Username="agent2", Password="Parley-test-1",
                                        SecurityProfileIds=[agent], RoutingProfileId=demo.basic_routing_profile),
        lambda: raw_connect.create_user(InstanceId=iid, Username=unique("x"), Password="weak",
                                        SecurityProfileIds=[agent], RoutingProfileId=demo.basic_routing_profile),
        lambda: raw_connect.create_quick_connect(InstanceId=iid, Name=unique("x"), QuickConnectConfig={
            "QuickConnectType": "USER", "UserConfig": {"UserId": demo.users["agent1"],
                                                       "ContactFlowId": demo.queue_transfer_flow}}),
        lambda: raw_connect.create_quick_connect(InstanceId=iid, Name="Transfer-to-agent-2",
                                                 QuickConnectConfig=qc_queue),
        lambda: raw_connect.associate_queue_quick_connects(InstanceId=iid, QueueId=demo.basic_queue,
                                                           QuickConnectIds=[MISSING]),
        lambda: raw_connect.disassociate_queue_quick_connects(InstanceId=iid, QueueId=demo.basic_queue,
                                                              QuickConnectIds=[MISSING]),
        lambda: raw_connect.create_routing_profile(
            InstanceId=iid, Name=unique("x"), Description="x", DefaultOutboundQueueId=demo.basic_queue,
            MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": 11}]),
        lambda: raw_connect.associate_routing_profile_queues(
            InstanceId=iid, RoutingProfileId=demo.basic_routing_profile,
            QueueConfigs=[{"QueueReference": {"QueueId": demo.basic_queue, "Channel": "CHAT"}, "Priority": 1,
                           "Delay": 0}]),
        lambda: raw_connect.update_user_security_profiles(InstanceId=iid, UserId=demo.users["agent1"],
                                                          SecurityProfileIds=[agent, MISSING]),
        lambda: raw_connect.update_user_routing_profile(InstanceId=iid, UserId=demo.users["agent1"],
                                                        RoutingProfileId=MISSING),
        lambda: raw_connect.update_user_identity_info(InstanceId=iid, UserId=demo.users["agent1"],
                                                      IdentityInfo={"FirstName": "x" * 300}),
        lambda: raw_connect.update_instance_attribute(InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE",
                                                      Value="nope"),
        lambda: raw_connect.associate_approved_origin(InstanceId=iid, Origin="ftp://files.example.com"),
        lambda: raw_connect.associate_approved_origin(InstanceId=iid, Origin="http://localhost:8080"),
        lambda: raw_connect.create_security_profile(InstanceId=iid, SecurityProfileName="Agent"),
        lambda: raw_connect.create_queue(InstanceId=iid, Name=unique("x"), HoursOfOperationId=MISSING),
        lambda: raw_connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias="demo",
                                            InboundCallsEnabled=True, OutboundCallsEnabled=True),
        lambda: raw_connect.delete_quick_connect(InstanceId=iid, QuickConnectId=MISSING),
        lambda: raw_connect.delete_user(InstanceId=iid, UserId=MISSING),
        lambda: server.connect(secret="wrong").delete_user(InstanceId=iid, UserId=demo.users["agent5"]),
        lambda: raw_connect.list_prompts(InstanceId=iid),
    ]
    before = snapshot(connect, demo, list_all)
    for attempt in attempts:
        with pytest.raises(ClientError) as caught:
            attempt()
        status = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
        assert 400 <= status < 500 or status == 501, caught.value
    raw = [
        ("PUT", f"/quick-connects/{iid}", b'{"Name": "half", "QuickConnectConfig": '),
        ("PUT", f"/users/{iid}", b'{"Username": ["agent9"]}'),
        ("POST", f"/queues/{iid}/{demo.basic_queue}/associate-quick-connects", b'{"QuickConnectIds": "all"}'),
    ]
    for method, path, body in raw:
        assert signed(server, method, path, body).status_code == 400
    assert snapshot(connect, demo, list_all) == before


# no input produces a 500 ---------------------------------------------------------------------------------
CHAT = b'{"InstanceId": "{iid}", "ContactFlowId": "x", "ParticipantDetails": {"DisplayName": "a"}, '

ODD_REQUESTS: list[tuple[str, str, bytes]] = [
    ("GET", "/users/{iid}/%2e%2e", b""),
    ("GET", "/users/{iid}/%ff%fe", b""),
    ("GET", "/users/{iid}/" + "a" * 2000, b""),
    ("GET", "/queues-summary/{iid}?queueTypes=STANDARD&queueTypes=", b""),
    ("GET", "/quick-connects/{iid}?maxResults=99999999999999999999999", b""),
    ("GET", "/quick-connects/{iid}?maxResults=-1", b""),
    ("GET", "/quick-connects/{iid}?nextToken=%00", b""),
    ("PUT", "/contact/chat", CHAT + b'"ChatDurationInMinutes": 1e400}'),
    ("PUT", "/contact/chat", CHAT + b'"ChatDurationInMinutes": 99999999999999999999999999}'),
    ("PUT", "/contact/chat", b'{"InstanceId": null, "ContactFlowId": null, "ParticipantDetails": null}'),
    ("PUT", "/contact/chat", CHAT + b'"Attributes": []}'),
    ("PUT", "/contact/chat", b"{}"),
    ("PUT", "/contact/chat", b""),
    ("PUT", "/users/{iid}", b'{"Username": "\\u0000", "SecurityProfileIds": [], "RoutingProfileId": ""}'),
    ("POST", "/contact/attributes", b'{"InstanceId": "{iid}", "InitialContactId": "x", "Attributes": {"a": null}}'),
    ("PUT", "/quick-connects/{iid}", b'{"Name": "\\ud800", "QuickConnectConfig": {"QuickConnectType": "FLOW", '
                                     b'"FlowConfig": {"ContactFlowId": "nope"}}}'),
    ("POST", "/instance/{iid}/attribute/MULTI_PARTY_CHAT_CONFERENCE", b'{"Value": 1}'),
    ("PUT", "/instance", b'{"IdentityManagementType": "CONNECT_MANAGED", "InboundCallsEnabled": "yes", '
                         b'"OutboundCallsEnabled": true}'),
]


@pytest.mark.parametrize(("method", "path", "body"), ODD_REQUESTS)
def test_no_input_produces_a_500(server: Any, demo: Any, method: str, path: str, body: bytes) -> None:
    iid = demo.instance_id
    response = signed(server, method, path.replace("{iid}", iid), body.replace(b"{iid}", iid.encode()))
    assert response.status_code < 500, response.text
    assert response.headers.get("x-amzn-RequestId")
    if response.status_code >= 400:
        assert response.headers.get("x-amzn-ErrorType")
        assert response.json()["Message"]


def test_errors_are_json_with_request_id(server: Any, demo: Any) -> None:
    response = signed(server, "GET", f"/users/{demo.instance_id}/{MISSING}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert uuid.UUID(response.headers["x-amzn-RequestId"])
    assert MISSING in response.json()["Message"]

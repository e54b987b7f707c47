"""Connect API through boto3: StartChatContact, StopContact, DescribeContact and contact attributes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

Refused = Callable[..., dict[str, Any]]


@pytest.fixture
def start(connect: Any, demo: Any) -> Callable[..., dict[str, Any]]:
    """Start a chat on the demo instance's "Sample inbound flow"; keyword arguments override the request."""

    def run(**overrides: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"InstanceId": demo.instance_id, "ContactFlowId": demo.inbound_flow,
                                  "ParticipantDetails": {"DisplayName": "Jane Customer"}, **overrides}
        return dict(connect.start_chat_contact(**params))

    return run


def describe(connect: Any, demo: Any, contact_id: str) -> dict[str, Any]:
    return dict(connect.describe_contact(InstanceId=demo.instance_id, ContactId=contact_id)["Contact"])


def test_start_chat_contact_and_describe_it(connect: Any, demo: Any, start: Any) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    started = start(Attributes={"customerTier": "gold"})
    assert set(started) >= {"ContactId", "ParticipantId", "ParticipantToken"}
    assert started["ContactId"] != started["ParticipantId"]
    assert len(started["ParticipantToken"]) >= 20

    contact = describe(connect, demo, started["ContactId"])
    cid = started["ContactId"]
    assert contact["Id"] == cid
    assert contact["Arn"] == f"arn:aws:connect:us-west-2:123456789012:instance/{demo.instance_id}/contact/{cid}"
    assert contact["InitialContactId"] == cid
    assert "PreviousContactId" not in contact
    assert contact["Channel"] == "CHAT"
    assert contact["InitiationMethod"] == "API"
    assert contact["QueueInfo"]["Id"] == demo.basic_queue
    assert contact["QueueInfo"]["EnqueueTimestamp"] >= before
    assert contact["InitiationTimestamp"] >= before
    assert contact["LastUpdateTimestamp"] >= contact["InitiationTimestamp"]
    assert "DisconnectTimestamp" not in contact
    assert "AgentInfo" not in contact
    assert contact["Attributes"] == {"customerTier": "gold"}


def test_each_start_is_a_new_contact(start: Any) -> None:
    first, second = start(), start()
    assert first["ContactId"] != second["ContactId"]
    assert first["ParticipantToken"] != second["ParticipantToken"]


def test_client_token_makes_start_idempotent(start: Any) -> None:
    token = str(uuid.uuid4())
    first = start(ClientToken=token)
    again = start(ClientToken=token)
    for key in ("ContactId", "ParticipantId", "ParticipantToken"):
        assert again[key] == first[key]
    other = start(ClientToken=str(uuid.uuid4()))
    assert other["ContactId"] != first["ContactId"]


def test_initial_message(connect: Any, demo: Any, start: Any, raw_connect: Any, refused: Refused) -> None:
    started = start(InitialMessage={"ContentType": "text/plain", "Content": "Hello, I need help"})
    assert describe(connect, demo, started["ContactId"])["Channel"] == "CHAT"
    started = start(InitialMessage={"ContentType": "text/markdown", "Content": "**Hello**"},
                    SupportedMessagingContentTypes=["text/plain", "text/markdown"])
    assert started["ContactId"]

    base = {"InstanceId": demo.instance_id, "ContactFlowId": demo.inbound_flow,
            "ParticipantDetails": {"DisplayName": "Jane"}}
    refused(lambda: connect.start_chat_contact(**base, InitialMessage={"ContentType": "text/markdown",
                                                                       "Content": "**Hi**"}),
            "InvalidParameterException", 400, "text/markdown", "SupportedMessagingContentTypes")
    refused(lambda: connect.start_chat_contact(**base, InitialMessage={"ContentType": "image/png",
                                                                       "Content": "x"}),
            "InvalidParameterException", 400, "image/png")
    refused(lambda: raw_connect.start_chat_contact(**base, InitialMessage={"ContentType": "text/plain",
                                                                           "Content": "x" * 16385}),
            "InvalidParameterException", 400, "at 'initialMessage.content' failed to satisfy constraint",
            "Member must have length less than or equal to 16384")
    # 16,384 characters that take more than 16,384 bytes: the limit is in bytes.
    refused(lambda: connect.start_chat_contact(**base, InitialMessage={"ContentType": "text/plain",
                                                                       "Content": "é" * 9000}),
            "InvalidParameterException", 400, "16,384 bytes")
    refused(lambda: raw_connect.start_chat_contact(**base, InitialMessage={"ContentType": "text/plain"}),
            "InvalidParameterException", 400,
            "Value null at 'initialMessage.content' failed to satisfy constraint: Member must not be null")
    refused(lambda: connect.start_chat_contact(**base, SupportedMessagingContentTypes=["text/markdown"]),
            "InvalidParameterException", 400, "text/plain")


def test_attributes_are_limited_in_total_size(
    connect: Any, demo: Any, raw_connect: Any, refused: Refused
) -> None:
    base = {"InstanceId": demo.instance_id, "ContactFlowId": demo.inbound_flow,
            "ParticipantDetails": {"DisplayName": "Jane"}}
    refused(lambda: connect.start_chat_contact(**base, Attributes={"a": "x" * 20000, "b": "y" * 20000}),
            "InvalidParameterException", 400, "32768")
    refused(lambda: raw_connect.start_chat_contact(**base, Attributes={"": "empty key"}),
            "InvalidParameterException", 400, "failed to satisfy constraint",
            "Member must have length greater than or equal to 1")


@pytest.mark.parametrize("minutes", [60, 10080])
def test_chat_duration_bounds_accepted(connect: Any, demo: Any, start: Any, minutes: int) -> None:
    started = start(ChatDurationInMinutes=minutes)
    assert describe(connect, demo, started["ContactId"])["Id"] == started["ContactId"]


@pytest.mark.parametrize(("minutes", "bound"), [
    (59, "greater than or equal to 60"), (10081, "less than or equal to 10080"), (0, "greater than or equal to 60"),
])
def test_chat_duration_out_of_bounds_refused(
    raw_connect: Any, demo: Any, refused: Refused, minutes: int, bound: str
) -> None:
    refused(
        lambda: raw_connect.start_chat_contact(
            InstanceId=demo.instance_id, ContactFlowId=demo.inbound_flow,
            ParticipantDetails={"DisplayName": "Jane"}, ChatDurationInMinutes=minutes),
        "InvalidParameterException", 400,
        f"1 validation error detected: Value '{minutes}' at 'chatDurationInMinutes' failed to satisfy "
        f"constraint: Member must have value {bound}",
    )


def test_start_chat_contact_refusals(
    connect: Any, raw_connect: Any, demo: Any, refused: Refused
) -> None:
    iid = demo.instance_id
    refused(lambda: raw_connect.start_chat_contact(InstanceId=iid, ContactFlowId=demo.inbound_flow),
            "InvalidParameterException", 400,
            "Value null at 'participantDetails' failed to satisfy constraint: Member must not be null")
    refused(lambda: raw_connect.start_chat_contact(InstanceId=iid, ContactFlowId=demo.inbound_flow,
                                                   ParticipantDetails={"DisplayName": ""}),
            "InvalidParameterException", 400, "at 'participantDetails.displayName' failed to satisfy constraint",
            "Member must have length greater than or equal to 1")
    missing = str(uuid.uuid4())
    refused(lambda: connect.start_chat_contact(InstanceId=iid, ContactFlowId=missing,
                                               ParticipantDetails={"DisplayName": "Jane"}),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.start_chat_contact(InstanceId=missing, ContactFlowId=demo.inbound_flow,
                                               ParticipantDetails={"DisplayName": "Jane"}),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.start_chat_contact(InstanceId=iid, ContactFlowId=demo.agent_transfer_flow,
                                               ParticipantDetails={"DisplayName": "Jane"}),
            "InvalidRequestException", 400, "Default agent transfer", "CONTACT_FLOW")
    refused(lambda: connect.start_chat_contact(InstanceId=iid, ContactFlowId=demo.inbound_flow,
                                               ParticipantDetails={"DisplayName": "Jane"},
                                               RelatedContactId=missing),
            "ResourceNotFoundException", 404, missing)


def test_related_contact(connect: Any, demo: Any, start: Any) -> None:
    first = start()
    second = start(RelatedContactId=first["ContactId"])
    contact = describe(connect, demo, second["ContactId"])
    assert contact["RelatedContactId"] == first["ContactId"]
    assert contact["InitialContactId"] == second["ContactId"]


def test_stop_contact_then_stop_again(connect: Any, demo: Any, start: Any, refused: Refused) -> None:
    started = start()
    cid = started["ContactId"]
    connect.stop_contact(InstanceId=demo.instance_id, ContactId=cid)
    contact = describe(connect, demo, cid)
    assert contact["DisconnectTimestamp"] >= contact["InitiationTimestamp"]
    assert contact["LastUpdateTimestamp"] >= contact["DisconnectTimestamp"]

    refused(lambda: connect.stop_contact(InstanceId=demo.instance_id, ContactId=cid),
            "ContactNotFoundException", 410, cid)
    assert describe(connect, demo, cid) == contact


def test_stop_and_describe_unknown_contact(connect: Any, demo: Any, refused: Refused) -> None:
    missing = str(uuid.uuid4())
    refused(lambda: connect.describe_contact(InstanceId=demo.instance_id, ContactId=missing),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.stop_contact(InstanceId=demo.instance_id, ContactId=missing),
            "ContactNotFoundException", 410, missing)
    refused(lambda: connect.stop_contact(InstanceId=str(uuid.uuid4()), ContactId=missing),
            "ResourceNotFoundException", 404)


def test_get_and_update_contact_attributes(connect: Any, demo: Any, start: Any, refused: Refused) -> None:
    iid = demo.instance_id
    cid = start(Attributes={"language": "en", "tier": "gold"})["ContactId"]
    assert connect.get_contact_attributes(InstanceId=iid, InitialContactId=cid)["Attributes"] == {
        "language": "en", "tier": "gold"
    }
    connect.update_contact_attributes(InstanceId=iid, InitialContactId=cid,
                                      Attributes={"tier": "platinum", "caseId": "C-42"})
    expected = {"language": "en", "tier": "platinum", "caseId": "C-42"}
    assert connect.get_contact_attributes(InstanceId=iid, InitialContactId=cid)["Attributes"] == expected
    assert describe(connect, demo, cid)["Attributes"] == expected

    refused(lambda: connect.update_contact_attributes(InstanceId=iid, InitialContactId=cid,
                                                      Attributes={"big": "x" * 32000, "bigger": "y" * 1000}),
            "InvalidParameterException", 400, "32768")
    assert connect.get_contact_attributes(InstanceId=iid, InitialContactId=cid)["Attributes"] == expected

    missing = str(uuid.uuid4())
    refused(lambda: connect.get_contact_attributes(InstanceId=iid, InitialContactId=missing),
            "ResourceNotFoundException", 404, missing)
    refused(lambda: connect.update_contact_attributes(InstanceId=iid, InitialContactId=missing,
                                                      Attributes={"a": "b"}),
            "ResourceNotFoundException", 404, missing)


def test_contact_without_attributes(connect: Any, demo: Any, start: Any) -> None:
    cid = start()["ContactId"]
    assert connect.get_contact_attributes(InstanceId=demo.instance_id, InitialContactId=cid)["Attributes"] == {}
    assert "Attributes" not in describe(connect, demo, cid)


def test_multi_party_flag_follows_the_instance(connect: Any, builtins_of: Callable[[str], Any]) -> None:
    iid = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InstanceAlias=f"contacts-{uuid.uuid4().hex[:10]}",
        InboundCallsEnabled=True, OutboundCallsEnabled=True,
    )["Id"]
    ids = builtins_of(iid)

    def multi_party() -> bool:
        cid = connect.start_chat_contact(InstanceId=iid, ContactFlowId=ids.inbound_flow,
                                         ParticipantDetails={"DisplayName": "Jane"})["ContactId"]
        contact = connect.describe_contact(InstanceId=iid, ContactId=cid)["Contact"]
        assert contact["QueueInfo"]["Id"] == ids.basic_queue
        return bool(contact["ChatMetrics"]["ChatContactMetrics"]["MultiParty"])

    assert multi_party() is False
    connect.update_instance_attribute(InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="true")
    assert multi_party() is True

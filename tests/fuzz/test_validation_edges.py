"""Regression tests for what the fuzzers found in the validation layer (``parley.aws.shapes``): a NUL character
in any string member (PostgreSQL answered 500 for ids holding one), ``$`` anchors that let a trailing newline
through, numbers in URIs and query strings read as Python reads them ("1_0", " 5", Arabic-Indic digits), and
error messages that echoed whole map keys. Each is refused with the service's validation error and changes
nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.chat_helpers import new_chat
from tests.aws.conftest import DemoIds, everything
from tests.conftest import Server
from tests.fuzz.conftest import Reply, check_answer, sign


def signed_get(http: httpx.Client, server: Server, path: str) -> Reply:
    url = server.url + path
    return Reply.of(http.get(url, headers=sign("GET", url, b"")))


def error(reply: Reply) -> tuple[int, str, str]:
    check_answer(reply, "a refused request")
    return reply.status, reply.headers.get("x-amzn-errortype", ""), str(json.loads(reply.body)["Message"])


@pytest.mark.parametrize("label", ["a%00b", "%00"])
def test_nul_in_a_uri_label_is_a_validation_error(fuzz_server: Server, http: httpx.Client, fdemo: DemoIds,
                                                  label: str) -> None:
    status, code, message = error(signed_get(http, fuzz_server, f"/users/{fdemo.instance_id}/{label}"))
    assert (status, code) == (400, "InvalidParameterException"), message
    assert "at 'userId' failed to satisfy constraint: Member must not contain the NUL character" in message
    status, code, message = error(signed_get(http, fuzz_server, f"/instance/{label}"))
    assert (status, code) == (400, "InvalidParameterException"), message


def test_nul_in_a_body_member_is_refused_and_changes_nothing(fconnect: Any, fraw_connect: Any, fparticipant: Any,
                                                            fraw_participant: Any, fdemo: DemoIds) -> None:
    chat = new_chat(fconnect, fparticipant, fdemo, bot=False)
    before = chat.customer.items()
    with pytest.raises(ClientError) as caught:
        fraw_participant.send_message(ConnectionToken=chat.customer.connection_token, ContentType="text/plain",
                                      Content="a\x00b")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must not contain the NUL character (U+0000)" in caught.value.response["Error"]["Message"]
    assert chat.customer.items() == before
    queues = everything(fconnect, "list_queues", "QueueSummaryList", InstanceId=fdemo.instance_id)
    with pytest.raises(ClientError) as caught:
        fraw_connect.create_quick_connect(InstanceId=fdemo.instance_id, Name="nul\x00name", QuickConnectConfig={
            "QuickConnectType": "QUEUE", "QueueConfig": {"QueueId": fdemo.basic_queue,
                                                         "ContactFlowId": fdemo.queue_transfer_flow}})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert everything(fconnect, "list_queues", "QueueSummaryList", InstanceId=fdemo.instance_id) == queues


@pytest.mark.parametrize("value", ["%205", "1_0", "%D9%A3", "5%20", "0x10", "%2B%2B1"])
def test_numbers_in_a_query_string_are_ascii_digits(fuzz_server: Server, http: httpx.Client, fdemo: DemoIds,
                                                    value: str) -> None:
    status, code, message = error(signed_get(http, fuzz_server, f"/users-summary/{fdemo.instance_id}"
                                                                f"?maxResults={value}"))
    assert (status, code) == (400, "InvalidParameterException"), message
    assert "at 'maxResults' failed to satisfy constraint: Member must be a number" in message


def test_signed_numbers_still_read(fuzz_server: Server, http: httpx.Client, fdemo: DemoIds) -> None:
    reply = signed_get(http, fuzz_server, f"/users-summary/{fdemo.instance_id}?maxResults=%2B5")
    assert reply.status == 200, reply
    assert len(json.loads(reply.body)["UserSummaryList"]) <= 5


def test_a_trailing_newline_does_not_satisfy_a_pattern(fconnect: Any, fraw_connect: Any, fdemo: DemoIds) -> None:
    """CreateUser's Password pattern ends in ``$``: ``"Parley-fuzz-1\\n"`` does not match it."""
    users = everything(fconnect, "list_users", "UserSummaryList", InstanceId=fdemo.instance_id)
    with pytest.raises(ClientError) as caught:
        fraw_connect.create_user(
            InstanceId=fdemo.instance_id, Username="newline-password", Password="Parley-fuzz-1\n",
            PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[fdemo.security_profiles["Agent"]],
            RoutingProfileId=fdemo.basic_routing_profile)
    response = caught.value.response
    assert response["Error"]["Code"] == "InvalidParameterException", response
    assert "Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern" in \
        response["Error"]["Message"]
    assert everything(fconnect, "list_users", "UserSummaryList", InstanceId=fdemo.instance_id) == users


def test_error_messages_cut_long_map_keys(fraw_connect: Any, fdemo: DemoIds, fconnect: Any, fparticipant: Any) -> None:
    chat = new_chat(fconnect, fparticipant, fdemo, bot=False)
    key = "k" * 5000
    with pytest.raises(ClientError) as caught:
        fraw_connect.update_contact_attributes(InstanceId=fdemo.instance_id, InitialContactId=chat.contact_id,
                                               Attributes={key: None})
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException", message
    assert len(message) < 1000, len(message)
    assert "Value null at 'attributes.kkkk" in message and "….value' failed to satisfy constraint" in message

"""Per-instance rate limits answer 429 ThrottlingException, as Connect does, and are off in --demo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, serving


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    with serving(["--demo", "--rate-limits", "on", "--rate-limit", "SendMessage=0.5/2",
                  "--rate-limit", "StartChatContact=0.5/2"]) as srv:
        yield srv


def _start(connect: Any) -> dict[str, Any]:
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    return dict(connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow,
                                           ParticipantDetails={"DisplayName": "T"}))


def test_send_message_is_throttled_per_instance(limited: Server) -> None:
    connect = limited.connect()
    started = _start(connect)
    part = boto3.client("connectparticipant", endpoint_url=limited.url, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=BotoConfig(retries={"max_attempts": 1}))
    token = part.create_participant_connection(
        ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"]
    part.send_message(ConnectionToken=token, ContentType="text/plain", Content="1")
    part.send_message(ConnectionToken=token, ContentType="text/plain", Content="2")
    with pytest.raises(ClientError) as exc:
        part.send_message(ConnectionToken=token, ContentType="text/plain", Content="3")
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "Rate exceeded" in exc.value.response["Error"]["Message"]
    transcript = part.get_transcript(ConnectionToken=token, MaxResults=100)["Transcript"]
    assert sorted(i["Content"] for i in transcript if i["Type"] == "MESSAGE") == ["1", "2"], "throttled call stored"


def test_connect_api_is_throttled(limited: Server) -> None:
    connect = limited.connect()
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    with pytest.raises(ClientError) as exc:
        for _ in range(3):  # the bucket holds 2 (and refills at 0.5/s)
            connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow, ParticipantDetails={"DisplayName": "T"})
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_demo_has_no_limits(server: Server, connect: Any) -> None:
    for _ in range(12):
        _start(connect)

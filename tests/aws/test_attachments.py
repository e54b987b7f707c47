"""Attachments through boto3 connectparticipant and the upload / download URLs Parley hands out."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server


def participant_client(url: str) -> Any:
    return boto3.client("connectparticipant", endpoint_url=url, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture()
def chat(server: Server, connect: Any, demo_id: str) -> dict[str, Any]:
    flows = connect.list_contact_flows(InstanceId=demo_id)["ContactFlowSummaryList"]
    flow = next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")
    started = connect.start_chat_contact(InstanceId=demo_id, ContactFlowId=flow,
                                         ParticipantDetails={"DisplayName": "Ann"})
    part = participant_client(server.url)
    conn = part.create_participant_connection(ParticipantToken=started["ParticipantToken"],
                                              Type=["CONNECTION_CREDENTIALS"])
    bot = connect.create_participant(InstanceId=demo_id, ContactId=started["ContactId"],
                                     ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"})
    bot_conn = part.create_participant_connection(
        ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"])
    return {"part": part, "token": conn["ConnectionCredentials"]["ConnectionToken"],
            "bot": bot_conn["ConnectionCredentials"]["ConnectionToken"], **started}


def upload(chat: dict[str, Any], name: str, content_type: str, data: bytes) -> str:
    part = chat["part"]
    started = part.start_attachment_upload(ConnectionToken=chat["token"], ContentType=content_type,
                                           AttachmentSizeInBytes=len(data), AttachmentName=name,
                                           ClientToken=str(uuid.uuid4()))
    meta = started["UploadMetadata"]
    assert meta["HeadersToInclude"] == {"Content-Type": content_type}
    put = httpx.put(meta["Url"], content=data, headers=meta["HeadersToInclude"])
    assert put.status_code == 200, put.text
    part.complete_attachment_upload(ConnectionToken=chat["token"], AttachmentIds=[started["AttachmentId"]],
                                    ClientToken=str(uuid.uuid4()))
    return str(started["AttachmentId"])


def test_upload_complete_download_round_trip(chat: dict[str, Any]) -> None:
    data = "héllo, attachment".encode()
    attachment_id = upload(chat, "note.txt", "text/plain", data)
    part = chat["part"]
    got = part.get_attachment(ConnectionToken=chat["token"], AttachmentId=attachment_id,
                              UrlExpiryInSeconds=60, UrlContentDisposition="INLINE")
    assert got["AttachmentSizeInBytes"] == len(data)
    response = httpx.get(got["Url"])
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("inline")
    assert response.headers["access-control-allow-origin"] == "*"
    items = part.get_transcript(ConnectionToken=chat["token"], SortOrder="ASCENDING", MaxResults=100)["Transcript"]
    attachment_items = [i for i in items if i["Type"] == "ATTACHMENT"]
    assert len(attachment_items) == 1
    assert attachment_items[0]["Attachments"] == [
        {"ContentType": "text/plain", "AttachmentId": attachment_id, "AttachmentName": "note.txt",
         "Status": "APPROVED"}
    ]


def test_bots_may_not_download(chat: dict[str, Any]) -> None:
    attachment_id = upload(chat, "a.txt", "text/plain", b"x")
    with pytest.raises(ClientError) as exc:
        chat["part"].get_attachment(ConnectionToken=chat["bot"], AttachmentId=attachment_id)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(("name", "content_type", "size", "message"), [
    ("evil.exe", "application/octet-stream", 10, "not allowed"),
    ("photo.png", "text/plain", 10, "does not match"),
    ("big.pdf", "application/pdf", 21 * 1024 * 1024, "bytes"),
])
def test_refused_uploads(chat: dict[str, Any], name: str, content_type: str, size: int, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        chat["part"].start_attachment_upload(ConnectionToken=chat["token"], ContentType=content_type,
                                             AttachmentSizeInBytes=size, AttachmentName=name,
                                             ClientToken=str(uuid.uuid4()))
    error = exc.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert message in error["Message"]
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_complete_before_upload_is_a_conflict(chat: dict[str, Any]) -> None:
    part = chat["part"]
    started = part.start_attachment_upload(ConnectionToken=chat["token"], ContentType="text/plain",
                                           AttachmentSizeInBytes=3, AttachmentName="x.txt",
                                           ClientToken=str(uuid.uuid4()))
    with pytest.raises(ClientError) as exc:
        part.complete_attachment_upload(ConnectionToken=chat["token"], AttachmentIds=[started["AttachmentId"]],
                                        ClientToken=str(uuid.uuid4()))
    assert exc.value.response["Error"]["Code"] == "ConflictException"
    items = part.get_transcript(ConnectionToken=chat["token"], MaxResults=100)["Transcript"]
    assert not [i for i in items if i["Type"] == "ATTACHMENT"]


def test_upload_url_checks_ticket_and_size(chat: dict[str, Any]) -> None:
    part = chat["part"]
    started = part.start_attachment_upload(ConnectionToken=chat["token"], ContentType="text/plain",
                                           AttachmentSizeInBytes=3, AttachmentName="x.txt",
                                           ClientToken=str(uuid.uuid4()))
    url = started["UploadMetadata"]["Url"]
    assert httpx.put(url.split("?")[0] + "?ticket=forged", content=b"abc",
                     headers={"Content-Type": "text/plain"}).status_code == 403
    assert httpx.put(url, content=b"abcd", headers={"Content-Type": "text/plain"}).status_code == 400
    assert httpx.put(url, content=b"abc", headers={"Content-Type": "text/plain"}).status_code == 200


def test_start_upload_is_idempotent(chat: dict[str, Any]) -> None:
    token = str(uuid.uuid4())
    args = {"ConnectionToken": chat["token"], "ContentType": "text/plain", "AttachmentSizeInBytes": 2,
            "AttachmentName": "y.txt", "ClientToken": token}
    first = chat["part"].start_attachment_upload(**args)
    again = chat["part"].start_attachment_upload(**args)
    assert first["AttachmentId"] == again["AttachmentId"]

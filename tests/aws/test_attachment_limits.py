"""Attachment limits and delivery, through boto3 ``connectparticipant``, the upload URL and participant websockets:
Connect's 20 MB boundary (20 * 1024 * 1024 bytes, as Connect's ``MaximumSizeLimitInBytes`` counts its
100 MB maximum as 104857600), the 35-attachments-per-chat quota, the upload URL's body cap (more than declared,
more than the limit, refused while reading), its CORS preflight, and attachment items pushed to the other
participant's websocket."""

from __future__ import annotations

import hashlib
import socket
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.chat_helpers import Chat, Party, new_chat, participant_client
from tests.aws.conftest import DemoIds
from tests.conftest import Server

MB = 1024 * 1024
# Connect's attachment size limit and per-chat count (feature specifications: 20MB, 35 per chat conversation).
LIMIT = 20 * MB
PER_CHAT = 35
# How long a test waits for the server to answer an upload (20 MB through a loaded machine).
WAIT = 60.0


@pytest.fixture
def chat(server: Server, connect: Any, demo: DemoIds) -> Chat:
    return new_chat(connect, participant_client(server.url), demo)


def start_upload(party: Party, name: str, content_type: str, size: int) -> dict[str, Any]:
    return dict(party.client.start_attachment_upload(
        ConnectionToken=party.connection_token, ContentType=content_type, AttachmentSizeInBytes=size,
        AttachmentName=name, ClientToken=str(uuid.uuid4())))


def complete(party: Party, attachment_id: str) -> None:
    party.client.complete_attachment_upload(ConnectionToken=party.connection_token, AttachmentIds=[attachment_id],
                                            ClientToken=str(uuid.uuid4()))


def upload(party: Party, name: str, content_type: str, data: bytes) -> str:
    started = start_upload(party, name, content_type, len(data))
    meta = started["UploadMetadata"]
    put = httpx.put(meta["Url"], content=data, headers=meta["HeadersToInclude"], timeout=WAIT)
    assert put.status_code == 200, put.text
    complete(party, started["AttachmentId"])
    return str(started["AttachmentId"])


def attachment_items(party: Party) -> list[dict[str, Any]]:
    return [i for i in party.items() if i["Type"] == "ATTACHMENT"]


def assert_not_completed(party: Party, attachment_id: str) -> None:
    """A refused upload stored nothing: completing it is a conflict and the transcript has no attachment."""
    with pytest.raises(ClientError) as exc:
        complete(party, attachment_id)
    assert exc.value.response["Error"]["Code"] == "ConflictException", exc.value.response
    assert all(a["AttachmentId"] != attachment_id
               for item in attachment_items(party) for a in item["Attachments"])


def test_exactly_20_mb_is_accepted_and_one_byte_more_is_not(chat: Chat) -> None:
    customer = chat.customer
    data = bytes(range(256)) * (LIMIT // 256)
    assert len(data) == LIMIT
    attachment_id = upload(customer, "limit.pdf", "application/pdf", data)
    got = customer.client.get_attachment(ConnectionToken=customer.connection_token, AttachmentId=attachment_id,
                                         UrlExpiryInSeconds=60)
    assert got["AttachmentSizeInBytes"] == LIMIT
    download = httpx.get(got["Url"], timeout=WAIT)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(data).hexdigest()

    with pytest.raises(ClientError) as exc:
        start_upload(customer, "over.pdf", "application/pdf", LIMIT + 1)
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert str(LIMIT) in exc.value.response["Error"]["Message"]


def test_35_attachments_per_chat(chat: Chat) -> None:
    customer, bot = chat.customer, chat.bot
    assert bot is not None
    for n in range(PER_CHAT):
        upload(customer, f"file-{n}.txt", "text/plain", f"attachment {n}".encode())
    for party in (customer, bot):  # the quota is the chat's, not the uploader's
        with pytest.raises(ClientError) as exc:
            start_upload(party, "one-too-many.txt", "text/plain", 5)
        error = exc.value.response
        assert error["Error"]["Code"] == "ServiceQuotaExceededException", error
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 402
        assert str(PER_CHAT) in error["Error"]["Message"]
    names = [a["AttachmentName"] for item in attachment_items(customer) for a in item["Attachments"]]
    assert sorted(names) == sorted(f"file-{n}.txt" for n in range(PER_CHAT))


def test_a_body_bigger_than_declared_is_refused(chat: Chat) -> None:
    customer = chat.customer
    started = start_upload(customer, "small.txt", "text/plain", 1024)
    meta = started["UploadMetadata"]
    put = httpx.put(meta["Url"], content=b"y" * (2 * MB), headers=meta["HeadersToInclude"], timeout=WAIT)
    assert put.status_code in (400, 413), put.text
    assert "Message" in put.json()
    assert_not_completed(customer, started["AttachmentId"])
    # The upload URL still takes the declared bytes afterwards.
    again = httpx.put(meta["Url"], content=b"z" * 1024, headers=meta["HeadersToInclude"], timeout=WAIT)
    assert again.status_code == 200, again.text
    complete(customer, started["AttachmentId"])


class RawUpload:
    """A PUT over a raw socket that declares ``declared`` bytes and sends ``sending`` of them, while a reader
    thread collects whatever the server answers (it may answer, and close, before the body is complete)."""

    def __init__(self, url: str, content_type: str, declared: int, sending: int) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
        self.reply = b""
        self.sent = 0
        self._answered = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        head = (f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {declared}\r\n\r\n")
        self.sock.sendall(head.encode())
        self._reader.start()
        chunk = b"x" * 65536
        try:
            while self.sent < sending and not self._answered.is_set():
                self.sock.sendall(chunk[:sending - self.sent])
                self.sent += min(len(chunk), sending - self.sent)
        except OSError:
            pass  # the server answered and closed: what it said is in ``reply``

    def _read(self) -> None:
        try:
            while b"\r\n\r\n" not in self.reply:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.reply += data
        except OSError:
            pass
        finally:
            self._answered.set()

    def status(self) -> int:
        assert self._answered.wait(WAIT), f"no answer {WAIT}s after {self.sent} bytes of the body"
        self.sock.close()
        assert self.reply.startswith(b"HTTP/1.1 "), self.reply[:200]
        return int(self.reply.split(b" ", 2)[1])


def test_a_body_over_the_limit_is_refused_while_reading(chat: Chat, server: Server) -> None:
    """The client declares 200 MB and sends 21 MB, then waits: the server must answer without the rest."""
    customer = chat.customer
    started = start_upload(customer, "big.pdf", "application/pdf", LIMIT)
    raw = RawUpload(started["UploadMetadata"]["Url"], "application/pdf", declared=200 * MB, sending=LIMIT + MB)
    assert raw.status() in (400, 413), raw.reply[:500]
    assert_not_completed(customer, started["AttachmentId"])
    assert httpx.get(f"{server.url}/health", timeout=WAIT).status_code == 200


def test_upload_url_answers_the_cors_preflight(chat: Chat) -> None:
    started = start_upload(chat.customer, "pre.txt", "text/plain", 3)
    url = started["UploadMetadata"]["Url"]
    preflight = httpx.options(url, headers={
        "Origin": "https://widget.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
    }, timeout=WAIT)
    assert preflight.status_code in (200, 204), preflight.text
    headers = preflight.headers
    assert headers["access-control-allow-origin"] in ("*", "https://widget.example")
    assert "PUT" in [m.strip() for m in headers["access-control-allow-methods"].split(",")]
    assert "content-type" in [h.strip().lower() for h in headers["access-control-allow-headers"].split(",")]
    # The preflight did not consume the upload: the PUT that follows it works.
    put = httpx.put(url, content=b"abc", headers={"Content-Type": "text/plain", "Origin": "https://widget.example"},
                    timeout=WAIT)
    assert put.status_code == 200 and put.headers["access-control-allow-origin"] in ("*", "https://widget.example")


def test_attachment_items_are_pushed_to_the_other_participant(chat: Chat) -> None:
    customer, bot = chat.customer, chat.bot
    assert bot is not None
    watching = bot.socket()
    try:
        attachment_id = upload(customer, "photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        pushed = watching.wait_item(lambda i: i["Type"] == "ATTACHMENT")
    finally:
        watching.close()
    assert pushed["ParticipantId"] == customer.participant_id
    assert pushed["ParticipantRole"] == "CUSTOMER"
    assert pushed["ContentType"] == "image/png"
    assert pushed["Attachments"] == [{"ContentType": "image/png", "AttachmentId": attachment_id,
                                      "AttachmentName": "photo.png", "Status": "APPROVED"}]
    (stored,) = attachment_items(bot)
    assert stored["Id"] == pushed["Id"]

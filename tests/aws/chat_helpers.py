"""Helpers for the Participant Service acceptance tests: boto3 ``connectparticipant`` clients, chats started
on the demo instance through the Connect API, a CUSTOM_BOT joined with CreateParticipant, and participant
websockets (the ``websockets`` library, one reader thread per socket) that collect ``aws/chat`` items.

The item content types and the subscribe frame are the shipped client's (:mod:`parley.client.items`,
:mod:`parley.client.stream`). The calls stay boto3's (a real AWS client), and :class:`Socket` stays a plain socket
on purpose: it keeps every frame and the close code, and never reconnects, catches up or drops a repeated item as
``parley.client``'s stream does, so the tests see what the server really sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from parley.client.items import CHAT_ENDED as CHAT_ENDED
from parley.client.items import DELIVERED as DELIVERED
from parley.client.items import JOINED as JOINED
from parley.client.items import LEFT as LEFT
from parley.client.items import METADATA as METADATA
from parley.client.items import READ as READ
from parley.client.items import TYPING as TYPING
from parley.client.stream import SUBSCRIBE

REGION = "us-west-2"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"
ALL_MESSAGE_TYPES = ["text/plain", "text/markdown", "application/json", INTERACTIVE_RESPONSE]
# How long a test waits for something pushed over a websocket before it fails.
WAIT = 10.0


def participant_client(url: str, *, validate: bool = True) -> Any:
    """A boto3 ``connectparticipant`` client against Parley (its SigV4 signature is ignored by the server)."""
    return boto3.client(
        "connectparticipant", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
        aws_secret_access_key="x",
        config=BotoConfig(parameter_validation=validate, retries={"max_attempts": 1}, max_pool_connections=64),
    )


@dataclass
class Party:
    """One participant of a chat with its credentials; methods call the Participant Service as it."""

    client: Any
    contact_id: str
    participant_id: str
    participant_token: str
    connection_token: str
    websocket_url: str
    grant: dict[str, Any] = field(default_factory=dict)

    def send(self, content: str, content_type: str = "text/plain", **extra: Any) -> dict[str, Any]:
        return dict(self.client.send_message(ConnectionToken=self.connection_token, ContentType=content_type,
                                             Content=content, **extra))

    def event(self, content_type: str, content: str | None = None, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"ConnectionToken": self.connection_token, "ContentType": content_type, **extra}
        if content is not None:
            params["Content"] = content
        return dict(self.client.send_event(**params))

    def read_receipt(self, message_id: str, client_token: str | None = None) -> dict[str, Any]:
        extra = {"ClientToken": client_token} if client_token else {}
        return self.event(READ, json.dumps({"messageId": message_id}), **extra)

    def transcript(self, **params: Any) -> dict[str, Any]:
        return dict(self.client.get_transcript(ConnectionToken=self.connection_token, **params))

    def items(self) -> list[dict[str, Any]]:
        """The whole transcript, oldest first, walked backward page by page with NextToken."""
        pages: list[list[dict[str, Any]]] = []
        params: dict[str, Any] = {"MaxResults": 100, "ScanDirection": "BACKWARD", "SortOrder": "ASCENDING"}
        while True:
            page = self.transcript(**params)
            pages.insert(0, page["Transcript"])
            if not page.get("NextToken"):
                return [item for chunk in pages for item in chunk]
            params["NextToken"] = page["NextToken"]

    def new_websocket_url(self) -> str:
        grant = self.client.create_participant_connection(ParticipantToken=self.participant_token,
                                                          Type=["WEBSOCKET"])
        return str(grant["Websocket"]["Url"])

    def socket(self) -> Socket:
        """A new subscribed websocket of this participant."""
        return Socket.open(self.new_websocket_url())

    def disconnect(self) -> None:
        self.client.disconnect_participant(ConnectionToken=self.connection_token)


@dataclass
class Chat:
    contact_id: str
    customer: Party
    bot: Party | None = None


def start_chat(connect: Any, demo: Any, **overrides: Any) -> dict[str, Any]:
    """StartChatContact on the demo instance's inbound flow; keyword arguments override the request."""
    params: dict[str, Any] = {"InstanceId": demo.instance_id, "ContactFlowId": demo.inbound_flow,
                              "ParticipantDetails": {"DisplayName": "Jane Customer"}, **overrides}
    return dict(connect.start_chat_contact(**params))


def add_bot(connect: Any, demo: Any, contact_id: str, name: str = "Helper Bot") -> dict[str, Any]:
    """Connect CreateParticipant with role CUSTOM_BOT."""
    return dict(connect.create_participant(
        InstanceId=demo.instance_id, ContactId=contact_id,
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": name},
    ))


def join(client: Any, contact_id: str, participant_id: str, participant_token: str) -> Party:
    """CreateParticipantConnection with both types and ConnectParticipant, as ChatJS's connect() does."""
    grant = dict(client.create_participant_connection(
        ParticipantToken=participant_token, Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ConnectParticipant=True,
    ))
    return Party(client, contact_id, participant_id, participant_token,
                 grant["ConnectionCredentials"]["ConnectionToken"], grant["Websocket"]["Url"], grant)


def new_chat(connect: Any, client: Any, demo: Any, *, bot: bool = True, **overrides: Any) -> Chat:
    """A started chat with its customer connected and, unless ``bot=False``, a connected CUSTOM_BOT."""
    started = start_chat(connect, demo, **overrides)
    contact_id = started["ContactId"]
    customer = join(client, contact_id, started["ParticipantId"], started["ParticipantToken"])
    chat = Chat(contact_id, customer)
    if bot:
        created = add_bot(connect, demo, contact_id)
        chat.bot = join(client, contact_id, created["ParticipantId"],
                        created["ParticipantCredentials"]["ParticipantToken"])
    return chat


class Socket:
    """A subscribed participant websocket whose reader thread collects every frame it receives."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.frames: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self.close_code: int | None = None
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def open(cls, url: str, *, subscribe: bool = True) -> Socket:
        sock = cls(ws_connect(url, open_timeout=WAIT, max_size=None, max_queue=None, proxy=None, legacy=True))
        if subscribe:
            sock.conn.send(SUBSCRIBE)
            sock.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        return sock

    def send(self, frame: dict[str, Any]) -> None:
        self.conn.send(json.dumps(frame))

    def _read(self) -> None:
        try:
            for raw in self.conn:
                frame = json.loads(raw)
                with self._changed:
                    self.frames.append(frame)
                    if frame.get("topic") == "aws/chat":
                        assert isinstance(frame["content"], str), frame  # ChatJS JSON.parses the content
                        self.items.append(json.loads(frame["content"]))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.conn.close_code
            with self._changed:
                self.closed.set()
                self._changed.notify_all()

    def _wait(self, ready: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = ready()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; items: {self.items}")
                self._changed.wait(left)

    def wait_frame(self, match: Callable[[dict[str, Any]], bool], timeout: float = WAIT) -> dict[str, Any]:
        return dict(self._wait(lambda: next((f for f in self.frames if match(f)), None), "a frame", timeout))

    def wait_item(self, match: Callable[[dict[str, Any]], bool], timeout: float = WAIT) -> dict[str, Any]:
        return dict(self._wait(lambda: next((i for i in self.items if match(i)), None), "an item", timeout))

    def wait_items(self, count: int, match: Callable[[dict[str, Any]], bool] = lambda _i: True,
                   timeout: float = WAIT) -> list[dict[str, Any]]:
        """Wait until ``count`` items match; returns the matching items in arrival order."""

        def enough() -> list[dict[str, Any]] | None:
            matching = [i for i in self.items if match(i)]
            return matching if len(matching) >= count else None

        return list(self._wait(enough, f"{count} items", timeout))

    def wait_closed(self, timeout: float = WAIT) -> int | None:
        self._wait(self.closed.is_set, "the socket to close", timeout)
        return self.close_code

    def close(self) -> None:
        self.conn.close()
        self._reader.join(timeout=WAIT)


def messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["Type"] == "MESSAGE"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["Id"] for i in items]

"""What the ChatJS suites share: the ChatJS versions under test, a chat with a CUSTOM_BOT driven through boto3,
and a ``Customer`` interface over a real ChatJS session (in Node or in Chromium) that records every callback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import boto3
import pytest
from botocore.config import Config as BotoConfig

from tests.conftest import REGION, Server

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
# The ChatJS releases the acceptance criteria name, and the npm package (or alias) each is installed under.
CHATJS_PACKAGES = {"5.0.0": "amazon-connect-chatjs", "3.0.3": "chatjs3"}
EVENT = "application/vnd.amazonaws.connect.event."
TYPING = EVENT + "typing"
LEFT = EVENT + "participant.left"
CHAT_ENDED = EVENT + "chat.ended"
# How long to wait for something ChatJS should see; generous for a loaded CI machine, polled, never slept.
WAIT = 15.0
POLL = 0.05
# Parley's --websocket-lifetime for the reconnect tests: several server-side closes per test, time to work between.
SOCKET_LIFETIME = 3.0


def chatjs_bundle(version: str) -> Path:
    """The npm dist bundle of one ChatJS version; fails (never skips) when ``scripts/install --test`` was not run."""
    package_dir = REPO / "node_modules" / CHATJS_PACKAGES[version]
    manifest = package_dir / "package.json"
    if not manifest.exists():
        pytest.fail(f"{package_dir} is missing: run scripts/install --test (npm ci)")
    installed = json.loads(manifest.read_text())
    assert installed["name"] == "amazon-connect-chatjs"
    assert installed["version"] == version, f"node_modules holds ChatJS {installed['version']}, not {version}"
    return package_dir / str(installed["main"])


def participant_client(url: str) -> Any:
    """boto3 ``connectparticipant`` against Parley; the dummy keys sign requests the service does not check."""
    return boto3.client("connectparticipant", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x", config=BotoConfig(retries={"max_attempts": 1}))


@cache
def demo_ids(url: str) -> tuple[str, str]:
    """(instance id, "Sample inbound flow" id) of a demo server, looked up through the Connect API."""
    from tests.conftest import connect_client

    connect = connect_client(url)
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flows = connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
    return instance, next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")


@dataclass
class Chat:
    """A chat started with StartChatContact, with a CUSTOM_BOT that talks through boto3 ``connectparticipant``."""

    server: Server
    details: dict[str, str]
    bot: Any
    bot_token: str
    bot_participant_id: str

    @property
    def contact_id(self) -> str:
        return self.details["ContactId"]

    def bot_says(self, text: str) -> str:
        return str(self.bot.send_message(ConnectionToken=self.bot_token, ContentType="text/plain",
                                         Content=text)["Id"])

    def bot_types(self) -> None:
        self.bot.send_event(ConnectionToken=self.bot_token, ContentType=TYPING)

    def transcript(self) -> list[dict[str, Any]]:
        """The bot's view of the whole transcript, oldest first, page by page."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"MaxResults": 100, "ScanDirection": "FORWARD", "SortOrder": "ASCENDING"}
        while True:
            page = self.bot.get_transcript(ConnectionToken=self.bot_token, **params)
            items.extend(page["Transcript"])
            if not page.get("NextToken"):
                return items
            params["NextToken"] = page["NextToken"]


def start_chat(server: Server, customer_name: str = "Customer") -> Chat:
    """StartChatContact on the demo instance, then a CUSTOM_BOT joins (CreateParticipant + connection)."""
    instance, flow = demo_ids(server.url)
    connect = server.connect()
    started = connect.start_chat_contact(InstanceId=instance, ContactFlowId=flow,
                                         ParticipantDetails={"DisplayName": customer_name})
    details = {key: started[key] for key in ("ContactId", "ParticipantId", "ParticipantToken")}
    joined = connect.create_participant(InstanceId=instance, ContactId=details["ContactId"],
                                        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"})
    bot = participant_client(server.url)
    connection = bot.create_participant_connection(
        ParticipantToken=joined["ParticipantCredentials"]["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"])
    return Chat(server, details, bot, connection["ConnectionCredentials"]["ConnectionToken"],
                joined["ParticipantId"])


Event = dict[str, Any]


class Customer(Protocol):
    """A real ChatJS CUSTOMER session: ``events()`` is every callback so far, ``call`` runs a session method."""

    def events(self) -> list[Event]: ...

    def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = WAIT,
             expect_error: bool = False) -> Any:
        """The command's result, or with ``expect_error`` the error it must fail with."""
        ...

    def diagnostics(self) -> str: ...


def outcome(customer: Customer, command: str, reply: dict[str, Any], expect_error: bool) -> Any:
    """Unwraps a driver reply ``{ok, result | error}``, failing the test when it is not the expected kind."""
    if expect_error:
        assert not reply["ok"], f"{command} should have failed but returned {reply.get('result')}"
        return reply["error"]
    assert reply["ok"], f"ChatJS {command} failed: {json.dumps(reply.get('error'))}\n{dump(customer)}"
    return reply["result"]


def wait_for(customer: Customer, what: str, predicate: Callable[[Event], bool], timeout: float = WAIT) -> Event:
    """The first recorded event matching ``predicate``, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        for event in customer.events():
            if predicate(event):
                return event
        if time.monotonic() > deadline:
            raise AssertionError(f"ChatJS never reported {what} within {timeout}s\n{dump(customer)}")
        time.sleep(POLL)


def dump(customer: Customer) -> str:
    lines = [json.dumps(event)[:400] for event in customer.events()]
    return "events:\n  " + "\n  ".join(lines) + "\n" + customer.diagnostics()


def is_event(name: str) -> Callable[[Event], bool]:
    return lambda event: event.get("event") == name


def message_with_id(item_id: str) -> Callable[[Event], bool]:
    return lambda event: event.get("event") == "onMessage" and (event.get("data") or {}).get("Id") == item_id


def socket_gained(event: Event) -> bool:
    # ChatJS reports onConnectionEstablished twice at start: once when connect() resolves (no data) and once
    # when the websocket opens (data {}); only the second means pushed items can arrive.
    return event.get("event") == "onConnectionEstablished" and event.get("data") == {}


def seen_items(customer: Customer) -> dict[str, dict[str, Any]]:
    """Every item the customer got, by Id: pushed to onMessage, or in what ChatJS's getTranscript returned when the
    driver caught up after a reconnect (the scenario checks separately which items needed that)."""
    items: dict[str, dict[str, Any]] = {}
    for event in customer.events():
        if event["event"] == "onMessage" and event.get("data"):
            items[event["data"]["Id"]] = event["data"]
        elif event["event"] == "catchUp":
            for item in event["data"]["Transcript"]:
                items.setdefault(item["Id"], item)
    return items


def events_named(customer: Customer, name: str) -> list[Event]:
    return [event for event in customer.events() if event["event"] == name]

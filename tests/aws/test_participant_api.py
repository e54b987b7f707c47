"""Participant Service through boto3 ``connectparticipant``: connections, messages, events and receipts,
transcript paging, leaving and ending a chat, and Connect's CreateParticipant for bots."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.aws.chat_helpers import (
    ALL_MESSAGE_TYPES,
    CHAT_ENDED,
    DELIVERED,
    INTERACTIVE_RESPONSE,
    JOINED,
    LEFT,
    METADATA,
    READ,
    TYPING,
    Chat,
    Party,
    Socket,
    add_bot,
    ids,
    join,
    new_chat,
    participant_client,
    start_chat,
)

Refused = Callable[..., dict[str, Any]]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def parse(stamp: str) -> datetime:
    assert ISO.match(stamp), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def pc(server: Any) -> Any:
    return participant_client(server.url)


@pytest.fixture(scope="module")
def raw_pc(server: Any) -> Any:
    """Skips boto3's parameter checks so that bad input reaches the server."""
    return participant_client(server.url, validate=False)


@pytest.fixture
def chat(connect: Any, pc: Any, demo: Any) -> Chat:
    return new_chat(connect, pc, demo)


def bot_of(chat: Chat) -> Party:
    assert chat.bot is not None
    return chat.bot


# CreateParticipantConnection ------------------------------------------------------------------------------


def test_connection_with_both_types(server: Any, connect: Any, pc: Any, demo: Any) -> None:
    started = start_chat(connect, demo)
    before = datetime.now(UTC)
    grant = pc.create_participant_connection(ParticipantToken=started["ParticipantToken"],
                                             Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ConnectParticipant=True)
    assert grant["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(grant) == {"ResponseMetadata", "Websocket", "ConnectionCredentials"}
    url = grant["Websocket"]["Url"]
    assert url.startswith(f"ws://127.0.0.1:{server.port}/"), url
    ws_expiry = parse(grant["Websocket"]["ConnectionExpiry"])
    assert timedelta(seconds=90) <= ws_expiry - before <= timedelta(seconds=110)
    conn_expiry = parse(grant["ConnectionCredentials"]["Expiry"])
    assert timedelta(hours=23) <= conn_expiry - before <= timedelta(hours=24, seconds=10)
    assert len(grant["ConnectionCredentials"]["ConnectionToken"]) >= 22  # >= 128 random bits


def test_connection_types_alone(connect: Any, pc: Any, demo: Any) -> None:
    token = start_chat(connect, demo)["ParticipantToken"]
    only_ws = pc.create_participant_connection(ParticipantToken=token, Type=["WEBSOCKET"])
    assert set(only_ws) == {"ResponseMetadata", "Websocket"}
    only_creds = pc.create_participant_connection(ParticipantToken=token, Type=["CONNECTION_CREDENTIALS"])
    assert set(only_creds) == {"ResponseMetadata", "ConnectionCredentials"}
    ack = pc.create_participant_connection(ParticipantToken=token, ConnectParticipant=True)
    assert set(ack) == {"ResponseMetadata"}
    assert ack["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_repeated_connections_give_new_valid_tokens(connect: Any, pc: Any, demo: Any) -> None:
    started = start_chat(connect, demo)
    parties = [join(pc, started["ContactId"], started["ParticipantId"], started["ParticipantToken"])
               for _ in range(3)]
    assert len({p.connection_token for p in parties}) == 3
    assert len({p.websocket_url for p in parties}) == 3
    sent = [p.send(f"from connection {n}")["Id"] for n, p in enumerate(parties)]
    for party in parties:  # every token stays valid, and all of them see the same chat
        assert set(sent) <= set(ids(party.items()))
    sockets = [Socket.open(p.websocket_url) for p in parties]
    try:
        last = parties[0].send("to every socket")["Id"]
        for sock in sockets:
            sock.wait_item(lambda i: i["Id"] == last)
    finally:
        for sock in sockets:
            sock.close()


# SendMessage ----------------------------------------------------------------------------------------------

CONTENT = {
    "text/plain": "plain words",
    "text/markdown": "**bold** and _italic_",
    "application/json": json.dumps({"order": 42, "items": ["a", "b"]}),
    INTERACTIVE_RESPONSE: json.dumps({"templateIdentifier": "t-1", "data": {"content": {"title": "Yes"}}}),
}


def test_every_content_type_from_customer_and_bot(connect: Any, pc: Any, demo: Any) -> None:
    chat = new_chat(connect, pc, demo, SupportedMessagingContentTypes=ALL_MESSAGE_TYPES)
    sent: dict[str, tuple[str, str]] = {}
    for party in (chat.customer, bot_of(chat)):
        for content_type, content in CONTENT.items():
            reply = party.send(content, content_type)
            assert parse(reply["AbsoluteTime"])
            sent[reply["Id"]] = (content_type, content)
    found = {i["Id"]: i for i in chat.customer.items() if i["Type"] == "MESSAGE"}
    assert set(found) == set(sent)
    for item_id, (content_type, content) in sent.items():
        assert (found[item_id]["ContentType"], found[item_id]["Content"]) == (content_type, content)
    roles = {i["ParticipantRole"] for i in found.values()}
    assert roles == {"CUSTOMER", "CUSTOM_BOT"}


def test_non_customers_only_send_the_chat_supported_types(chat: Chat, refused: Refused) -> None:
    # The chat was started without SupportedMessagingContentTypes, so the customer's client takes text/plain.
    bot = bot_of(chat)
    for content_type in ("text/markdown", "application/json", INTERACTIVE_RESPONSE):
        refused(lambda ct=content_type: bot.send(CONTENT[ct], ct), "ValidationException", 400,
                content_type, "SupportedMessagingContentTypes")
    assert bot.send("plain is fine")["Id"]
    # The customer writes to the contact center, which takes every sendable type.
    assert chat.customer.send("**markdown**", "text/markdown")["Id"]


def test_unknown_content_type_refused(chat: Chat, refused: Refused) -> None:
    for content_type in ("image/png", "application/vnd.amazonaws.connect.message.interactive", TYPING):
        refused(lambda ct=content_type: chat.customer.send("x", ct), "ValidationException", 400, content_type)


def test_message_size_limit(connect: Any, pc: Any, raw_pc: Any, demo: Any, refused: Refused) -> None:
    chat = new_chat(connect, pc, demo, bot=False)
    token = chat.customer.connection_token
    exact = pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="x" * 16384)
    accents = pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="é" * 8192)  # 16,384 bytes
    stored = {i["Id"]: i["Content"] for i in chat.customer.items() if i["Type"] == "MESSAGE"}
    assert stored == {exact["Id"]: "x" * 16384, accents["Id"]: "é" * 8192}

    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="x" * 16385),
            "ValidationException", 400, "16384")
    # 8,193 characters are within the model's length, but 16,386 bytes are not.
    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="é" * 8193),
            "ValidationException", 400, "16386 bytes", "16384")
    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain", Content=""),
            "ValidationException", 400, "content")
    assert {i["Id"] for i in chat.customer.items() if i["Type"] == "MESSAGE"} == set(stored)


def test_client_token_makes_send_message_idempotent(chat: Chat) -> None:
    token = str(uuid.uuid4())
    first = chat.customer.send("only once", ClientToken=token)
    again = chat.customer.send("only once", ClientToken=token)
    assert (again["Id"], again["AbsoluteTime"]) == (first["Id"], first["AbsoluteTime"])
    other = chat.customer.send("only once", ClientToken=str(uuid.uuid4()))
    assert other["Id"] != first["Id"]
    # The same token from another participant is that participant's own, new message.
    theirs = bot_of(chat).send("only once", ClientToken=token)
    assert theirs["Id"] != first["Id"]
    all_ids = ids(chat.customer.items())
    assert all_ids.count(first["Id"]) == 1
    assert len([i for i in all_ids if i in {first["Id"], other["Id"], theirs["Id"]}]) == 3


def test_concurrent_retries_with_one_client_token(chat: Chat) -> None:
    from concurrent.futures import ThreadPoolExecutor

    token = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _n: chat.customer.send("retried", ClientToken=token)["Id"], range(8)))
    assert len(set(replies)) == 1
    assert [i["Content"] for i in chat.customer.items() if i["Type"] == "MESSAGE"] == ["retried"]


# SendEvent ------------------------------------------------------------------------------------------------


def test_typing_reaches_the_other_participant_and_is_not_stored(chat: Chat) -> None:
    bot = bot_of(chat)
    customer_socket, bot_socket = chat.customer.socket(), bot.socket()
    try:
        typed = chat.customer.event(TYPING)
        assert parse(typed["AbsoluteTime"])
        seen = bot_socket.wait_item(lambda i: i["ContentType"] == TYPING)
        assert seen["ParticipantId"] == chat.customer.participant_id
        assert seen["ParticipantRole"] == "CUSTOMER"
        assert seen["DisplayName"] == "Jane Customer"
        assert seen["InitialContactId"] == chat.contact_id
        # A message sent afterwards arrives at both; the typist never sees their own typing.
        marker = chat.customer.send("after typing")["Id"]
        customer_socket.wait_item(lambda i: i["Id"] == marker)
        bot_socket.wait_item(lambda i: i["Id"] == marker)
        assert not [i for i in customer_socket.items if i["ContentType"] == TYPING]
    finally:
        customer_socket.close()
        bot_socket.close()
    assert not [i for i in chat.customer.items() if i["ContentType"] == TYPING]


def test_read_and_delivered_receipts(chat: Chat) -> None:
    bot = bot_of(chat)
    customer_socket = chat.customer.socket()
    try:
        first = chat.customer.send("first")["Id"]
        second = chat.customer.send("second")["Id"]
        # ChatJS sends the literal ClientToken "INCOMING_READ_RECEIPT" for every read receipt.
        read_first = bot.read_receipt(first, "INCOMING_READ_RECEIPT")
        read_second = bot.read_receipt(second, "INCOMING_READ_RECEIPT")
        assert read_first["Id"] != read_second["Id"]
        delivered = bot.event(DELIVERED, json.dumps({"messageId": second}), ClientToken="INCOMING_DELIVERED_RECEIPT")
        # A retry of the very same receipt is the same item.
        assert bot.read_receipt(first, "INCOMING_READ_RECEIPT")["Id"] == read_first["Id"]

        pushed = customer_socket.wait_items(3, lambda i: i["Type"] == "MESSAGEMETADATA")
        assert ids(pushed) == [read_first["Id"], read_second["Id"], delivered["Id"]]
    finally:
        customer_socket.close()
    stored = {i["Id"]: i for i in chat.customer.items() if i["Type"] == "MESSAGEMETADATA"}
    assert set(stored) == {read_first["Id"], read_second["Id"], delivered["Id"]}
    for item_id, message_id in ((read_first["Id"], first), (read_second["Id"], second)):
        item = stored[item_id]
        assert item["ContentType"] == METADATA
        assert item["MessageMetadata"]["MessageId"] == message_id
        (receipt,) = item["MessageMetadata"]["Receipts"]
        assert receipt["RecipientParticipantId"] == bot.participant_id
        assert parse(receipt["ReadTimestamp"])
    (receipt,) = stored[delivered["Id"]]["MessageMetadata"]["Receipts"]
    assert parse(receipt["DeliveredTimestamp"]) and "ReadTimestamp" not in receipt


def test_bad_receipts_refused(chat: Chat, refused: Refused) -> None:
    bot = bot_of(chat)
    refused(lambda: bot.read_receipt(str(uuid.uuid4())), "ValidationException", 400, "not in this chat")
    refused(lambda: bot.event(READ, "not json"), "ValidationException", 400, "messageId")
    refused(lambda: bot.event(READ), "ValidationException", 400, "messageId")
    refused(lambda: bot.event(JOINED), "ValidationException", 400, JOINED)
    assert not [i for i in chat.customer.items() if i["Type"] == "MESSAGEMETADATA"]


def test_connection_acknowledged_event_is_accepted(chat: Chat) -> None:
    acked = chat.customer.event("application/vnd.amazonaws.connect.event.connection.acknowledged")
    assert acked["Id"] and parse(acked["AbsoluteTime"])


# GetTranscript --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_chat(connect: Any, pc: Any, demo: Any) -> tuple[Chat, list[dict[str, Any]]]:
    """A chat of 2 joined events and 25 messages, with its items oldest first."""
    chat = new_chat(connect, pc, demo)
    for n in range(25):
        (chat.customer if n % 2 else bot_of(chat)).send(f"message {n}")
    items = chat.customer.items()
    assert len(items) == 27
    return chat, items


def walk(party: Party, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    page = party.transcript(**params)
    pages.append(page["Transcript"])
    while page.get("NextToken"):
        page = party.transcript(**{**params, "NextToken": page["NextToken"]})
        pages.append(page["Transcript"])
    return pages


def test_transcript_defaults(long_chat: tuple[Chat, list[dict[str, Any]]]) -> None:
    chat, items = long_chat
    page = chat.customer.transcript()
    assert page["InitialContactId"] == chat.contact_id
    # Default: 10 items, scanning BACKWARD from the newest, sorted DESCENDING.
    assert ids(page["Transcript"]) == ids(items[-10:])[::-1]
    assert page["NextToken"]
    first = items[0]
    assert first["ContentType"] == JOINED and first["ParticipantRole"] == "CUSTOMER"
    assert set(first) >= {"AbsoluteTime", "ContentType", "Id", "Type", "ParticipantId", "DisplayName",
                          "ParticipantRole", "ContactId"}
    message = items[2]
    assert message["Type"] == "MESSAGE" and message["Content"] == "message 0"
    assert [parse(i["AbsoluteTime"]) for i in items] == sorted(parse(i["AbsoluteTime"]) for i in items)


def test_transcript_as_chatjs_asks_for_it(long_chat: tuple[Chat, list[dict[str, Any]]]) -> None:
    chat, items = long_chat
    # ChatJS's getTranscript defaults: an empty StartPosition, BACKWARD, ASCENDING, 15 items.
    page = chat.customer.transcript(MaxResults=15, ScanDirection="BACKWARD", SortOrder="ASCENDING", StartPosition={})
    assert ids(page["Transcript"]) == ids(items[-15:])
    # Loading older messages: BACKWARD from the oldest item shown (which comes again; ChatJS de-duplicates).
    older = chat.customer.transcript(MaxResults=15, ScanDirection="BACKWARD", SortOrder="ASCENDING",
                                     StartPosition={"Id": items[-15]["Id"]})
    assert ids(older["Transcript"]) == ids(items[-29:-14])[-15:]
    assert ids(older["Transcript"])[-1] == items[-15]["Id"]


@pytest.mark.parametrize("size", [1, 4, 10, 27, 100])
def test_paging_backward_visits_every_item_once(long_chat: tuple[Chat, list[dict[str, Any]]], size: int) -> None:
    chat, items = long_chat
    pages = walk(chat.customer, MaxResults=size, SortOrder="ASCENDING")
    assert all(len(p) <= size for p in pages)
    assert [ids(p) for p in pages] == [ids(items[max(0, end - size):end]) for end in range(27, 0, -size)]
    pages = walk(chat.customer, MaxResults=size)  # DESCENDING
    flat = [i for p in pages for i in p]
    assert ids(flat) == ids(items)[::-1]


@pytest.mark.parametrize("size", [1, 7, 100])
def test_paging_forward_visits_every_item_once(long_chat: tuple[Chat, list[dict[str, Any]]], size: int) -> None:
    chat, items = long_chat
    start = {"Id": items[0]["Id"]}
    pages = walk(chat.customer, MaxResults=size, ScanDirection="FORWARD", SortOrder="ASCENDING", StartPosition=start)
    assert ids([i for p in pages for i in p]) == ids(items)
    pages = walk(chat.customer, MaxResults=size, ScanDirection="FORWARD", SortOrder="DESCENDING",
                 StartPosition=start)
    assert [ids(p) for p in pages] == [ids(items[n:n + size])[::-1] for n in range(0, 27, size)]


def test_start_position_id(long_chat: tuple[Chat, list[dict[str, Any]]]) -> None:
    chat, items = long_chat
    pivot = items[12]
    # With a StartPosition the default direction is FORWARD; the start item is included.
    forward = chat.customer.transcript(StartPosition={"Id": pivot["Id"]}, MaxResults=5, SortOrder="ASCENDING")
    assert ids(forward["Transcript"]) == ids(items[12:17])
    backward = chat.customer.transcript(StartPosition={"Id": pivot["Id"]}, MaxResults=5, SortOrder="ASCENDING",
                                        ScanDirection="BACKWARD")
    assert ids(backward["Transcript"]) == ids(items[8:13])
    rest = chat.customer.transcript(StartPosition={"Id": pivot["Id"]}, MaxResults=100, SortOrder="ASCENDING")
    assert ids(rest["Transcript"]) == ids(items[12:]) and "NextToken" not in rest


def test_start_position_absolute_time(long_chat: tuple[Chat, list[dict[str, Any]]]) -> None:
    chat, items = long_chat
    stamp = items[14]["AbsoluteTime"]
    when = parse(stamp)
    forward = chat.customer.transcript(StartPosition={"AbsoluteTime": stamp}, MaxResults=100, SortOrder="ASCENDING")
    assert ids(forward["Transcript"]) == ids([i for i in items if parse(i["AbsoluteTime"]) >= when])
    backward = chat.customer.transcript(StartPosition={"AbsoluteTime": stamp}, MaxResults=100,
                                        SortOrder="ASCENDING", ScanDirection="BACKWARD")
    assert ids(backward["Transcript"]) == ids([i for i in items if parse(i["AbsoluteTime"]) <= when])
    later = (parse(items[-1]["AbsoluteTime"]) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert chat.customer.transcript(StartPosition={"AbsoluteTime": later})["Transcript"] == []


def test_start_position_most_recent(long_chat: tuple[Chat, list[dict[str, Any]]]) -> None:
    chat, items = long_chat
    recent = chat.customer.transcript(StartPosition={"MostRecent": 3}, MaxResults=10, SortOrder="ASCENDING")
    assert ids(recent["Transcript"]) == ids(items[-3:])
    everything = chat.customer.transcript(StartPosition={"MostRecent": 100}, MaxResults=100, SortOrder="ASCENDING")
    assert ids(everything["Transcript"]) == ids(items)


def test_max_results_zero_and_contact_id(long_chat: tuple[Chat, list[dict[str, Any]]], connect: Any, pc: Any,
                                         demo: Any, refused: Refused) -> None:
    chat, items = long_chat
    assert chat.customer.transcript(MaxResults=0)["Transcript"] == []
    own = chat.customer.transcript(ContactId=chat.contact_id, MaxResults=100, SortOrder="ASCENDING")
    assert ids(own["Transcript"]) == ids(items)
    other = start_chat(connect, demo)["ContactId"]
    refused(lambda: chat.customer.transcript(ContactId=other), "ValidationException", 400, other)
    refused(lambda: chat.customer.transcript(ContactId=str(uuid.uuid4())), "ValidationException", 400)


# Leaving and ending -----------------------------------------------------------------------------------------


def ended_in_order(sock: Socket, leavers: set[str]) -> None:
    """The socket got ``participant.left`` for every leaver, then ``chat.ended`` last, then closed."""
    ended = sock.wait_item(lambda i: i["ContentType"] == CHAT_ENDED)
    assert sock.wait_closed() == 1000
    tail = sock.items[sock.items.index(ended) - len(leavers):]
    assert [i["ContentType"] for i in tail] == [LEFT] * len(leavers) + [CHAT_ENDED]
    assert {i["ParticipantId"] for i in tail[:-1]} == leavers
    assert "ParticipantId" not in ended and ended["InitialContactId"] == ended["ContactId"]


def assert_chat_closed(chat: Chat, refused: Refused) -> None:
    for party in (chat.customer, bot_of(chat)):
        refused(lambda p=party: p.send("anyone?"), "AccessDeniedException", 403)
        refused(lambda p=party: p.event(TYPING), "AccessDeniedException", 403)
        refused(lambda p=party: p.client.create_participant_connection(
            ParticipantToken=p.participant_token, Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"]),
            "AccessDeniedException", 403)
        refused(lambda p=party: p.disconnect(), "AccessDeniedException", 403)


def test_customer_disconnect_ends_the_chat(chat: Chat, connect: Any, demo: Any, refused: Refused) -> None:
    bot = bot_of(chat)
    sockets = [chat.customer.socket(), chat.customer.socket(), bot.socket()]
    unused_url = bot.new_websocket_url()
    chat.customer.disconnect()
    for sock in sockets:
        ended_in_order(sock, {chat.customer.participant_id, bot.participant_id})
    assert_chat_closed(chat, refused)
    with pytest.raises(InvalidStatus) as caught:  # a websocket URL handed out before the end opens no more
        Socket.open(unused_url)
    assert caught.value.response.status_code == 403
    # The transcript stays readable and ends the same way.
    items = chat.customer.items()
    assert [i["ContentType"] for i in items[-3:]] == [LEFT, LEFT, CHAT_ENDED]
    contact = connect.describe_contact(InstanceId=demo.instance_id, ContactId=chat.contact_id)["Contact"]
    assert "DisconnectTimestamp" in contact


def test_stop_contact_ends_the_chat(chat: Chat, connect: Any, demo: Any, refused: Refused) -> None:
    bot = bot_of(chat)
    sockets = [chat.customer.socket(), bot.socket()]
    connect.stop_contact(InstanceId=demo.instance_id, ContactId=chat.contact_id)
    for sock in sockets:
        ended_in_order(sock, {chat.customer.participant_id, bot.participant_id})
    assert_chat_closed(chat, refused)
    assert [i["ContentType"] for i in chat.customer.items()].count(CHAT_ENDED) == 1


def test_bot_disconnect_leaves_the_chat_running(chat: Chat, refused: Refused) -> None:
    bot = bot_of(chat)
    customer_socket, bot_socket = chat.customer.socket(), bot.socket()
    try:
        bot.disconnect()
        left = customer_socket.wait_item(lambda i: i["ContentType"] == LEFT)
        assert left["ParticipantId"] == bot.participant_id and left["ParticipantRole"] == "CUSTOM_BOT"
        bot_socket.wait_item(lambda i: i["ContentType"] == LEFT)
        assert bot_socket.wait_closed() == 1000  # the party that left stops receiving
        after = chat.customer.send("still here")["Id"]
        customer_socket.wait_item(lambda i: i["Id"] == after)
        assert not [i for i in customer_socket.items if i["ContentType"] == CHAT_ENDED]
        assert not customer_socket.closed.is_set()
    finally:
        customer_socket.close()
        bot_socket.close()
    refused(lambda: bot.send("hello?"), "AccessDeniedException", 403)
    refused(lambda: bot.client.create_participant_connection(ParticipantToken=bot.participant_token,
                                                             Type=["CONNECTION_CREDENTIALS"]),
            "AccessDeniedException", 403)
    refused(lambda: bot.disconnect(), "AccessDeniedException", 403)
    contents = [i["ContentType"] for i in chat.customer.items()]
    assert contents.count(LEFT) == 1 and CHAT_ENDED not in contents


# Connect CreateParticipant --------------------------------------------------------------------------------


def test_create_participant_bot(connect: Any, pc: Any, demo: Any, refused: Refused) -> None:
    chat = new_chat(connect, pc, demo, bot=False)
    sock = chat.customer.socket()
    try:
        before = datetime.now(UTC)
        created = add_bot(connect, demo, chat.contact_id, name="Greeter")
        creds = created["ParticipantCredentials"]
        assert created["ParticipantId"] and len(creds["ParticipantToken"]) >= 22
        assert parse(creds["Expiry"]) > before + timedelta(hours=1)  # lives as long as the chat (25 h default)
        joined = sock.wait_item(lambda i: i["ContentType"] == JOINED)
        assert (joined["ParticipantId"], joined["DisplayName"], joined["ParticipantRole"]) == (
            created["ParticipantId"], "Greeter", "CUSTOM_BOT")
        bot = join(pc, chat.contact_id, created["ParticipantId"], creds["ParticipantToken"])
        said = bot.send("How can I help?")["Id"]
        said_item = sock.wait_item(lambda i: i["Id"] == said)
        assert said_item["DisplayName"] == "Greeter"
    finally:
        sock.close()

    refused(lambda: add_bot(connect, demo, chat.contact_id), "ServiceQuotaExceededException", 402)
    refused(lambda: connect.create_participant(
        InstanceId=demo.instance_id, ContactId=chat.contact_id,
        ParticipantDetails={"ParticipantRole": "AGENT", "DisplayName": "Sneaky"}),
        "InvalidRequestException", 400, "CUSTOM_BOT")
    roles = [i["ParticipantRole"] for i in chat.customer.items() if i["ContentType"] == JOINED]
    assert roles == ["CUSTOMER", "CUSTOM_BOT"]

    connect.stop_contact(InstanceId=demo.instance_id, ContactId=chat.contact_id)
    refused(lambda: add_bot(connect, demo, chat.contact_id), "ConflictException", 409, "ended")
    refused(lambda: add_bot(connect, demo, str(uuid.uuid4())), "ResourceNotFoundException", 404)


def test_cors_preflight(server: Any) -> None:
    import httpx

    response = httpx.options(f"{server.url}/participant/message", headers={
        "Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-bearer,x-amz-user-agent",
    })
    assert response.status_code in (200, 204)
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("content-type", "x-amz-bearer", "x-amz-user-agent", "amz-sdk-invocation-id"):
        assert header in allowed
    assert response.headers["access-control-allow-origin"] == "*"

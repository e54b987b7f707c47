"""Participant Service errors through boto3: every refusal carries the Participant Service's code, HTTP status,
``x-amzn-ErrorType`` and a clear Message, and changes nothing in the chat."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.aws.chat_helpers import TYPING, Chat, Party, new_chat, participant_client

Refused = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def pc(server: Any) -> Any:
    return participant_client(server.url)


@pytest.fixture(scope="module")
def raw_pc(server: Any) -> Any:
    return participant_client(server.url, validate=False)


@pytest.fixture(scope="module")
def chat(connect: Any, pc: Any, demo: Any) -> Chat:
    chat = new_chat(connect, pc, demo)
    chat.customer.send("hello")
    return chat


@pytest.fixture
def unchanged(chat: Chat) -> Any:
    """Asserts at the end of the test that the chat's transcript is exactly what it was at the start."""
    before = chat.customer.items()
    yield
    assert chat.customer.items() == before


def bad_tokens(chat: Chat) -> dict[str, str]:
    return {
        "random": "not-a-token-" + uuid.uuid4().hex,
        "other kind": chat.customer.participant_token,  # a participant token where a connection token belongs
        "truncated": chat.customer.connection_token[:-1],
    }


def test_bad_connection_tokens_get_one_403(chat: Chat, pc: Any, refused: Refused, unchanged: Any) -> None:
    messages = set()
    for token in bad_tokens(chat).values():
        calls = [
            lambda t=token: pc.send_message(ConnectionToken=t, ContentType="text/plain", Content="x"),
            lambda t=token: pc.send_event(ConnectionToken=t, ContentType=TYPING),
            lambda t=token: pc.get_transcript(ConnectionToken=t),
            lambda t=token: pc.disconnect_participant(ConnectionToken=t),
        ]
        for call in calls:
            messages.add(refused(call, "AccessDeniedException", 403)["Error"]["Message"])
    # A participant token is wanted for CreateParticipantConnection; a connection token there is just as bad.
    for token in (chat.customer.connection_token, "garbage"):
        response = refused(lambda t=token: pc.create_participant_connection(ParticipantToken=t, Type=["WEBSOCKET"]),
                           "AccessDeniedException", 403)
        messages.add(response["Error"]["Message"])
    assert len(messages) == 1, messages  # nothing tells a guesser which part was wrong


def test_missing_bearer_header_gets_the_same_403(server: Any, chat: Chat, pc: Any, refused: Refused,
                                                 unchanged: Any) -> None:
    expected = refused(lambda: pc.send_message(ConnectionToken="nope", ContentType="text/plain", Content="x"),
                       "AccessDeniedException", 403)["Error"]["Message"]
    for path, body in (("/participant/message", {"ContentType": "text/plain", "Content": "x"}),
                       ("/participant/connection", {"Type": ["WEBSOCKET"]}),
                       ("/participant/transcript", {})):
        response = httpx.post(f"{server.url}{path}", json=body)
        assert response.status_code == 403
        assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
        assert response.json()["Message"] == expected
        assert response.headers["access-control-allow-origin"] == "*"  # browsers can read the refusal


def test_an_unknown_websocket_ticket_is_refused(server: Any) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    url = f"ws://127.0.0.1:{server.port}/participant/ws?ticket=" + uuid.uuid4().hex
    with pytest.raises(InvalidStatus) as caught:
        ws_connect(url, proxy=None, open_timeout=5, legacy=True)
    assert caught.value.response.status_code == 403


def test_validation_errors_are_coral_style(chat: Chat, raw_pc: Any, refused: Refused, unchanged: Any) -> None:
    token = chat.customer.connection_token
    sideways = refused(lambda: raw_pc.get_transcript(ConnectionToken=token, ScanDirection="SIDEWAYS"),
                       "ValidationException", 400)["Error"]["Message"]
    assert sideways == ("1 validation error detected: Value 'SIDEWAYS' at 'scanDirection' failed to satisfy "
                        "constraint: Member must satisfy enum value set: [FORWARD, BACKWARD]")
    refused(lambda: raw_pc.get_transcript(ConnectionToken=token, SortOrder="RANDOM"), "ValidationException", 400,
            "'RANDOM' at 'sortOrder'", "[DESCENDING, ASCENDING]")
    refused(lambda: raw_pc.get_transcript(ConnectionToken=token, MaxResults=101), "ValidationException", 400,
            "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal "
            "to 100")
    refused(lambda: raw_pc.get_transcript(ConnectionToken=token, MaxResults=-1), "ValidationException", 400,
            "maxResults")
    refused(lambda: raw_pc.get_transcript(ConnectionToken=token, StartPosition={"MostRecent": 101}),
            "ValidationException", 400, "startPosition.mostRecent")
    two = refused(lambda: raw_pc.get_transcript(ConnectionToken=token, ScanDirection="UP", MaxResults=1000),
                  "ValidationException", 400)["Error"]["Message"]
    assert two.startswith("2 validation errors detected: ")
    refused(lambda: raw_pc.create_participant_connection(ParticipantToken=chat.customer.participant_token,
                                                         Type=["CARRIER_PIGEON"]),
            "ValidationException", 400, "CARRIER_PIGEON", "WEBSOCKET")
    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain"),
            "ValidationException", 400, "Value null at 'content' failed to satisfy constraint: Member must not be null")
    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="t" * 101, Content="x"),
            "ValidationException", 400, "contentType", "length less than or equal to 100")
    refused(lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="x",
                                        ClientToken="c" * 501),
            "ValidationException", 400, "clientToken")


def test_transcript_positions_refused(chat: Chat, refused: Refused, unchanged: Any) -> None:
    party: Party = chat.customer
    for garbage in ("garbage", "e30", base64.urlsafe_b64encode(b'{"d":"X","s":1}').decode(), "!!!!"):
        refused(lambda g=garbage: party.transcript(NextToken=g), "ValidationException", 400, "NextToken")
    refused(lambda: party.transcript(StartPosition={"Id": str(uuid.uuid4())}), "ValidationException", 400,
            "StartPosition.Id")
    refused(lambda: party.transcript(StartPosition={"AbsoluteTime": "yesterday"}), "ValidationException", 400,
            "yesterday")
    first = party.items()[0]["Id"]
    refused(lambda: party.transcript(StartPosition={"Id": first, "MostRecent": 2}), "ValidationException", 400,
            "one of Id, AbsoluteTime or MostRecent")


def test_malformed_json_body(server: Any, chat: Chat, unchanged: Any) -> None:
    response = httpx.post(f"{server.url}/participant/message", content=b"{not json",
                          headers={"x-amz-bearer": chat.customer.connection_token, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] in ("SerializationException", "ValidationException")
    assert response.json()["Message"]
    wrong_type = httpx.post(f"{server.url}/participant/message", json={"ContentType": "text/plain", "Content": 5},
                            headers={"x-amz-bearer": chat.customer.connection_token})
    assert wrong_type.status_code == 400 and wrong_type.json()["Message"]


@pytest.mark.parametrize(("method", "params", "operation"), [
    ("describe_view", {"ViewToken": "view-1"}, "DescribeView"),
    ("get_authentication_url", {"SessionId": "0" * 36, "RedirectUri": "https://example.com/back"},
     "GetAuthenticationUrl"),
    ("cancel_participant_authentication", {"SessionId": "0" * 36}, "CancelParticipantAuthentication"),
])
def test_unsupported_operations_say_so(chat: Chat, pc: Any, method: str, params: dict[str, Any], operation: str,
                                       unchanged: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        getattr(pc, method)(ConnectionToken=chat.customer.connection_token, **params)
    response = caught.value.response
    assert operation in response["Error"]["Message"]
    assert "Parley" in response["Error"]["Message"]
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 600 and status not in (500, 502, 503, 504)  # not an internal error, not retried
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == response["Error"]["Code"]


def test_ended_chat_refuses_writes(connect: Any, pc: Any, demo: Any, refused: Refused) -> None:
    chat = new_chat(connect, pc, demo, bot=False)
    chat.customer.disconnect()
    before = chat.customer.items()
    for call in (lambda: chat.customer.send("hello?"),
                 lambda: chat.customer.event(TYPING),
                 lambda: chat.customer.read_receipt(before[0]["Id"]),
                 lambda: chat.customer.disconnect()):
        refused(call, "AccessDeniedException", 403)
    refused(lambda: pc.create_participant_connection(ParticipantToken=chat.customer.participant_token,
                                                     ConnectParticipant=True),
            "AccessDeniedException", 403)
    assert chat.customer.items() == before


def test_every_refusal_changes_nothing(chat: Chat, raw_pc: Any, unchanged: Any) -> None:
    """A battery of bad requests; the ``unchanged`` fixture checks the transcript afterwards."""
    from botocore.exceptions import ClientError

    token = chat.customer.connection_token
    bad: list[Callable[[], Any]] = [
        lambda: raw_pc.send_message(ConnectionToken=token, ContentType="text/plain", Content="x" * 16385),
        lambda: raw_pc.send_message(ConnectionToken=token, ContentType="image/gif", Content="x"),
        lambda: raw_pc.send_message(ConnectionToken="bad", ContentType="text/plain", Content="x"),
        lambda: raw_pc.send_event(ConnectionToken=token, ContentType="application/vnd.amazonaws.connect.event."
                                  "chat.ended"),
        lambda: raw_pc.send_event(ConnectionToken=token, ContentType="application/vnd.amazonaws.connect.event."
                                  "message.read", Content=json.dumps({"messageId": "nope"})),
        lambda: raw_pc.disconnect_participant(ConnectionToken="bad"),
        lambda: raw_pc.create_participant_connection(ParticipantToken=token, Type=["WEBSOCKET"]),
    ]
    for call in bad:
        with pytest.raises(ClientError) as caught:
            call()
        response = caught.value.response
        assert response["Error"]["Code"] and response["Error"]["Message"]
        assert response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == response["Error"]["Code"]

"""Fuzzes every implemented Participant Service operation from its botocore input shape, with valid and garbage
``X-Amz-Bearer`` values, through boto3 (validation off) and hand-made requests: no 5xx, the Participant
Service's error shape, and a refused SendMessage/SendEvent/DisconnectParticipant/… leaves the chat's transcript
(read by the chat's CUSTOM_BOT, which is never fuzzed) exactly as it was."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.model import ServiceModel
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.aws.participant.attachments import AttachmentHandlers
from parley.aws.participant.handlers import ParticipantHandlers
from tests.aws.chat_helpers import ALL_MESSAGE_TYPES, DELIVERED, READ, TYPING
from tests.conftest import Server
from tests.fuzz.conftest import FUZZ, ChatPool, Reply, StateCheck, check_answer
from tests.fuzz.strategies import EDGE_INTS, ShapeValues
from tests.fuzz.wire import Captured, RawRequest, boto_call, capture, raw_request, send_raw

# Examples per operation and sender (8 operations).
EXAMPLES = 12
# Placeholders the fuzzers put where a real token goes; replaced by the current chat's tokens when sent.
CUSTOMER, FOREIGN = "<customer>", "<foreign>"
CUSTOMER_PARTICIPANT, FOREIGN_PARTICIPANT = "<customer-pt>", "<foreign-pt>"
# Bearer values that are not tokens (ASCII, as header values must be for the client to send them).
GARBAGE_BEARERS = ("", " ", "x", "Bearer abc", "a" * 1001, "a" * 8000, "null", "../", "%00", "-", "=" * 40)
MUTATING = frozenset({"SendMessage", "SendEvent", "DisconnectParticipant", "CreateParticipantConnection",
                      "StartAttachmentUpload", "CompleteAttachmentUpload"})


def participant_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("connectparticipant")


def implemented() -> list[str]:
    from botocore import xform_name

    classes = (ParticipantHandlers, AttachmentHandlers)
    return [op for op in participant_model().operation_names if any(hasattr(c, xform_name(op)) for c in classes)]


OPERATIONS = implemented()


def test_the_data_plane_is_covered() -> None:
    assert {"SendMessage", "SendEvent", "GetTranscript", "DisconnectParticipant", "CreateParticipantConnection",
            "StartAttachmentUpload", "CompleteAttachmentUpload", "GetAttachment"} <= set(OPERATIONS), OPERATIONS


def crafted_next_tokens() -> st.SearchStrategy[str]:
    """NextTokens shaped like Parley's (url-safe base64 of JSON) carrying hostile positions."""
    payloads = st.one_of(
        st.fixed_dictionaries({"s": st.sampled_from(EDGE_INTS), "d": st.sampled_from(["F", "B", "x", 1])}),
        st.lists(st.one_of(st.sampled_from(EDGE_INTS), st.text(max_size=8)), max_size=3),
        st.sampled_from([None, "x", 1.5, {"s": "1"}, [[]]]))
    return payloads.map(lambda p: base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("="))


def known() -> dict[str, Any]:
    return {
        "ConnectionToken": st.sampled_from([CUSTOMER, CUSTOMER, FOREIGN]),
        "ParticipantToken": st.sampled_from([CUSTOMER_PARTICIPANT, FOREIGN_PARTICIPANT, CUSTOMER]),
        "ContentType": st.sampled_from([*ALL_MESSAGE_TYPES, TYPING, READ, DELIVERED, "image/png", "text/csv"]),
        "Type": st.sampled_from([["WEBSOCKET"], ["CONNECTION_CREDENTIALS"], ["WEBSOCKET", "CONNECTION_CREDENTIALS"]]),
        "NextToken": crafted_next_tokens(),
    }


class Tokens:
    """Swaps the placeholders for the current chat's real tokens."""

    def __init__(self, pool: ChatPool) -> None:
        self.pool = pool

    def real(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in (FOREIGN, FOREIGN_PARTICIPANT):
            other = self.pool.foreign()
            return other.connection_token if value == FOREIGN else other.participant_token
        chat = self.pool.current()
        if value in (CUSTOMER, CUSTOMER_PARTICIPANT):
            return chat.customer.connection_token if value == CUSTOMER else chat.customer.participant_token
        return value


def after(check: StateCheck, pool: ChatPool, op_name: str, status: int, what: str) -> None:
    refused = status >= 400
    check.after(refused, what)
    if not refused and op_name == "DisconnectParticipant":
        pool.renew()  # the customer left and the chat ended (or another chat's customer left): start afresh
        check.before = None


@pytest.fixture(scope="module")
def captured(fraw_participant: Any) -> Captured:
    return capture(fraw_participant)


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_boto3_inputs(op_name: str, fraw_participant: Any, captured: Captured, chat_pool: ChatPool) -> None:
    op = participant_model().operation_model(op_name)
    values = ShapeValues(known())
    tokens = Tokens(chat_pool)
    check = StateCheck(chat_pool.transcript if op_name in MUTATING else lambda: None)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(st.one_of(values.one_off(op.input_shape), values.structure(op.input_shape)))
    def run(params: dict[str, Any]) -> None:
        check.prime()
        real = {k: tokens.real(v) for k, v in params.items()}
        reply = boto_call(fraw_participant, captured, op, real)
        if reply is not None:
            after(check, chat_pool, op_name, reply.status, f"{op_name} {params!r:.2000}")

    run()


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_raw_requests(op_name: str, fuzz_server: Server, http: httpx.Client, chat_pool: ChatPool) -> None:
    """Hostile bodies, content types and headers, with a valid, a misplaced or a garbage bearer."""
    op = participant_model().operation_model(op_name)
    values = ShapeValues(known())
    tokens = Tokens(chat_pool)
    check = StateCheck(chat_pool.transcript if op_name in MUTATING else lambda: None)
    bearer_choices = st.one_of(st.sampled_from([CUSTOMER, FOREIGN, CUSTOMER_PARTICIPANT]),
                               st.sampled_from(GARBAGE_BEARERS), st.none())

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(raw_request(op, values), bearer_choices, st.booleans())
    def run(request: RawRequest, bearer: str | None, tamper: bool) -> None:
        check.prime()
        real = tokens.real(bearer)
        if tamper and real:
            real = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off a real token
        reply = send_raw(http, fuzz_server.url, request, service=None, bearer=real, what=op_name)
        if reply is not None:
            after(check, chat_pool, op_name, reply.status, f"{op_name} bearer={bearer!r} {request!r:.2000}")

    run()


def test_valid_token_wrong_request_changes_nothing(fuzz_server: Server, http: httpx.Client,
                                                   chat_pool: ChatPool) -> None:
    """With the customer's real connection token, requests that are each wrong in one way: all refused,
    the transcript unchanged."""
    check = StateCheck(chat_pool.transcript)
    check.prime()
    token = chat_pool.current().customer.connection_token
    cases: list[tuple[str, Any]] = [
        ("/participant/message", {"ContentType": "text/plain", "Content": ""}),
        ("/participant/message", {"ContentType": "text/plain", "Content": "x" * 16385}),
        ("/participant/message", {"ContentType": "text/html", "Content": "x"}),
        ("/participant/message", {"ContentType": "text/plain", "Content": 5}),
        ("/participant/message", {"ContentType": "text/plain", "Content": "x", "ClientToken": "c" * 501}),
        ("/participant/message", {"ContentType": ["text/plain"], "Content": "x"}),
        ("/participant/message", ["text/plain", "x"]),
        ("/participant/event", {"ContentType": READ, "Content": "not json"}),
        ("/participant/event", {"ContentType": READ, "Content": json.dumps({"messageId": "x" * 300})}),
        ("/participant/event", {"ContentType": "application/vnd.amazonaws.connect.event.chat.ended"}),
        ("/participant/event", {"ContentType": TYPING, "Content": {"a": 1}}),
        ("/participant/disconnect", {"ClientToken": "c" * 501}),
        ("/participant/disconnect", {"ClientToken": 12}),
        ("/participant/disconnect", "[]"),
        ("/participant/connection", {"Type": []}),
        ("/participant/connection", {"Type": ["SOMETHING"]}),
        ("/participant/start-attachment-upload", {"ContentType": "text/plain", "AttachmentSizeInBytes": 2**63,
                                                  "AttachmentName": "a.txt", "ClientToken": "t"}),
        ("/participant/start-attachment-upload", {"ContentType": "text/plain", "AttachmentSizeInBytes": -1,
                                                  "AttachmentName": "a.txt", "ClientToken": "t"}),
        ("/participant/complete-attachment-upload", {"AttachmentIds": ["x", "y"], "ClientToken": "t"}),
    ]
    for path, body in cases:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        response = http.post(path, content=raw, headers={"X-Amz-Bearer": token, "Content-Type": "application/json"})
        reply = Reply.of(response)
        check_answer(reply, f"POST {path} {raw[:200]!r}")
        assert reply.status >= 400, (path, body, reply)
        check.after(True, f"POST {path} {raw[:200]!r}")

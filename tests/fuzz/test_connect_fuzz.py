"""Fuzzes every implemented Connect API operation from its botocore input shape, through boto3 (parameter
validation off) and through hand-made SigV4-signed requests: no answer is a 5xx, every error has Connect's
shape, and a refused create/update/delete/associate changes nothing that the API can read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.model import OperationModel, ServiceModel
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.aws.connect.contacts import ContactHandlers
from parley.aws.connect.directory import DirectoryHandlers
from parley.aws.connect.instances import InstanceHandlers
from parley.aws.connect.metrics import MetricsHandlers
from parley.aws.connect.monitoring import MonitoringHandlers
from parley.aws.connect.quick_connects import QuickConnectHandlers
from tests.aws.chat_helpers import Chat, new_chat
from tests.aws.conftest import DemoIds, everything
from tests.conftest import Server
from tests.fuzz.conftest import FUZZ, Reply, StateCheck, check_answer, sign
from tests.fuzz.strategies import MALFORMED_BODIES, ShapeValues, deep
from tests.fuzz.wire import Captured, boto_call, capture, raw_request, send_raw

# Examples per operation and sender: 45 operations x 2 senders x this stays within the suite's time budget.
EXAMPLES = 8


def connect_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("connect")


def implemented() -> list[str]:
    """The operations the Connect API's handler classes implement (the others answer 501)."""
    from botocore import xform_name

    classes = (ContactHandlers, DirectoryHandlers, InstanceHandlers, QuickConnectHandlers, MonitoringHandlers,
               MetricsHandlers)
    return [op for op in connect_model().operation_names if any(hasattr(c, xform_name(op)) for c in classes)]


OPERATIONS = implemented()
MUTATING_PREFIXES = ("Create", "Update", "Delete", "Associate", "Disassociate", "Start", "Stop", "Put", "Tag")
def test_every_mutating_operation_has_a_state_check() -> None:
    mutating = {op for op in OPERATIONS if op.startswith(MUTATING_PREFIXES)}
    readers = State(None, DemoIds("i", "q", "r", {}, {}, {}), "u", "q", None).readers  # type: ignore[arg-type]
    assert mutating <= set(readers), sorted(mutating - set(readers))
    assert len(OPERATIONS) >= 40, OPERATIONS


class State:
    """Readers of the demo instance's state: for each mutating operation, the one listing or description that
    shows what it changes (one read per example keeps the suite quick)."""

    def __init__(self, client: Any, demo: DemoIds, user_id: str, quick_connect_id: str, chat: Chat) -> None:
        i = demo.instance_id
        queue, profile = demo.basic_queue, demo.basic_routing_profile
        users = lambda: everything(client, "list_users", "UserSummaryList", InstanceId=i)  # noqa: E731
        user = lambda: _quiet(lambda: client.describe_user(InstanceId=i, UserId=user_id)["User"])  # noqa: E731
        quick = lambda: everything(client, "list_quick_connects", "QuickConnectSummaryList", InstanceId=i)  # noqa: E731
        quick_one = lambda: _quiet(  # noqa: E731
            lambda: client.describe_quick_connect(InstanceId=i, QuickConnectId=quick_connect_id)["QuickConnect"])
        origins = lambda: everything(client, "list_approved_origins", "Origins", InstanceId=i)  # noqa: E731
        queue_qcs = lambda: everything(client, "list_queue_quick_connects", "QuickConnectSummaryList",  # noqa: E731
                                       InstanceId=i, QueueId=queue)
        self.readers: dict[str, Callable[[], Any]] = {
            "AssociateApprovedOrigin": origins, "DisassociateApprovedOrigin": origins,
            "UpdateInstanceAttribute": lambda: everything(client, "list_instance_attributes", "Attributes",
                                                          InstanceId=i),
            "CreateInstance": lambda: everything(client, "list_instances", "InstanceSummaryList"),
            "AssociateQueueQuickConnects": queue_qcs, "DisassociateQueueQuickConnects": queue_qcs,
            "CreateQueue": lambda: everything(client, "list_queues", "QueueSummaryList", InstanceId=i),
            "AssociateRoutingProfileQueues": lambda: everything(
                client, "list_routing_profile_queues", "RoutingProfileQueueConfigSummaryList", InstanceId=i,
                RoutingProfileId=profile),
            "CreateRoutingProfile": lambda: everything(client, "list_routing_profiles", "RoutingProfileSummaryList",
                                                       InstanceId=i),
            "CreateSecurityProfile": lambda: everything(client, "list_security_profiles",
                                                        "SecurityProfileSummaryList", InstanceId=i),
            "CreateQuickConnect": quick, "DeleteQuickConnect": quick, "UpdateQuickConnectConfig": quick_one,
            "UpdateQuickConnectName": quick_one, "CreateUser": users, "DeleteUser": users,
            "UpdateUserIdentityInfo": user, "UpdateUserRoutingProfile": user, "UpdateUserSecurityProfiles": user,
            "CreateParticipant": lambda: _quiet(
                lambda: chat.customer.transcript(MaxResults=100, ScanDirection="BACKWARD")["Transcript"]),
            "StopContact": lambda: _quiet(
                lambda: client.describe_contact(InstanceId=i, ContactId=chat.contact_id)["Contact"]),
            "UpdateContactAttributes": lambda: _quiet(
                lambda: client.get_contact_attributes(InstanceId=i, InitialContactId=chat.contact_id)),
            # A new contact is StartChatContact's only effect, and the API has no listing of contacts.
            "StartChatContact": lambda: None,
        }

    def check(self, op_name: str) -> StateCheck:
        read = self.readers.get(op_name)
        return StateCheck(read if read is not None else lambda: None)


def _quiet(read: Callable[[], Any]) -> Any:
    """A read's result, or its error code (a resource a successful fuzzed delete removed)."""
    try:
        result = read()
    except ClientError as exc:
        return ("error", exc.response["Error"]["Code"])
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    return result


@pytest.fixture(scope="module")
def connect_chat(fconnect: Any, fparticipant: Any, fdemo: DemoIds) -> Chat:
    return new_chat(fconnect, fparticipant, fdemo, bot=False)


@pytest.fixture(scope="module")
def known(fdemo: DemoIds, fuzz_user: str, fuzz_quick_connect: str, connect_chat: Chat) -> dict[str, Any]:
    """Real ids by member name, so that most requests get past the lookups to the deeper checks."""
    return {
        "InstanceId": fdemo.instance_id, "ContactFlowId": fdemo.inbound_flow, "QueueId": fdemo.basic_queue,
        "RoutingProfileId": fdemo.basic_routing_profile, "SecurityProfileId": fdemo.security_profiles["Agent"],
        "SecurityProfileIds": [fdemo.security_profiles["Agent"]], "UserId": fuzz_user,
        "QuickConnectId": fuzz_quick_connect, "QuickConnectIds": [fuzz_quick_connect],
        "ContactId": connect_chat.contact_id, "InitialContactId": connect_chat.contact_id,
    }


@pytest.fixture(scope="module")
def state(fconnect: Any, fdemo: DemoIds, fuzz_user: str, fuzz_quick_connect: str, connect_chat: Chat) -> State:
    return State(fconnect, fdemo, fuzz_user, fuzz_quick_connect, connect_chat)


@pytest.fixture(scope="module")
def captured(fraw_connect: Any) -> Captured:
    return capture(fraw_connect)


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_boto3_inputs(op_name: str, fraw_connect: Any, captured: Captured, known: dict[str, Any],
                      state: State) -> None:
    """Inputs generated from the operation's input shape, sent by boto3 with its own validation off."""
    op = connect_model().operation_model(op_name)
    values = ShapeValues(known)
    check = state.check(op_name)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(st.one_of(values.one_off(op.input_shape), values.structure(op.input_shape)))
    def run(params: dict[str, Any]) -> None:
        check.prime()
        reply = boto_call(fraw_connect, captured, op, params)
        if reply is not None:
            check.after(reply.status >= 400, f"{op_name} {params!r:.2000}")

    run()


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_raw_requests(op_name: str, fuzz_server: Server, http: httpx.Client, known: dict[str, Any],
                      state: State) -> None:
    """Hand-made signed requests: hostile labels, query strings, content types, headers and bodies."""
    op: OperationModel = connect_model().operation_model(op_name)
    values = ShapeValues(known)
    check = state.check(op_name)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(raw_request(op, values))
    def run(request: Any) -> None:
        check.prime()
        reply = send_raw(http, fuzz_server.url, request, service="connect", what=op_name)
        if reply is not None:
            check.after(reply.status >= 400, f"{op_name} {request!r:.2000}")

    run()


@settings(FUZZ, max_examples=40)
@given(method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]),
       path=st.one_of(
           st.sampled_from(["/", "/instance", "/instance/", "/users/%00/x", "/users//", "/contact/%2e%2e/chat",
                            "/" + "a/" * 600, "/" + "x" * 9000, "/%", "/%zz", "/quick-connects/%C0%AF/%00",
                            "/instance/%E4%B8%AD", "/contact/chat/../chat", "/participant/../instance"]),
           st.text(alphabet="abc/%.-_019", max_size=60).map(lambda p: "/" + p)),
       body=st.sampled_from(MALFORMED_BODIES), signed=st.booleans())
def test_unknown_paths_and_methods(fuzz_server: Server, http: httpx.Client, method: str, path: str,
                                   body: bytes, signed: bool) -> None:
    """Paths no operation has (or has with another method), signed or not: a 4xx in Connect's shape."""
    if path.startswith("/participant") or path in ("/health", "/api") or path.startswith(("/connect", "/static")):
        return  # other surfaces, fuzzed by their own tests
    url = fuzz_server.url + path
    headers = sign(method, url, body) if signed else {}
    reply = http.request(method, url, content=body, headers=headers)
    if method == "HEAD":
        assert reply.status_code < 500, (method, path, reply.status_code)
        return
    check_answer(Reply.of(reply), f"{method} {path[:200]} signed={signed}")


def test_deep_nesting_and_big_bodies(fuzz_server: Server, http: httpx.Client, fdemo: DemoIds,
                                     state: State) -> None:
    """Deeply nested JSON and large bodies where a Connect operation expects a small object."""
    check = state.check("UpdateContactAttributes")
    check.prime()
    url = fuzz_server.url + "/contact/attributes"
    for body in (deep(100_000, "list"), deep(20_000, "object"), b'{"Attributes":' + deep(3000, "object") + b"}",
                 b'{"InstanceId":"' + b"a" * 200_000 + b'"}', b"[" + b"1," * 100_000 + b"1]"):
        reply = http.post(url, content=body, headers=sign("POST", url, body))
        check_answer(Reply.of(reply), f"POST /contact/attributes body {body[:80]!r}… ({len(body)} bytes)")
        assert reply.status_code >= 400
        check.after(True, f"UpdateContactAttributes {body[:80]!r}")



def minimal(shape: Any) -> Any:
    """A deterministic input holding only required members, each the simplest value of its type."""
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal(shape.members[name]) for name in shape.metadata.get("required", [])}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long", "float", "double"):
        return int(shape.metadata.get("min", 1))
    if kind == "list":
        return [minimal(shape.member)] * int(shape.metadata.get("min", 1))
    if kind == "map":
        return {}
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return 0
    return None


@pytest.mark.parametrize("service", ["connect", "connectparticipant"])
def test_every_unimplemented_operation_routes_to_501(service: str, fraw_connect: Any, fraw_participant: Any) -> None:
    """Each operation Parley does not implement is routed to itself (model.py) and answers 501
    NotImplementedException in the service's shape, never another operation's answer."""
    from tests.fuzz import test_participant_fuzz

    client = fraw_connect if service == "connect" else fraw_participant
    model = client.meta.service_model
    done = set(OPERATIONS if service == "connect" else test_participant_fuzz.OPERATIONS)
    captured = capture(client)
    wrong = []
    for name in model.operation_names:
        if name in done:
            continue
        op = model.operation_model(name)
        params = minimal(op.input_shape) if op.input_shape is not None else {}
        reply = boto_call(client, captured, op, params)
        assert reply is not None, name
        code = reply.headers.get("x-amzn-errortype", "")
        message = json.loads(reply.body).get("Message", "")
        if (reply.status, code) != (501, "NotImplementedException") or not message.endswith(f" {name}."):
            wrong.append((name, reply.status, code, message[:120]))
    assert not wrong, wrong

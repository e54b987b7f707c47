"""Fuzzes the CTI API (``POST /api``, AmazonConnectCTIService over JSON 1.0) as a signed-in agent: garbage
bodies, wrong member types, odd targets and headers. No answer is a 5xx, every error is ``{"__type",
"message"}``, and a refused state-changing call leaves the agent's snapshot (its version, ``nextToken``) as it
was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.aws.cti.handlers import CtiHandlers
from tests.fuzz.agent import TARGET, CtiAgent
from tests.fuzz.conftest import FUZZ, LogWatch, StateCheck, check_answer
from tests.fuzz.strategies import CONTENT_TYPES, MALFORMED_BODIES, NASTY, deep, json_values

# Examples per operation (18 operations).
EXAMPLES = 8
# Operations that change an agent's or a contact's state; their refusals must change nothing.
MUTATING = frozenset({"PutAgentState", "AcceptContact", "RejectContact", "AddNewConnection",
                      "CreateAdditionalConnection", "TransferContact", "DestroyConnection", "ClearContact",
                      "CompleteContact", "CreateTransport", "UpdateMonitorParticipantState"})
# Members the CTI operations read (from the CTI model's input shapes).
MEMBERS = ("contactId", "connectionId", "endpoint", "state", "transportType", "nextToken", "timeout", "queueARNs",
           "maxResults", "routingProfileARN", "enqueueNextState", "logEvents", "targetMonitorMode")


def operations() -> list[str]:
    """The CTI operations Parley implements (its handler table)."""
    table = CtiHandlers(None, None, None, None, None, None).table()  # type: ignore[arg-type]
    return sorted(table)


OPERATIONS = operations()


def test_the_agent_side_is_covered() -> None:
    assert {"AcceptContact", "AddNewConnection", "TransferContact", "PutAgentState", "GetAgentSnapshot",
            "CreateTransport", "DestroyConnection"} <= set(OPERATIONS), OPERATIONS


def member_values() -> st.SearchStrategy[Any]:
    offline = st.fixed_dictionaries({"name": st.sampled_from(["Offline", "offline", "", "Available "])})
    endpoint = st.fixed_dictionaries({}, optional={
        "endpointARN": st.one_of(st.sampled_from(NASTY), st.just("arn:aws:connect:us-west-2:1:instance/x/"
                                                                   "transfer-destination/y")),
        "type": st.sampled_from(["agent", "queue", "phone_number", "", "x", 5]), "queue": json_values()})
    return st.one_of(json_values(), offline, endpoint, st.sampled_from(NASTY))


@st.composite
def cti_body(draw: st.DrawFn, token: str) -> bytes:
    """A CTI request body: the agent's token (usually), members of any type, or no JSON object at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from(MALFORMED_BODIES))
    if kind == 1:
        return deep(draw(st.sampled_from([100, 3000])), draw(st.sampled_from(["list", "object"])))
    body: dict[str, Any] = {}
    auth = draw(st.integers(0, 5))
    if auth <= 3:
        body["authentication"] = {"authToken": token}
    elif auth == 4:
        body["authentication"] = draw(json_values())
    for name in draw(st.lists(st.sampled_from(MEMBERS), max_size=4, unique=True)):
        body[name] = draw(member_values())
    if draw(st.integers(0, 3)) == 0:  # an id with a NUL, a newline or a path in it
        body["contactId"] = draw(st.sampled_from(["a\x00b", "\x00", "x\n", "../x", "%00", "\u202ex"]))
    return json.dumps(body).encode()


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_operation_bodies(op_name: str, cti_agent: CtiAgent, fuzz_log: LogWatch) -> None:
    agent = cti_agent
    check = StateCheck(agent.version if op_name in MUTATING else lambda: None)

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(cti_body(agent.token), st.sampled_from(CONTENT_TYPES[:4]))
    def run(body: bytes, content_type: str) -> None:
        check.prime()
        reply = agent.post(TARGET + op_name, body, content_type)
        check_answer(reply, f"CTI {op_name} {body[:500]!r}", json_10=True)
        check.after(reply.status >= 400, f"CTI {op_name} {body[:500]!r}")

    run()


# Header values a client can send: printable ASCII.
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@settings(FUZZ, max_examples=40)
@given(target=st.one_of(st.none(), st.sampled_from(["", TARGET, TARGET + "Nope", "AmazonConnectCTIService",
                                                    "Other.GetAgentSnapshot", TARGET + "GetAgentSnapshot\x7f",
                                                    TARGET + "x" * 5000, TARGET + "__proto__",
                                                    TARGET + "get_agent_snapshot", TARGET + "table"]),
                        st.text(PRINTABLE, max_size=30).map(lambda t: TARGET + t)),
       body=st.sampled_from((*MALFORMED_BODIES, b"{}")), bearer=st.booleans())
def test_targets_and_tokens(cti_agent: CtiAgent, target: str | None, body: bytes, bearer: bool) -> None:
    """Unknown or malformed targets, with and without a token: 4xx in the CTI error shape."""
    agent = cti_agent
    reply = agent.post(target, body, bearer=agent.token if bearer else "garbage")
    check_answer(reply, f"CTI target={target!r:.200} body={body[:200]!r}", json_10=True)
    assert reply.status >= 400 or target == TARGET + "GetAgentSnapshot", reply

"""Crafted ``NextToken`` values (issue 17, item 7): GetTranscript and the Connect API's List* operations answer
a token Parley did not hand out with the service's own validation error (the Participant Service's
``ValidationException``, Connect's ``InvalidParameterException``, both 400), never a 500, and change nothing.
Runs on the shared SQLite demo server and on a server whose storage is PostgreSQL, where a position past the
``bigint`` range is what used to raise."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name

from conftest import Server, start_server
from tests.aws.chat_helpers import Chat, new_chat, participant_client
from tests.aws.conftest import builtin_ids, check_refused


def b64(raw: bytes) -> str:
    """A token the way Parley writes them: url-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_of(**fields: Any) -> str:
    return b64(json.dumps(fields).encode())


def crafted_transcript_tokens(chat: Chat, other: Chat) -> dict[str, str]:
    """Tokens no GetTranscript answer ever carried, keyed by what is wrong with them."""
    real = chat.customer.transcript(MaxResults=1)["NextToken"]
    fields = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    foreign = other.customer.transcript(MaxResults=1)["NextToken"]

    def variant(**changes: Any) -> str:
        return token_of(**{**fields, **changes})

    return {
        "position 2^63": variant(s=2**63),
        "position 2^63 forward": variant(s=2**63, d="F"),
        "position 2^64": variant(s=2**64),
        "position 10^30": variant(s=10**30),
        "position 2^63-1": variant(s=2**63 - 1),
        "position past the end": variant(s=10_000),
        "negative": variant(s=-1),
        "very negative": variant(s=-(2**63) - 1),
        "zero": variant(s=0),
        "boolean": variant(s=True),
        "float": variant(s=1.5),
        "huge float": variant(s=1e300),
        "string position": variant(s="5"),
        "null position": variant(s=None),
        "bad direction": variant(d="X"),
        "missing position": b64(json.dumps({k: v for k, v in fields.items() if k != "s"}).encode()),
        "missing chat": b64(json.dumps({k: v for k, v in fields.items() if k != "c"}).encode()),
        "wrong chat": foreign,
        "list": b64(b"[1, 2]"),
        "number": b64(b"12"),
        "not json": b64(b"not json"),
        "NaN": b64(b'{"d": "B", "s": NaN}'),
        "huge integer literal": b64(b'{"d": "B", "s": ' + b"9" * 5000 + b"}"),
        "deep nesting": b64(b"[" * 700),
        "bad utf-8": b64(b'{"d": "\xff\xfe", "s": 1}'),
        "bad base64": "!!!!" + real,
        "padding inside": real[:4] + "=" + real[4:],
        "non-ascii": "é" + real,
        "truncated": real[:-3],
        "1000 chars": "A" * 1000,
        "connect list token": b64(json.dumps(["name", "id"]).encode()),
    }


def crafted_list_tokens() -> dict[str, str]:
    """Tokens no Connect List* answer ever carried. (Two well-formed strings are a position like any other: a
    crafted one only starts the listing after that name, which any caller can ask for by paging.)"""
    return {
        "deep nesting": b64(b"[" * 3000),
        "longer than any token": b64(b"[" * 6000),
        "huge integer literal": b64(b"[" + b"9" * 5000 + b"]"),
        "integers": b64(b"[" + str(2**64).encode() + b", -1]"),
        "three strings": b64(b'["a", "b", "c"]'),
        "transcript token": token_of(d="B", s=2**63),
        "lone surrogate": b64(b'["\\ud800", "x"]'),
        "bad utf-8": b64(b'["\xff", "x"]'),
        "non-ascii": "é",
        "padding inside": "WyJh=IiwiYiJd",
    }


def check_transcript_tokens(server: Server, connect: Any, demo: Any) -> None:
    pc = participant_client(server.url)
    raw_pc = participant_client(server.url, validate=False)
    chat = new_chat(connect, pc, demo)
    other = new_chat(connect, pc, demo)
    for text in ("one", "two", "three"):
        chat.customer.send(text)
    other.customer.send("elsewhere")
    before = chat.customer.items()
    # A real token still pages through the whole transcript, both ways.
    assert [i["Id"] for i in before] == [i["Id"] for i in forward_items(chat, before[0]["Id"])]
    for what, token in crafted_transcript_tokens(chat, other).items():
        response = check_refused(
            lambda t=token: raw_pc.get_transcript(ConnectionToken=chat.customer.connection_token, NextToken=t),
            "ValidationException", 400,
        )
        assert "NextToken" in response["Error"]["Message"] or "nextToken" in response["Error"]["Message"], what
    assert chat.customer.items() == before
    assert "Traceback" not in server.log()


def forward_items(chat: Chat, first_id: str) -> list[dict[str, Any]]:
    """The transcript walked oldest first, one item a page, following NextToken."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"MaxResults": 1, "ScanDirection": "FORWARD", "SortOrder": "ASCENDING"}
    page = chat.customer.transcript(**params, StartPosition={"Id": first_id})
    while True:
        items.extend(page["Transcript"])
        if not page.get("NextToken"):
            return items
        page = chat.customer.transcript(**params, NextToken=page["NextToken"])


def validation_code(client: Any, operation: str) -> str:
    """The 400 error the operation's model declares for bad input (ListInstances has no
    InvalidParameterException, so it answers InvalidRequestException)."""
    errors = {e.name for e in client.meta.service_model.operation_model(operation).error_shapes}
    return "InvalidParameterException" if "InvalidParameterException" in errors else "InvalidRequestException"


def check_list_tokens(server: Server, raw_connect: Any, demo: Any) -> None:
    users = raw_connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    iid = {"InstanceId": demo.instance_id}
    calls = {"ListUsers": iid, "ListQueues": iid, "ListInstances": {}, "ListQuickConnects": iid,
             "ListApprovedOrigins": iid, "ListSecurityProfiles": iid}
    for what, token in crafted_list_tokens().items():
        for operation, params in calls.items():
            method = getattr(raw_connect, xform_name(operation))
            response = check_refused(lambda m=method, p=params, t=token: m(**p, NextToken=t),
                                     validation_code(raw_connect, operation), 400)
            assert "NextToken" in response["Error"]["Message"], (what, operation)
    assert raw_connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"] == users
    assert "Traceback" not in server.log()


def test_crafted_transcript_tokens_sqlite(server: Server, connect: Any, demo: Any) -> None:
    check_transcript_tokens(server, connect, demo)


def test_crafted_list_tokens_sqlite(server: Server, raw_connect: Any, demo: Any) -> None:
    check_list_tokens(server, raw_connect, demo)


@pytest.fixture
def pg_server(tmp_path: Path, pg_url: str) -> Iterator[Server]:
    srv = start_server(["--demo", "--storage", pg_url], tmp_path / "data")
    yield srv
    srv.stop()
    shutil.rmtree(srv.data_dir, ignore_errors=True)


def test_crafted_tokens_postgresql(pg_server: Server) -> None:
    connect = pg_server.connect()
    raw_connect = pg_server.connect(validate=False)
    instance_id = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    demo = builtin_ids(connect, instance_id)
    check_transcript_tokens(pg_server, connect, demo)
    check_list_tokens(pg_server, raw_connect, demo)

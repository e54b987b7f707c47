"""Defects the fuzzers found outside the validation layer, each kept as its exact reproducer: a newline in a URI
label reached Starlette's plain 404 instead of the Connect API's error, and a CTI id holding U+0000 answered 500
on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.aws.conftest import DemoIds
from tests.conftest import Server, serving
from tests.fuzz.agent import TARGET, CtiAgent
from tests.fuzz.conftest import LogWatch, Reply, check_answer, sign


def test_newline_in_a_uri_label_gets_connects_error_shape(fuzz_server: Server, http: httpx.Client,
                                                          fdemo: DemoIds, fuzz_log: LogWatch) -> None:
    # DescribeUser with InstanceId "\n" (a newline at the very end of the path still matches, as '$' does).
    url = f"{fuzz_server.url}/users/%0A/{fdemo.users['agent1']}"
    reply = Reply.of(http.get(url, headers=sign("GET", url, b"")))
    assert "x-amzn-errortype" in reply.headers, reply
    check_answer(reply, f"GET {url}")


def test_the_reproducers_still_reach_the_server(fuzz_server: Server, http: httpx.Client) -> None:
    """The server is up and answers the fuzzers' plain checks after the reproducers ran."""
    reply = http.get("/health")
    assert reply.status_code == 200, reply.text
    assert json.loads(reply.text).get("pid") == (fuzz_server.process.pid if fuzz_server.process else None)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Server]:
    """A demo server on a fresh PostgreSQL database."""
    with serving(["--demo"], postgres=True) as srv:
        yield srv


@pytest.mark.postgres
def test_nul_in_a_cti_contact_id_on_postgresql(postgres_server: Server) -> None:
    agent = CtiAgent(postgres_server.url)
    try:
        for op in ("AcceptContact", "ClearContact"):
            body = json.dumps({"authentication": {"authToken": agent.token}, "contactId": "a\x00b"}).encode()
            reply = agent.post(TARGET + op, body)
            check_answer(reply, f"CTI {op} contactId 'a\\x00b' on PostgreSQL", json_10=True)
    finally:
        agent.http.close()
    assert "Traceback" not in postgres_server.log()

"""``--log-format json`` on a real ``parley serve``: every line of its output is one JSON object with time, level,
logger and message; the lines written while serving a request carry that request's id, the same id the client got
back in ``x-amzn-RequestId`` (boto3's ``ResponseMetadata.RequestId``), on the Connect API, the Participant
Service, the CTI API and plain pages alike."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.aws.chat_helpers import participant_client
from tests.conftest import Server, serving

# How long the test waits for the server to have written a request's log line.
WAIT = 10.0


@pytest.fixture(scope="module")
def served() -> Iterator[Server]:
    # Debug turns on uvicorn's access log: a line for every request, written while the request is served.
    with serving(["--demo", "--log-format", "json", "--log-level", "debug"]) as srv:
        yield srv


def entries(server: Server) -> list[dict[str, Any]]:
    lines = [line for line in server.log().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        entry = json.loads(line)  # fails on any line that is not one JSON object
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        datetime.fromisoformat(entry["time"])
        parsed.append(entry)
    return parsed


def lines_of(server: Server, request_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while True:
        found = [e for e in entries(server) if e.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_every_line_is_json_and_request_lines_carry_the_answered_request_id(served: Server) -> None:
    connect = served.connect()
    listed = connect.list_instances()
    connect_id = listed["ResponseMetadata"]["RequestId"]
    assert connect_id
    mine = lines_of(served, connect_id)
    assert mine, "no log line carries the Connect API request's id"
    assert any("/instance" in e["message"] for e in mine), mine

    # The Participant Service (its operations are answered before Starlette), an error answer.
    with pytest.raises(Exception) as refused:
        participant_client(served.url).send_message(ConnectionToken="nope", ContentType="text/plain", Content="x")
    participant_id = getattr(refused.value, "response", {})["ResponseMetadata"]["RequestId"]
    assert participant_id and participant_id != connect_id
    assert any("/participant/message" in e["message"] for e in lines_of(served, participant_id))

    # Responses Parley's API layer does not write itself get the header too: a page, the CTI API.
    for response in (httpx.get(f"{served.url}/health", timeout=10),
                     httpx.post(f"{served.url}/api", content=b"{}", timeout=10,
                                headers={"x-amz-target": "AmazonConnectCTIService.GetAgentSnapshot"})):
        request_id = response.headers["x-amzn-requestid"]
        assert len(request_id) == 36
        lines = lines_of(served, request_id)
        assert lines and all(e["logger"] == "uvicorn.access" for e in lines), lines

    everything = entries(served)
    assert any(e["logger"] == "parley" and "Parley is serving on" in e["message"] for e in everything)
    assert any("request_id" not in e for e in everything)  # start-up lines belong to no request

"""Load shedding through real clients: a saturated server answers 429 ThrottlingException in each service's own
shape, stores nothing for a refused SendMessage, keeps every accepted one, and takes requests again once drained.

Saturation is made deterministic without timing: another connection holds the SQLite database's write lock, so
the group commit cannot commit and the oldest queued SendMessage waits longer and longer (the signal the
server sheds on, besides its event loop's lag). Admission is on by default, so the server runs with defaults.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, serving, start_server

# How long a wave of probes is given to be answered before they count as queued behind the lock (not a speed
# check: every probe is classified by its eventual outcome below).
PROBE_WAIT = 0.3
# Probes sent at once: the server refuses only with at least 64 requests in progress (web/admission.py MIN_BUSY).
WAVE = 16
MAX_PROBES = 240
# How long the test keeps probing for the first refusal before it fails (the lock is held meanwhile).
DEADLINE = 20.0


@pytest.fixture(scope="module")
def srv() -> Iterator[Server]:
    with serving(["--demo"]) as server:
        yield server


def participant(url: str, retries: int = 1) -> Any:
    return boto3.client("connectparticipant", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x",
                        config=BotoConfig(retries={"max_attempts": retries, "mode": "standard"},
                                          max_pool_connections=MAX_PROBES + 16))


def start_chat(connect: Any) -> dict[str, Any]:
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    return {"InstanceId": iid, "ContactFlowId": flow, **connect.start_chat_contact(
        InstanceId=iid, ContactFlowId=flow, ParticipantDetails={"DisplayName": "Shed"})}


def throttled(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ThrottlingException"


def test_a_saturated_server_refuses_with_429_and_stores_nothing_it_refused(srv: Server) -> None:
    connect = srv.connect()
    chat = start_chat(connect)
    client = participant(srv.url)
    token = client.create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"]
    client.send_message(ConnectionToken=token, ContentType="text/plain", Content="before")

    def send(content: str) -> dict[str, Any]:
        return dict(client.send_message(ConnectionToken=token, ContentType="text/plain", Content=content,
                                        ClientToken=str(uuid.uuid4())))

    lock = sqlite3.connect(srv.data_dir / "parley.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # the server's commits now wait for this connection
    probes: dict[str, Future[dict[str, Any]]] = {}
    refusal: ClientError | None = None
    pool = ThreadPoolExecutor(max_workers=MAX_PROBES)
    try:
        deadline = time.monotonic() + DEADLINE
        while refusal is None and time.monotonic() < deadline and len(probes) < MAX_PROBES:
            wave = []
            for _ in range(WAVE):
                content = f"probe {len(probes)}"
                probes[content] = future = pool.submit(send, content)
                wave.append(future)
            done, _ = wait(wave, timeout=PROBE_WAIT)  # the rest are queued behind the lock: they commit after it
            refusal = next((exc for f in done if isinstance(exc := f.exception(), ClientError) and throttled(exc)),
                           None)
        assert refusal is not None, "no SendMessage was refused while the group commit could not commit"
        error = refusal.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"
        assert error["Error"]["Message"].startswith("Rate exceeded")
        assert error["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == "*"

        # While saturated the Connect API refuses too, in its own shape.
        with pytest.raises(ClientError) as started:
            connect.start_chat_contact(InstanceId=chat["InstanceId"], ContactFlowId=chat["ContactFlowId"],
                                       ParticipantDetails={"DisplayName": "Refused"})
        assert started.value.response["Error"]["Code"] == "ThrottlingException"
        assert started.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        lock.rollback()
        lock.close()
        pool.shutdown(wait=True)

    accepted, refused = [], []
    for content, future in probes.items():
        exc = future.exception()
        if exc is None:
            accepted.append(content)
        else:
            assert isinstance(exc, ClientError) and throttled(exc), f"{content} failed otherwise: {exc!r}"
            refused.append(content)
    assert refused and accepted, (accepted, refused)

    # Drained: the server takes requests again (a client backs off and retries, as boto3 does by itself).
    patient = participant(srv.url, retries=10)
    patient.send_message(ConnectionToken=token, ContentType="text/plain", Content="after")
    items = patient.get_transcript(ConnectionToken=token, MaxResults=100)["Transcript"]
    stored = [i["Content"] for i in items if i["Type"] == "MESSAGE"]
    assert sorted(stored) == sorted(["before", *accepted, "after"]), "a refused message was stored or one lost"


def test_with_admission_off_nothing_is_refused() -> None:
    server = start_server(["--demo", "--admission", "off"])
    try:
        client = participant(server.url)
        chat = start_chat(server.connect())
        token = client.create_participant_connection(
            ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )["ConnectionCredentials"]["ConnectionToken"]
        lock = sqlite3.connect(server.data_dir / "parley.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        pool = ThreadPoolExecutor(max_workers=MAX_PROBES)
        try:
            # Probes in waves as in the test above, where the server with admission on refused within a few waves.
            futures: dict[str, Future[Any]] = {}
            for _ in range(MAX_PROBES // 2 // WAVE):
                wave = [futures.setdefault(content, pool.submit(
                    client.send_message, ConnectionToken=token, ContentType="text/plain", Content=content))
                    for content in (f"probe {len(futures) + k}" for k in range(WAVE))]
                done, _ = wait(wave, timeout=PROBE_WAIT)
                assert not done, "answered while the database was locked: nothing should have been refused"
        finally:
            lock.rollback()
            lock.close()
            pool.shutdown(wait=True)
        assert all(f.exception() is None for f in futures.values())
        stored: set[str] = set()
        page: dict[str, Any] = {"NextToken": None}
        while "NextToken" in page:
            more = {"NextToken": page["NextToken"]} if page["NextToken"] else {}
            page = client.get_transcript(ConnectionToken=token, MaxResults=100, **more)
            stored |= {i["Content"] for i in page["Transcript"] if i["Type"] == "MESSAGE"}
        assert stored == set(futures)
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)

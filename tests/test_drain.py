"""A graceful stop drains (:class:`parley.server.DrainingServer`): on a real ``parley serve`` under constant
SendMessage load from several keep-alive clients, with a participant websocket and an agent's snapshot long poll
open, SIGTERM gets every request an answer (200, or 503 with ``Connection: close``; never a reset or a
connection closed without an answer), the websocket a close with 1001, the long poll its snapshot, and the
process exits 0 within the drain timeout. Every acknowledged message is in the transcript after a restart.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Message

from parley.aws.cti.api import CtiApi
from parley.domain.agents import AgentSession
from tests.aws.chat_helpers import Socket, new_chat, participant_client
from tests.aws.conftest import builtin_ids
from tests.conftest import Server, start_server

DRAIN_SECONDS = 10
SENDERS = 6
# How long a test waits for the server to do something it must do (generous: the machine is shared).
WAIT = 15.0
CTI = "AmazonConnectCTIService."


@dataclass
class Sender:
    """One keep-alive client sending messages back to back until the server stops taking connections."""

    url: str
    token: str
    name: str
    answers: list[tuple[float, int, str, str]] = field(default_factory=list)  # time, status, connection, Id
    failures: list[str] = field(default_factory=list)
    refused_at: float | None = None

    def run(self, stop: threading.Event) -> None:
        headers = {"X-Amz-Bearer": self.token, "Content-Type": "application/json"}
        with httpx.Client(base_url=self.url, timeout=WAIT, limits=httpx.Limits(max_connections=1)) as http:
            count = 0
            while not stop.is_set():
                count += 1
                body = json.dumps({"ContentType": "text/plain", "Content": f"{self.name} {count}"})
                try:
                    answer = http.post("/participant/message", content=body, headers=headers)
                except httpx.ConnectError:  # a new connection refused: the request was never sent
                    self.refused_at = time.monotonic()
                    return
                except httpx.HTTPError as exc:  # sent, and no answer: what a drain must never do
                    self.failures.append(repr(exc))
                    return
                message_id = answer.json().get("Id", "") if answer.status_code == 200 else ""
                self.answers.append((time.monotonic(), answer.status_code,
                                     answer.headers.get("connection", "").lower(), message_id))


def sign_in(url: str, username: str = "agent1", password: str = "Parley-demo-1") -> tuple[httpx.Client, str]:
    """An agent's browser session and CTI access token, through the real login form."""
    http = httpx.Client(base_url=url, follow_redirects=False, timeout=WAIT)
    page = http.get("/connect/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text[:300]
    signed = http.post("/connect/login", data={"username": username, "password": password, "instance": "demo",
                                               "csrf": csrf.group(1), "landat": "/connect/ccp-v2/"})
    assert signed.status_code == 303, signed.text[:300]
    return http, str(http.get("/auth/authorize").json()["accessToken"])


def cti(http: httpx.Client, token: str, op: str, **params: Any) -> httpx.Response:
    return http.post("/api", content=json.dumps({"authentication": {"authToken": token}, **params}),
                     headers={"X-Amz-Target": CTI + op, "Content-Type": "application/x-amz-json-1.0"},
                     timeout=60)


def test_sigterm_answers_every_request_closes_websockets_with_1001_and_exits_0(tmp_path: Path) -> None:
    server = start_server(["--demo", "--drain-timeout", str(DRAIN_SECONDS)], tmp_path / "data")
    try:
        drained(server)
    finally:
        server.stop()


def drained(server: Server) -> None:
    connect = server.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    demo = builtin_ids(connect, instance)
    participants = participant_client(server.url)
    chats = [new_chat(connect, participants, demo) for _ in range(SENDERS // 2)]
    parties = [party for chat in chats for party in (chat.customer, chat.bot) if party is not None]
    websocket = Socket.open(chats[0].customer.websocket_url)

    agent, token = sign_in(server.url)
    first = cti(agent, token, "GetAgentSnapshot")
    assert first.status_code == 200, first.text
    poll: dict[str, Any] = {}

    def long_poll() -> None:  # held by the server: nothing changes for this agent
        try:
            answer = cti(agent, token, "GetAgentSnapshot", nextToken=first.json()["nextToken"], timeout=25000)
            poll.update(status=answer.status_code, text=answer.text, at=time.monotonic())
        except httpx.HTTPError as exc:
            poll.update(error=repr(exc))

    stop = threading.Event()
    senders = [Sender(server.url, party.connection_token, f"sender{i}") for i, party in enumerate(parties)]
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in senders]
    threads.append(threading.Thread(target=long_poll, daemon=True))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT
    while min(len(s.answers) for s in senders) < 20:  # every sender is going
        assert time.monotonic() < deadline, [len(s.answers) for s in senders]
        assert not any(s.failures for s in senders), [s.failures for s in senders]
        time.sleep(0.05)
    assert not poll, poll  # still held

    assert server.process is not None
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    status = server.process.wait(timeout=DRAIN_SECONDS + WAIT)
    exited = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join(timeout=WAIT)
    agent.close()

    assert status == 0, f"exit status {status}\n{server.log()[-3000:]}"
    assert exited - signalled < DRAIN_SECONDS + 2  # within the drain timeout (the process did not hang)
    for sender in senders:
        assert sender.failures == [], (sender.name, sender.failures)
        assert sender.refused_at is not None  # it ran until the server stopped taking connections
        for _at, code, connection, _id in sender.answers:
            assert code == 200 or (code == 503 and connection == "close"), (sender.name, code, connection)
        # Its last request was answered while the server drained, with Connection: close (then it was refused).
        last_at, _code, connection, _id = sender.answers[-1]
        assert last_at >= signalled and connection == "close", (sender.name, sender.answers[-3:])
    assert websocket.wait_closed(WAIT) == 1001
    websocket.close()
    assert poll.get("status") == 200, poll  # answered with the current snapshot, not dropped
    answered = json.loads(poll["text"])
    assert answered["snapshot"]["state"] and answered["nextToken"]
    assert poll["at"] < exited
    assert "Traceback" not in server.log(), server.log()[-3000:]

    # Every acknowledged message was committed: the restarted server has each in its chat's transcript.
    server.start()
    for party, sender in zip(parties, senders, strict=True):
        stored = {item["Id"] for item in party.items()}
        acknowledged = {message_id for _at, code, _c, message_id in sender.answers if code == 200}
        assert acknowledged <= stored, (sender.name, len(acknowledged - stored))


def test_a_request_sent_on_an_idle_keep_alive_connection_as_the_drain_starts_is_answered(tmp_path: Path) -> None:
    """uvicorn closed idle keep-alive connections the moment it stopped, so a request a client was sending on one
    right then got no answer; Parley keeps them a moment (answering with Connection: close)."""
    server = start_server(["--demo"], tmp_path / "data")
    try:
        assert server.process is not None
        idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
        idle.request("GET", "/health")
        assert idle.getresponse().read()
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + WAIT
        while True:  # the drain has started once the listening socket is closed
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() < deadline, "the server kept listening"
            time.sleep(0.01)
        idle.request("GET", "/health")  # the same connection (http.client does not reconnect on its own)
        answer = idle.getresponse()
        assert answer.status == 200
        assert answer.getheader("connection") == "close"
        answer.read()
        idle.close()
        assert server.process.wait(timeout=DRAIN_SECONDS + WAIT) == 0
    finally:
        server.stop()


async def test_a_snapshot_long_poll_is_answered_with_the_current_state_when_the_drain_starts() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    who = AgentSession("access", "instance-1", "user-1", now, now + timedelta(hours=1))
    seen: list[dict[str, Any]] = []

    async def snapshot(agent: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        if body.get("timeout") != 0:
            await asyncio.sleep(60)  # the long poll: nothing changes
        return {"snapshot": {"state": "current"}, "nextToken": "v2"}

    async def resolve(token: str) -> AgentSession | None:
        return who if token == "good" else None

    async def receive() -> Message:
        if not seen:
            return {"type": "http.request", "body": b'{"authentication": {"authToken": "good"}, "nextToken": "v1"}',
                    "more_body": False}
        await asyncio.sleep(3600)  # the client stays
        return {"type": "http.disconnect"}

    stopping = asyncio.Event()
    api = CtiApi({"GetAgentSnapshot": snapshot}, resolve, stopping)
    scope = {"type": "http", "method": "POST", "path": "/api", "raw_path": b"/api", "query_string": b"",
             "headers": [(b"x-amz-target", b"AmazonConnectCTIService.GetAgentSnapshot")]}
    answer = asyncio.ensure_future(api.handle(Request(scope, receive)))
    while not seen:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert not answer.done()  # held
    stopping.set()
    response = await asyncio.wait_for(answer, WAIT)
    assert response.status_code == 200
    assert json.loads(bytes(response.body)) == {"snapshot": {"state": "current"}, "nextToken": "v2"}
    assert seen[-1]["timeout"] == 0

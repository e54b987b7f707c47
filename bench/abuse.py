"""Abuse scenario of issue 17's acceptance, measured from outside: while participant websockets stream the largest
frames they can and clients guess an agent's password, how fast does SendMessage in an unrelated chat answer, and
how big does the server get?

    .venv/bin/python -m bench.abuse [--frame-bytes 10485760] [--sockets 2] [--guessers 24] [--seconds 15]
                                    [--server-src DIR] [--nice -10] [--label NAME] [--out /tmp/abuse.json]

It starts its own ``parley serve --demo`` (with ``--server-src``, the ``src`` directory of another checkout goes
first on the server's ``PYTHONPATH``, e.g. an older commit unpacked with ``git archive``) and stops only that
process, by its pid. Everything goes through public protocols: boto3 for StartChatContact and
CreateParticipantConnection, plain HTTP/1.1 for SendMessage and the sign-in form, RFC 6455 websockets.

1. Three chats are started on the demo instance's ``Sample inbound flow``: the victim's and one per attacking
   socket (each attacker has its own chat and valid tickets).
2. Idle: SendMessage as the victim's customer at ``--rate`` per second (open loop: a late answer does not delay
   the next send, and latency counts from the scheduled time) for ``--idle-seconds``.
3. Abuse, ``--seconds`` long, the probe still running: ``--sockets`` websockets each send frames of
   ``--frame-bytes`` (a padded ``aws/heartbeat``) as fast as the socket takes them and, whenever the server
   closes one, take a new CreateParticipantConnection and carry on; ``--guessers`` clients POST wrong passwords
   for ``agent1`` to ``/connect/login`` (with the form's double-submit CSRF token) as fast as they are answered,
   ignoring ``Retry-After``, from another loopback address than the probe's (an attacker is not the agent).
   The attackers run in two processes of their own, so their work does not delay the probe's event loop.
4. The server's RSS (``VmRSS``) is sampled every ``--rss-every`` seconds throughout.
5. After the abuse, the real agent1 signs in with the right password from the probe's address, honouring any
   ``Retry-After``; the time until it is in is compared with the end of the back-off window the attackers saw.

On a shared machine, the server and the probe wait for a CPU behind everyone else's work (Linux shares the CPU
between sessions first: autogroups). The run records how long the server's and the probe's event loops waited
runnable (``/proc/<pid>/task/<tid>/schedstat``); ``--nice -10`` (root) gives the server's and the probe's
sessions priority over the rest of the machine, as machines of their own would have, while the attackers (in
sessions of their own, at nice 0) compete with the rest.

The results go to ``--out`` as JSON and a short markdown summary to stdout. Nothing here asserts a threshold
except the summary's check of the acceptance (SendMessage p95 ≤ 50 ms under abuse, RSS growth < 100 MB). The
machine's load average is recorded: on a shared machine the figures are indicative.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.process
import multiprocessing.synchronize
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.lib import HttpConn, HttpError, HttpPool, Server, cpu_seconds, free_port, pct, read_chunked, status_kib

# Any region does for the demo; the one the tests use.
REGION = "us-west-2"
# The demo instance's Connect API credentials (``parley serve --demo``).
DEMO_KEY = "test"
DEMO_INSTANCE = "demo"
DEMO_FLOW = "Sample inbound flow"
DEMO_AGENT = "agent1"
DEMO_PASSWORD = "Parley-demo-1"
# The acceptance: SendMessage p95 under abuse and the server's RSS growth.
GOAL_P95_MS = 50.0
GOAL_RSS_GROWTH_MB = 100.0
# The probe's and the real agent's address, and the first attacker address: any 127/8 address reaches a server
# listening on 127.0.0.1, so the attackers can be told apart from the agent by address as on a real network.
HOST = "127.0.0.1"
ATTACKER_NET = "127.0.0."
FIRST_ATTACKER_HOST = 2
# Connections the probe may hold: enough that a slow answer never makes the next scheduled send wait for a
# connection at 10/s unless answers take 0.8 s (then the wait counts in latency, as it should).
PROBE_CONNECTIONS = 8
# How long the probe waits for the answers still outstanding when a phase ends.
DRAIN_SECONDS = 60.0
# How long after the abuse the RSS peak is still watched at least (memory taken late would show here).
AFTER_SECONDS = 2.0
# A socket or connection the attacker could not get is retried after this pause (no busy loop on refusal).
RETRY_PAUSE = 0.05
# How long the real agent keeps trying to sign in after the abuse (Parley's longest back-off is 15 minutes; the
# window a 15-second attack opens is far shorter).
SIGNIN_GIVE_UP = 300.0
# Attack processes must report ready within this (spawning Python and importing websockets on a busy machine).
READY_TIMEOUT = 60.0
# The sign-in form's CSRF token (its hidden field; the cookie must carry the same value).
CSRF_FIELD = re.compile(rb'name="csrf" value="([^"]+)"')


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def latency_summary(values_ms: list[float]) -> dict[str, Any]:
    return {"n": len(values_ms), "p50_ms": _r(pct(values_ms, 0.50)), "p95_ms": _r(pct(values_ms, 0.95)),
            "p99_ms": _r(pct(values_ms, 0.99)), "max_ms": _r(max(values_ms) if values_ms else None),
            "over_50ms": sum(1 for v in values_ms if v > GOAL_P95_MS)}


# --- a small HTTP/1.1 client that binds its source address and keeps the response headers ----------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class RawHttp(HttpConn):
    """:class:`bench.lib.HttpConn` from ``source`` that keeps the response headers and reopens a kept-alive
    connection the server closed meanwhile."""

    async def exchange(self, method: str, path: str, headers: dict[str, str] | None = None,
                       body: bytes = b"") -> Answer:
        """One request; a kept-alive connection the server closed meanwhile is reopened once."""
        for attempt in (1, 2):
            reused = self.writer is not None
            try:
                return await self._request(method, path, headers, body)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self.close()
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, headers: dict[str, str] | None, body: bytes) -> Answer:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                fields[name] = f"{fields[name]}, {value.strip()}" if name in fields else value.strip()
        if "content-length" in fields:
            n = int(fields["content-length"])
            data = await self.reader.readexactly(n) if n else b""
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            data = await read_chunked(self.reader)
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, fields, data)


# --- the attackers (each kind in a process of its own) -------------------------------------------------------

@dataclass
class Window:
    """Shared between the orchestrator and an attack process: when to start and stop (``time.monotonic`` is the
    same clock in every process of the machine)."""

    go: multiprocessing.synchronize.Event
    start_at: Any  # multiprocessing.Value('d')
    stop_at: Any


def heartbeat_frame(size: int) -> bytes:
    """A valid ``aws/heartbeat`` frame of exactly ``size`` bytes (padded in its content)."""
    head, tail = b'{"topic":"aws/heartbeat","content":"', b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


async def _socket_url(http: RawHttp, participant_token: str) -> tuple[str | None, int]:
    """CreateParticipantConnection (WEBSOCKET) with the attacker's participant token: (URL or None, status)."""
    answer = await http.exchange("POST", "/participant/connection", {
        "X-Amz-Bearer": participant_token, "Content-Type": "application/json"}, b'{"Type":["WEBSOCKET"]}')
    if answer.status != 200:
        return None, answer.status
    return str(json.loads(answer.body)["Websocket"]["Url"]), 200


async def _stream_frames(port: int, participant_token: str, frame: bytes, stop_at: float,
                         stats: Counter[str], lifetimes: list[float], frames_per_socket: list[int]) -> None:
    """One attacking socket: open, send ``frame`` as fast as the socket takes it; when the server closes the
    socket (or refuses one), get a new connection and carry on until ``stop_at``."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    http = RawHttp(HOST, port)
    while time.monotonic() < stop_at:
        try:
            url, status = await _socket_url(http, participant_token)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats[f"connection_error {type(exc).__name__}"] += 1
            await asyncio.sleep(RETRY_PAUSE)
            continue
        stats[f"create_connection {status}"] += 1
        if url is None:
            await asyncio.sleep(RETRY_PAUSE)
            continue
        sent = 0
        opened: float | None = None
        try:
            async with connect(url, max_size=None, compression=None, proxy=None, open_timeout=30,
                               ping_interval=None, close_timeout=2) as ws:
                stats["sockets_opened"] += 1
                opened = time.monotonic()

                async def drain() -> None:
                    async for _ in ws:  # read what the server answers, so its writes never back up
                        stats["frames_received"] += 1

                reader = asyncio.create_task(drain())
                try:
                    while time.monotonic() < stop_at:
                        await ws.send(frame, text=True)
                        sent += 1
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await reader
                stats["sockets_still_open_at_end"] += 1
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else "no close frame"
            stats[f"closed {code}"] += 1
            if opened is not None:
                lifetimes.append(time.monotonic() - opened)
        except InvalidStatus as exc:
            stats[f"handshake refused {exc.response.status_code}"] += 1
            await asyncio.sleep(RETRY_PAUSE)
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            stats[f"socket_error {type(exc).__name__}"] += 1
            await asyncio.sleep(RETRY_PAUSE)
        finally:
            stats["frames_sent"] += sent
            stats["bytes_sent"] += sent * len(frame)
            if opened is not None:
                frames_per_socket.append(sent)
    http.close()


async def _socket_attack(port: int, tokens: list[str], frame_bytes: int, window: Window,
                         ready: Any) -> dict[str, Any]:
    frame = heartbeat_frame(frame_bytes)
    stats: Counter[str] = Counter()
    lifetimes: list[float] = []
    per_socket: list[int] = []
    ready.put("sockets ready")
    await asyncio.to_thread(window.go.wait)
    start_at, stop_at = window.start_at.value, window.stop_at.value
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    began = time.monotonic()
    await asyncio.gather(*(_stream_frames(port, token, frame, stop_at, stats, lifetimes, per_socket)
                           for token in tokens))
    ended = time.monotonic()
    lifetimes_ms = [1000 * t for t in lifetimes]
    return {
        "sockets": len(tokens), "frame_bytes": len(frame), "seconds": round(ended - began, 2),
        "late_start_ms": round(1000 * (began - start_at), 1),
        "counts": dict(sorted(stats.items())),
        "mb_per_s": round(stats["bytes_sent"] / 1e6 / max(1e-9, ended - began), 1),
        "socket_lifetime_ms": {"p50": _r(pct(lifetimes_ms, 0.5)), "max": _r(max(lifetimes_ms, default=0.0))},
        "frames_per_socket": {"p50": pct([float(n) for n in per_socket], 0.5), "max": max(per_socket, default=0)},
    }


async def _guess(port: int, source: str, window_end: list[float], stats: Counter[str], latencies: list[float],
                 retry_after: list[int], stop_at: float, n: int) -> None:
    """One password guesser: fetch the form (its CSRF token), then POST wrong passwords back to back."""
    http = RawHttp(HOST, port, source)
    token = ""
    guess = 0
    while time.monotonic() < stop_at:
        try:
            if not token:
                page = await http.exchange("GET", f"/connect/login?instance={DEMO_INSTANCE}")
                found = CSRF_FIELD.search(page.body)
                if found is None:
                    stats[f"form {page.status} without token"] += 1
                    await asyncio.sleep(RETRY_PAUSE)
                    continue
                token = found.group(1).decode()
            guess += 1
            body = urlencode({"csrf": token, "landat": "/connect/ccp-v2/", "instance": DEMO_INSTANCE,
                              "username": DEMO_AGENT, "password": f"guess-{n}-{guess}"}).encode()
            began = time.monotonic()
            answer = await http.exchange("POST", "/connect/login", {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"parley_csrf={token}"}, body)
            now = time.monotonic()
            latencies.append(1000 * (now - began))
            stats[str(answer.status)] += 1
            wait = answer.headers.get("retry-after")
            if wait is not None and wait.isdigit():
                retry_after.append(int(wait))
                if answer.status == 429:
                    window_end[0] = max(window_end[0], now + int(wait))
            if answer.status == 303:
                stats["signed_in (wrong password accepted!)"] += 1
            if answer.status == 403:
                token = ""  # the form expired: fetch a new token
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats[f"error {type(exc).__name__}"] += 1
            http.close()
            await asyncio.sleep(RETRY_PAUSE)
    http.close()


async def _login_attack(port: int, guessers: int, addresses: int, window: Window, ready: Any) -> dict[str, Any]:
    stats: Counter[str] = Counter()
    latencies: list[float] = []
    retry_after: list[int] = []
    window_end = [0.0]
    sources = [f"{ATTACKER_NET}{FIRST_ATTACKER_HOST + i % max(1, addresses)}" for i in range(guessers)]
    ready.put("guessers ready")
    await asyncio.to_thread(window.go.wait)
    start_at, stop_at = window.start_at.value, window.stop_at.value
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    began = time.monotonic()
    await asyncio.gather(*(_guess(port, sources[i], window_end, stats, latencies, retry_after, stop_at, i)
                           for i in range(guessers)))
    ended = time.monotonic()
    attempts = len(latencies)
    return {
        "guessers": guessers, "source_addresses": sorted(set(sources)), "seconds": round(ended - began, 2),
        "late_start_ms": round(1000 * (began - start_at), 1),
        "attempts": attempts, "attempts_per_s": round(attempts / max(1e-9, ended - began), 1),
        "status_counts": dict(sorted(stats.items())),
        "passwords_checked": stats["401"],  # a 401 is a wrong password the server hashed (Argon2) and compared
        "answer_ms": {"p50": _r(pct(latencies, 0.5)), "p95": _r(pct(latencies, 0.95)),
                      "max": _r(max(latencies, default=0.0))},
        "retry_after_s": {"min": min(retry_after, default=None), "max": max(retry_after, default=None)},
        # The end of the back-off window the attackers last saw (monotonic): the real agent is measured against it.
        "window_end_monotonic": window_end[0] or None,
    }


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def socket_attack_process(port: int, tokens: list[str], frame_bytes: int, window: Window, ready: Any,
                          results: Any) -> None:
    os.setsid()  # a scheduling group (autogroup) of its own, as an attacker's machine would be
    cpu = _cpu_s()
    out = asyncio.run(_socket_attack(port, tokens, frame_bytes, window, ready))
    results.put(("sockets", {**out, "attacker_cpu_s": round(_cpu_s() - cpu, 2)}))


def login_attack_process(port: int, guessers: int, addresses: int, window: Window, ready: Any,
                         results: Any) -> None:
    os.setsid()  # a scheduling group (autogroup) of its own, as an attacker's machine would be
    cpu = _cpu_s()
    out = asyncio.run(_login_attack(port, guessers, addresses, window, ready))
    results.put(("login", {**out, "attacker_cpu_s": round(_cpu_s() - cpu, 2)}))


# --- the orchestrator: server, chats, probe, RSS ---------------------------------------------------------------

def demo_chats(url: str, count: int) -> list[dict[str, str]]:
    """``count`` chats on the demo instance: each customer's participant token and connection token (boto3)."""
    import boto3
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"max_attempts": 3})
    connect = boto3.client("connect", endpoint_url=url, region_name=REGION, aws_access_key_id=DEMO_KEY,
                           aws_secret_access_key=DEMO_KEY, config=config)
    participant = boto3.client("connectparticipant", endpoint_url=url, region_name=REGION,
                               aws_access_key_id="x", aws_secret_access_key="x", config=config)
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"]
                    if i["InstanceAlias"] == DEMO_INSTANCE)
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
                if f["Name"] == DEMO_FLOW)
    chats = []
    for k in range(count):
        started = connect.start_chat_contact(InstanceId=instance, ContactFlowId=flow,
                                             ParticipantDetails={"DisplayName": f"Abuse bench {k}"})
        grant = participant.create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"],
            ConnectParticipant=True)
        chats.append({"contact_id": started["ContactId"], "participant_token": started["ParticipantToken"],
                      "connection_token": grant["ConnectionCredentials"]["ConnectionToken"]})
    return chats


@dataclass
class Probe:
    """SendMessage in the victim chat at a fixed rate, open loop."""

    pool: HttpPool
    connection_token: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    sent: int = 0

    async def _one(self, scheduled: float) -> None:
        self.sent += 1
        body = json.dumps({"ContentType": "text/plain", "Content": f"probe {self.sent}"}).encode()
        try:
            status, _ = await self.pool.request("POST", "/participant/message", {
                "X-Amz-Bearer": self.connection_token, "Content-Type": "application/json"}, body)
            self.statuses[str(status)] += 1
        except HttpError as exc:
            self.statuses[f"error {exc}"] += 1
            return
        if status == 200:
            self.latencies.append(1000 * (time.monotonic() - scheduled))

    async def run(self, seconds: float) -> dict[str, Any]:
        """Send for ``seconds``, then wait for every answer; the latencies and statuses of this phase."""
        self.latencies, self.statuses, self.sent = [], Counter(), 0
        began = time.monotonic()
        tasks = []
        k = 0
        while True:
            scheduled = began + k / self.rate
            if scheduled >= began + seconds:
                break
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(self._one(scheduled)))
            k += 1
        _done, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()
            self.statuses["unanswered"] += 1
        ok = self.statuses.get("200", 0)
        return {**latency_summary(self.latencies), "sent": len(tasks), "succeeded": ok,
                "all_succeeded": ok == len(tasks), "statuses": dict(self.statuses)}


@dataclass
class RssSampler:
    pid: int
    every: float
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, KiB)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.samples.append((time.monotonic(), status_kib(self.pid, "VmRSS")))
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def last_before(self, t: float) -> int:
        before = [kib for at, kib in self.samples if at <= t]
        return before[-1] if before else self.samples[0][1]

    def peak_between(self, t0: float, t1: float) -> int:
        return max((kib for at, kib in self.samples if t0 <= at <= t1), default=0)


async def real_agent_signin(port: int, abuse_end: float) -> dict[str, Any]:
    """From the end of the abuse, agent1 signs in with the right password from the probe's address, waiting out
    any ``Retry-After``."""
    await asyncio.sleep(max(0.0, abuse_end - time.monotonic()))
    http = RawHttp(HOST, port)
    began = time.monotonic()
    attempts: list[dict[str, Any]] = []
    signed_in_at: float | None = None
    while time.monotonic() - began < SIGNIN_GIVE_UP:
        try:
            page = await http.exchange("GET", f"/connect/login?instance={DEMO_INSTANCE}")
            found = CSRF_FIELD.search(page.body)
            assert found is not None, f"no CSRF token in the sign-in form ({page.status})"
            token = found.group(1).decode()
            body = urlencode({"csrf": token, "landat": "/connect/ccp-v2/", "instance": DEMO_INSTANCE,
                              "username": DEMO_AGENT, "password": DEMO_PASSWORD}).encode()
            answer = await http.exchange("POST", "/connect/login", {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"parley_csrf={token}"}, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            attempts.append({"at_s": round(time.monotonic() - abuse_end, 2), "error": type(exc).__name__})
            http.close()
            await asyncio.sleep(1)
            continue
        now = time.monotonic()
        wait = answer.headers.get("retry-after")
        attempts.append({"at_s": round(now - abuse_end, 2), "status": answer.status, "retry_after": wait})
        if answer.status == 303:
            signed_in_at = now
            break
        await asyncio.sleep(float(wait) if wait and wait.isdigit() else 1.0)
    http.close()
    return {"signed_in": signed_in_at is not None, "attempts": attempts,
            "seconds_after_abuse": _r(signed_in_at - abuse_end) if signed_in_at else None}


def against_window(signin: dict[str, Any], window_end: float | None, abuse_end: float) -> dict[str, Any]:
    """``signin`` with the end of the attackers' last back-off window (seconds after the abuse) and whether the
    agent was in by then (the server rounds Retry-After up to whole seconds and the agent polls after each one:
    1 s of slack)."""
    out = dict(signin)
    ends = None if window_end is None else round(window_end - abuse_end, 2)
    out["backoff_window_ends_s_after_abuse"] = ends
    after = signin["seconds_after_abuse"]
    out["within_window_end"] = after is not None and (ends is None or after <= max(0.0, ends) + 1.0)
    return out


def schedstat(pid: int) -> tuple[float, float, float]:
    """The process's CPU seconds (``/proc/<pid>/stat``: every thread's, ended ones too), and the seconds its live
    threads and its main thread (the event loop) waited runnable for a CPU (``/proc/<pid>/task/*/schedstat``)."""
    waited = main = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/schedstat") as f:
            fields = f.read().split()
            waited += int(fields[1])
            if task == str(pid):
                main = int(fields[1])
    return cpu_seconds(pid), waited / 1e9, main / 1e9


def own_wait() -> float:
    """Seconds this process's main thread (the probe's event loop) waited runnable for a CPU."""
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def sched_delta(before: tuple[float, float, float, float], after: tuple[float, float, float, float],
                seconds: float) -> dict[str, float]:
    cpu = after[0] - before[0]
    return {"cpu_s": round(cpu, 2), "cpu_pct_of_core": round(100 * cpu / seconds, 1),
            "runqueue_wait_s": round(after[1] - before[1], 2),
            "loop_thread_runqueue_wait_s": round(after[2] - before[2], 2),
            "probe_loop_runqueue_wait_s": round(after[3] - before[3], 2)}


def sched_now(pid: int) -> tuple[float, float, float, float]:
    return (*schedstat(pid), own_wait())


async def sched_at(pid: int, when: float) -> tuple[float, float, float, float]:
    await asyncio.sleep(max(0.0, when - time.monotonic()))
    return sched_now(pid)


def server_for(args: argparse.Namespace, tmp: Path) -> Server:
    port = free_port()
    env = dict(os.environ)
    if args.server_src:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(args.server_src).resolve()), env.get("PYTHONPATH", "")])
    argv = [sys.executable, "-m", "parley", "serve", "--demo", "--port", str(port), "--data-dir", str(tmp / "data")]
    return Server(args.label, argv, port, tmp / "server.log", env=env)


def set_autogroup_nice(pid: int, nice: int) -> None:
    """Set the nice value of the scheduling group (autogroup: one per session) of ``pid``. With autogroups on, the
    CPU is shared between sessions first, so a process's own nice value counts only inside its session."""
    with open(f"/proc/{pid}/autogroup", "w") as f:
        f.write(str(nice))


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="parley-abuse-"))
    server = server_for(args, tmp)
    await server.start()
    if args.nice:
        set_autogroup_nice(server.pid, args.nice)
    ctx = multiprocessing.get_context("spawn")
    procs: list[multiprocessing.process.BaseProcess] = []
    try:
        chats = await asyncio.to_thread(demo_chats, server.url, 1 + args.sockets)
        victim, attackers = chats[0], chats[1:]
        pool = HttpPool(HOST, server.port, PROBE_CONNECTIONS)
        probe = Probe(pool, victim["connection_token"], args.rate)
        rss = RssSampler(server.pid, args.rss_every)
        rss.start()
        await probe.run(1.0)  # warm-up, not reported
        load_start = loadavg()
        sched0 = sched_now(server.pid)
        idle = await probe.run(args.idle_seconds)
        sched_idle = sched_delta(sched0, sched_now(server.pid), args.idle_seconds)

        window = Window(ctx.Event(), ctx.Value("d", 0.0), ctx.Value("d", 0.0))
        ready, results = ctx.Queue(), ctx.Queue()
        if args.sockets:
            procs.append(ctx.Process(target=socket_attack_process, args=(
                server.port, [c["participant_token"] for c in attackers], args.frame_bytes, window, ready,
                results)))
        if args.guessers:
            procs.append(ctx.Process(target=login_attack_process, args=(
                server.port, args.guessers, args.attacker_addresses, window, ready, results)))
        for proc in procs:
            proc.start()
        for _ in procs:
            await asyncio.to_thread(ready.get, True, READY_TIMEOUT)
        start_at = time.monotonic() + 0.2
        abuse_end = start_at + args.seconds
        window.start_at.value, window.stop_at.value = start_at, abuse_end
        window.go.set()
        signin_task = asyncio.create_task(real_agent_signin(server.port, abuse_end))
        sched_end = asyncio.create_task(sched_at(server.pid, abuse_end))
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        rss_before = rss.last_before(start_at)
        sched1 = sched_now(server.pid)
        abused = await probe.run(args.seconds)
        sched_abuse = sched_delta(sched1, await sched_end, args.seconds)
        load_end = loadavg()
        attack: dict[str, Any] = {}
        for _ in procs:
            kind, result = await asyncio.to_thread(results.get, True, DRAIN_SECONDS + args.seconds)
            attack[kind] = result
        for proc in procs:
            await asyncio.to_thread(proc.join, 10)
        window_end = attack.get("login", {}).get("window_end_monotonic")
        signin = against_window(await signin_task, window_end, abuse_end)
        await asyncio.sleep(max(0.0, abuse_end + AFTER_SECONDS - time.monotonic()))
        # The peak over the abuse and whatever backlog it left (until every probe was answered and the agent in).
        rss_peak = rss.peak_between(start_at, time.monotonic())
        rss_after = rss.last_before(time.monotonic())
        await rss.stop()
        pool.close()
        growth_mb = (rss_peak - rss_before) * 1024 / 1e6
        p95 = abused["p95_ms"]
        return {
            "label": args.label,
            "server_src": str(Path(args.server_src).resolve()) if args.server_src else "installed parley",
            "server_command": " ".join(["python" if a == sys.executable else a for a in server.argv]),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadavg": {"start": load_start, "end_of_abuse": load_end}, "nproc": os.cpu_count(),
            "config": {"seconds": args.seconds, "idle_seconds": args.idle_seconds, "rate": args.rate,
                       "sockets": args.sockets, "frame_bytes": args.frame_bytes, "guessers": args.guessers,
                       "attacker_addresses": args.attacker_addresses, "nice": args.nice,
                       "rss_every": args.rss_every},
            "send_message": {"idle": idle, "abuse": abused},
            "rss": {"before_mib": round(rss_before / 1024, 1), "peak_mib": round(rss_peak / 1024, 1),
                    "growth_mb": round(growth_mb, 1), "after_signin_mib": round(rss_after / 1024, 1),
                    "samples_during_abuse": sum(1 for at, _ in rss.samples if start_at <= at <= abuse_end)},
            # The server's CPU, and how long its threads waited runnable for a CPU (others' load on a shared
            # machine: latency the server's own design does not cause).
            "server_sched": {"idle": sched_idle, "abuse": sched_abuse},
            "attack": attack,
            "real_agent_signin": signin,
            "acceptance": {"p95_le_50ms": p95 is not None and p95 <= GOAL_P95_MS,
                           "rss_growth_lt_100mb": growth_mb < GOAL_RSS_GROWTH_MB,
                           "all_sends_succeeded": bool(idle["all_succeeded"] and abused["all_succeeded"]),
                           "agent_signed_in": bool(signin["signed_in"])},
        }
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        server.stop()


def markdown(result: dict[str, Any]) -> str:
    idle, abused = result["send_message"]["idle"], result["send_message"]["abuse"]
    cfg, rss, attack, signin = result["config"], result["rss"], result["attack"], result["real_agent_signin"]
    sched = result["server_sched"]
    lines = [
        f"### Abuse: {result['label']} ({result['server_src']})",
        "",
        f"{cfg['sockets']} sockets x {cfg['frame_bytes']:,}-byte frames and {cfg['guessers']} password guessers "
        f"(server and probe at autogroup nice {cfg['nice']}, attackers at 0) "
        f"for {cfg['seconds']:g} s; SendMessage at {cfg['rate']:g}/s in an unrelated chat. Load average "
        f"{result['loadavg']['start']} at the start, {result['loadavg']['end_of_abuse']} at the end of the abuse "
        f"({result['nproc']} CPUs).",
        "",
        "| SendMessage | sent | ok | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in (("idle", idle), ("under abuse", abused)):
        lines.append(f"| {name} | {s['sent']} | {s['succeeded']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} "
                     f"| {s['max_ms']} |")
    lines += ["", f"Server RSS: {rss['before_mib']} MiB before, {rss['peak_mib']} MiB at peak (growth "
              f"{rss['growth_mb']} MB), {rss['after_signin_mib']} MiB after the agent's sign-in.",
              f"Server CPU idle {sched['idle']['cpu_pct_of_core']}% of a core, under abuse "
              f"{sched['abuse']['cpu_pct_of_core']}%; its event loop's thread waited runnable for a CPU "
              f"{sched['idle']['loop_thread_runqueue_wait_s']} s idle and "
              f"{sched['abuse']['loop_thread_runqueue_wait_s']} s under abuse (all threads: "
              f"{sched['abuse']['runqueue_wait_s']} s: the server's own threads and the machine's other load); "
              f"the probe's loop waited {sched['idle']['probe_loop_runqueue_wait_s']} s idle and "
              f"{sched['abuse']['probe_loop_runqueue_wait_s']} s under abuse."]
    if "sockets" in attack:
        s = attack["sockets"]
        lines.append(f"Sockets: {s['mb_per_s']} MB/s sent; {s['counts']}; socket lifetime p50 "
                     f"{s['socket_lifetime_ms']['p50']} ms; frames per socket p50 {s['frames_per_socket']['p50']}; "
                     f"attacker CPU {s['attacker_cpu_s']} s.")
    if "login" in attack:
        g = attack["login"]
        lines.append(f"Guessers: {g['attempts']} attempts ({g['attempts_per_s']}/s) from {g['source_addresses']}; "
                     f"answers {g['status_counts']}; passwords checked {g['passwords_checked']}; answer p50 "
                     f"{g['answer_ms']['p50']} ms; Retry-After {g['retry_after_s']}; "
                     f"attacker CPU {g['attacker_cpu_s']} s.")
    lines.append(f"Real agent1 after the abuse: signed in {signin['signed_in']} after "
                 f"{signin['seconds_after_abuse']} s (back-off window ended "
                 f"{signin['backoff_window_ends_s_after_abuse']} s after the abuse; within: "
                 f"{signin['within_window_end']}); {len(signin['attempts'])} attempt(s).")
    acc = result["acceptance"]
    lines += ["", f"Acceptance: p95 ≤ {GOAL_P95_MS:g} ms {'yes' if acc['p95_le_50ms'] else 'NO'}; RSS growth < "
              f"{GOAL_RSS_GROWTH_MB:g} MB {'yes' if acc['rss_growth_lt_100mb'] else 'NO'}; every SendMessage "
              f"succeeded {'yes' if acc['all_sends_succeeded'] else 'NO'}; agent signed in "
              f"{'yes' if acc['agent_signed_in'] else 'NO'}."]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse",
                                     description=(__doc__ or "").split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the abuse lasts (default: 15)")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle measurement (default: 10)")
    parser.add_argument("--rate", type=float, default=10.0, help="SendMessage probes per second (default: 10)")
    parser.add_argument("--sockets", type=int, default=2, help="attacking websockets, one chat each (default: 2)")
    parser.add_argument("--frame-bytes", type=int, default=10 * 1024 * 1024,
                        help="size of each attacking frame (default: 10 MiB; Connect's cap is 32768)")
    parser.add_argument("--guessers", type=int, default=24, help="parallel password guessers (default: 24)")
    parser.add_argument("--attacker-addresses", type=int, default=1,
                        help="loopback addresses the guessers spread over, from 127.0.0.2 (default: 1)")
    parser.add_argument("--nice", type=int, default=0,
                        help="scheduling priority (autogroup nice, -20..19; negative needs root) of the server and of "
                             "this process (the probe), not of the attackers: on a shared machine, keeps others' load "
                             "from starving them, as machines of their own would (default: 0)")
    parser.add_argument("--rss-every", type=float, default=0.2, help="RSS sampling period in s (default: 0.2)")
    parser.add_argument("--server-src", help="a checkout's src directory to run the server from (PYTHONPATH)")
    parser.add_argument("--label", default="parley", help="a name for this run in the results")
    parser.add_argument("--out", default="/tmp/abuse.json", help="JSON results (default: /tmp/abuse.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nice and os.getsid(0) != os.getpid():
        # The probe's priority is its session's: run again as the leader of a session of its own, so that only this
        # run (not the shell that started it) gets the priority.
        argv = sys.argv[1:] if argv is None else argv
        return subprocess.run([sys.executable, "-m", "bench.abuse", *argv], start_new_session=True,
                              check=False).returncode
    if args.nice:
        set_autogroup_nice(os.getpid(), args.nice)
    result = asyncio.run(measure(args))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"\n(results: {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

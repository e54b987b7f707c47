"""Shared pieces of the benchmark: server processes, /proc sampling, percentiles, a lean HTTP/1.1 client.

Nothing here is a test. The load generator speaks the public protocols over real sockets: HTTP/1.1 with
keep-alive (a small client of our own on the hot path, so the generator's own cost stays low) and WebSockets
(the ``websockets`` library, one socket per participant).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary_ms(values_ns: Sequence[int]) -> dict[str, float | None]:
    ms = [v / 1e6 for v in values_ns]
    return {"n": len(ms), "p50_ms": _r(pct(ms, 0.50)), "p99_ms": _r(pct(ms, 0.99)),
            "max_ms": _r(max(ms) if ms else None)}


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(v, nd)


PROBE_WORK = 60_000


def speed_probe(rounds: int = 3, work: int = PROBE_WORK) -> float:
    """Milliseconds of CPU one thread takes for a fixed piece of interpreter work (the best of ``rounds``), scaled
    to ``PROBE_WORK`` iterations.

    This machine's speed is not steady: the same work takes 9 or 16-18 ms, switching within seconds (the host's
    other load; seen with this probe back to back on an idle guest). The probe counts the thread's CPU time, not
    wall time, so being preempted by the guest's own processes does not count, only how fast the CPU ran."""
    best = float("inf")
    for _ in range(rounds):
        t = time.thread_time()
        table: dict[int, str] = {}
        for i in range(work):
            table[i & 1023] = f"{i:x}"
        sum(len(v) for v in table.values())
        best = min(best, time.thread_time() - t)
    return round(1000 * best * PROBE_WORK / work, 3)


# --- processes ------------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its reaped children (clock ticks -> seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the ")" the fields start at index 2 (state); utime=13, stime=14 in 0-based full numbering
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Sampler:
    """Samples a process's CPU and RSS over a window: ``async with Sampler(pid) as s: ...; s.result()``; with
    ``probe``, also the machine's speed (:func:`speed_probe`) every few samples."""

    # A small speed probe every few samples: a thirtieth of speed_probe's work, under 1 ms of the generator's loop
    # every 300 ms at the slow speed.
    PROBE_EVERY = 3
    SMALL_PROBE_WORK = PROBE_WORK // 30

    def __init__(self, pid: int, every: float = 0.1, *, probe: bool = False) -> None:
        self.pid = pid
        self.every = every
        self.probe = probe
        self.peak_rss = 0
        self.probes: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self.t0 = self.t1 = 0.0
        self.c0 = self.c1 = 0.0

    async def __aenter__(self) -> Sampler:
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.pid)
        self.peak_rss = rss_bytes(self.pid)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(self.every)
            with contextlib.suppress(OSError):
                self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))
            tick += 1
            if self.probe and tick % self.PROBE_EVERY == 0:
                self.probes.append(speed_probe(1, self.SMALL_PROBE_WORK))

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.t1, self.c1 = time.monotonic(), cpu_seconds(self.pid)
        self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))

    def result(self) -> dict[str, Any]:
        wall = max(1e-9, self.t1 - self.t0)
        out: dict[str, Any] = {"server_cpu_pct": round(100 * (self.c1 - self.c0) / wall, 1),
                               "server_cpu_s": round(self.c1 - self.c0, 2),
                               "server_peak_rss_mib": round(self.peak_rss / 2**20, 1)}
        if self.probe:
            probes = sorted(self.probes)
            out["probe_during_ms"] = probes[len(probes) // 2] if probes else None
        return out


@dataclass
class Server:
    """A server process we started (and the only kind we ever stop)."""

    name: str
    argv: list[str]
    port: int
    log_path: Path
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ready_path: str = "/health", timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - the child process keeps it
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _ = await one_request("127.0.0.1", self.port, "GET", ready_path)
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        """SIGINT, then SIGKILL: only our own process, by its pid."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# --- a lean HTTP/1.1 keep-alive client -------------------------------------------------------------------------

class HttpError(Exception):
    pass


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A ``Transfer-Encoding: chunked`` body, after its head."""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return b"".join(parts)
        parts.append(chunk[:-2])


class HttpConn:
    """One keep-alive connection; ``source`` binds its local address (an address of this host)."""

    def __init__(self, host: str, port: int, source: str | None = None) -> None:
        self.host, self.port, self.source = host, port, source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        local = (self.source, 0) if self.source else None
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, local_addr=local)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if headers:
            head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        lower = raw.lower()
        i = lower.find(b"content-length:")
        if i >= 0:
            n = int(lower[i + 15:lower.index(b"\r\n", i)])
            data = await self.reader.readexactly(n) if n else b""
        elif b"transfer-encoding: chunked" in lower:
            data = await read_chunked(self.reader)
        else:
            data = b""
        if b"connection: close" in lower:
            self.close()
        return status, data


class ConnectionBudget:
    """How many connections a set of :class:`HttpPool` may open beyond each pool's first: the generator holds every
    participant's sockets and connections in one process, whose descriptors are limited (20,000 here)."""

    def __init__(self, spare: int) -> None:
        self.spare = spare

    def take(self) -> bool:
        if self.spare <= 0:
            return False
        self.spare -= 1
        return True


class HttpPool:
    """Up to ``size`` keep-alive connections; a request waits for a free one (the wait counts in latency).

    By default all ``size`` connections take requests in turn. With ``lifo`` a request takes the connection used
    last, and a further connection opens only while all the open ones are busy (and ``budget``, if given, allows
    one more beyond the first), as a browser's connections to a host do."""

    def __init__(self, host: str, port: int, size: int = 64, lifo: bool = False,
                 budget: ConnectionBudget | None = None) -> None:
        self.host, self.port, self.size, self.lifo, self.budget = host, port, size, lifo, budget
        self._conns: list[HttpConn] = [] if lifo else [HttpConn(host, port) for _ in range(size)]
        self._idle: deque[HttpConn] = deque(self._conns)
        self._waiters: deque[asyncio.Future[HttpConn]] = deque()

    async def _take(self) -> HttpConn:
        if self._idle:
            return self._idle.pop() if self.lifo else self._idle.popleft()
        if len(self._conns) < self.size and (not self._conns or self.budget is None or self.budget.take()):
            self._conns.append(HttpConn(self.host, self.port))
            return self._conns[-1]
        waiter: asyncio.Future[HttpConn] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give(waiter.result())
            raise

    def _give(self, conn: HttpConn) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, bytes]:
        """One request; a kept-alive connection the server closed meanwhile (uvicorn closes idle ones after 5 s)
        is reopened and the request sent once more, as HTTP clients do (the callers' requests are idempotent)."""
        conn = await self._take()
        try:
            for attempt in (1, 2):
                reused = conn.writer is not None
                if reused and conn.reader is not None and conn.reader.at_eof():
                    conn.close()
                    reused = False
                try:
                    return await conn.request(method, path, headers, body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    conn.close()
                    if reused and attempt == 1 and not isinstance(exc, ValueError):
                        continue
                    raise HttpError(str(exc) or type(exc).__name__) from exc
            raise AssertionError("unreachable")
        finally:
            self._give(conn)

    def open_count(self) -> int:
        """Connections open now."""
        return sum(1 for conn in self._conns if conn.writer is not None)

    def close(self) -> None:
        """Close every connection (a request after this opens them again)."""
        for conn in self._conns:
            conn.close()
        if self.lifo:
            if self.budget is not None:
                self.budget.spare += max(0, len(self._conns) - 1)
            self._conns = []
            self._idle.clear()


async def one_request(host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, bytes]:
    conn = HttpConn(host, port)
    try:
        return await conn.request(method, path, headers, body)
    finally:
        conn.close()

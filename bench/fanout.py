"""The fan-out engine: open one WebSocket per participant, send messages at a fixed offered rate (open loop),
measure send-to-delivery latency at every other participant, count errors and losses.

Latency runs from the message's *intended* send time (so a generator that falls behind shows up as latency,
not as a lower rate) to the moment the receiving socket's reader task sees the frame; sender and receivers
live in this process and use one monotonic clock. Each message carries ``BM|<id>|`` in its text; readers find
it in the raw frame without parsing JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.lib import ConnectionBudget, HttpError, HttpPool, Sampler, cpu_seconds, speed_probe, summary_ms
from bench.wsreader import WsClient, connect

SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
SLO_MS = 50.0


@dataclass
class Sock:
    chat: int
    slot: int  # 0 = customer, 1..5 agents
    url: str
    send_auth: str  # Parley: the connection token; floor: unused
    ws: WsClient | None = None
    pool: HttpPool | None = None  # the participant's own HTTP connections, when the sender gives each its own


@dataclass
class Meter:
    intended: list[int] = field(default_factory=list)
    sender: list[int] = field(default_factory=list)  # slot of the sender
    mask: list[int] = field(default_factory=list)  # bits of the slots that received it
    lat: list[int] = field(default_factory=list)
    delivered: int = 0
    echoes: int = 0
    duplicates: int = 0
    closed_sockets: int = 0

    def on_frame(self, raw: bytes, slot: int) -> None:
        i = raw.find(b"BM|")
        if i < 0:
            return
        now = time.monotonic_ns()
        mid = int(raw[i + 3:raw.index(b"|", i + 3)])
        bit = 1 << slot
        if self.mask[mid] & bit:
            self.duplicates += 1
            return
        self.mask[mid] |= bit
        if self.sender[mid] == slot:
            self.echoes += 1
            return
        self.delivered += 1
        self.lat.append(now - self.intended[mid])


SendFn = Callable[[HttpPool, Sock, str], Awaitable[int]]


class Fanout:
    """Chats of six sockets each, one meter, a sender for Parley or for the floor.

    SendMessage requests go over ``pool`` (keep-alive connections shared by all participants) or, with
    ``own_connections``, over each participant's own keep-alive connections, up to that many at once and each
    opened when all of that participant's open ones are busy: what a participant's browser does (ChatJS's
    requests from a page are `fetch` calls, which share at most six connections per host under HTTP/1.1)."""

    def __init__(self, pool: HttpPool, send: SendFn, parties: int = 6, own_connections: int = 0,
                 spare_connections: int = 3000) -> None:
        self.pool = pool
        self.send = send
        self.own_connections = own_connections
        # Participants' connections beyond their first, all together: only an overloaded server's slow answers make
        # participants open more, and the generator's descriptors are limited.
        self.budget = ConnectionBudget(spare_connections)
        self.parties = parties
        self.chats: list[list[Sock]] = []
        self.meter = Meter()
        self.errors: dict[str, int] = {}

    async def open(self, socks: list[Sock], concurrency: int = 64) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(s: Sock) -> None:
            async with gate:
                s.ws = await connect(s.url)
                s.ws.send(SUBSCRIBE)
                while True:
                    text = (await asyncio.wait_for(s.ws.recv(), 60)).decode()
                    if '"aws/subscribe"' in text:
                        if '"success"' not in text:
                            raise RuntimeError(f"subscribe refused: {text}")
                        break
                self._read(s)

        await asyncio.gather(*(one(s) for s in socks))

    def add_chat(self, socks: list[Sock]) -> None:
        self.chats.append(sorted(socks, key=lambda s: s.slot))

    async def open_rooms(self, port: int, rooms: int) -> None:
        """The floor's side: open ``rooms`` rooms of ``parties`` sockets on the floor at ``port``."""
        socks = [Sock(c, s, f"ws://127.0.0.1:{port}/ws?room={c}&pid={s}", "")
                 for c in range(rooms) for s in range(self.parties)]
        await self.open(socks)
        for c in range(rooms):
            self.add_chat(socks[c * self.parties:(c + 1) * self.parties])

    def _read(self, s: Sock) -> None:
        """Hand each frame ``s`` receives to the meter, in the socket's own callback (:mod:`bench.wsreader`)."""
        assert s.ws is not None
        on_frame, slot, meter = self.meter.on_frame, s.slot, self.meter
        s.ws.listen(lambda raw: on_frame(raw, slot))

        def closed(_: object) -> None:
            meter.closed_sockets += 1

        s.ws.closed.add_done_callback(closed)

    async def close(self) -> None:
        for chat in self.chats:
            for s in chat:
                if s.ws:
                    with contextlib.suppress(Exception):
                        await s.ws.close(2)
        self.close_connections()

    def pool_of(self, sock: Sock) -> HttpPool:
        """The connections ``sock``'s participant sends over."""
        if not self.own_connections:
            return self.pool
        if sock.pool is None:
            sock.pool = HttpPool(self.pool.host, self.pool.port, self.own_connections, lifo=True, budget=self.budget)
        return sock.pool

    def close_connections(self) -> None:
        """Close the sender's HTTP connections (between steps; the next request opens them again)."""
        self.pool.close()
        for chat in self.chats:
            for s in chat:
                if s.pool:
                    s.pool.close()

    def open_connections(self) -> int:
        """The sender's HTTP connections open now."""
        return self.pool.open_count() + sum(s.pool.open_count() for chat in self.chats for s in chat if s.pool)

    async def step(self, rate: float, seconds: float, active_chats: int, server_pid: int,
                   drain_timeout: float = 10.0) -> dict[str, Any]:
        """Send ``rate`` messages/s for ``seconds`` into the first ``active_chats`` chats; wait for delivery."""
        gc.collect()
        probe = speed_probe()
        m = self.meter
        m.lat = []
        delivered0, echoes0 = m.delivered, m.echoes
        n = max(1, int(rate * seconds))
        chats = self.chats[:active_chats]
        first = len(m.intended)
        period = 1e9 / rate
        t0 = time.monotonic_ns() + 20_000_000
        m.intended.extend(t0 + int(k * period) for k in range(n))
        senders = []
        for k in range(n):
            mid = first + k
            chat = chats[mid % len(chats)]
            sock = chat[(mid // len(chats)) % len(chat)]
            senders.append(sock)
        m.sender.extend(s.slot for s in senders)
        m.mask.extend([0] * n)
        ok = 0
        api_lat: list[int] = []
        errors: dict[str, int] = {}
        lag: list[int] = []
        pending: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()

        async def one(k: int) -> None:
            nonlocal ok
            mid = first + k
            sock = senders[k]
            start = time.monotonic_ns()
            lag.append(start - m.intended[mid])
            try:
                status = await self.send(self.pool_of(sock), sock, f"BM|{mid}| hello from the benchmark, message {mid}")
            except (HttpError, OSError, asyncio.IncompleteReadError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            if status == 200:
                ok += 1
                api_lat.append(time.monotonic_ns() - m.intended[mid])
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

        # The generator's own gen-2 collections (thousands of sockets, big meters) would stall its loop for
        # tens of ms and count against the server: collect between steps instead.
        gc.disable()
        try:
            cpu0 = cpu_seconds(os.getpid())
            wall0 = time.monotonic()
            async with Sampler(server_pid, probe=True) as sampler:
                k = 0
                while k < n:
                    now = time.monotonic_ns()
                    due = min(n, int((now - t0) / period) + 1) if now >= t0 else 0
                    while k < due:
                        task = loop.create_task(one(k))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
                        k += 1
                    await asyncio.sleep(0.001)
                send_wall = (time.monotonic_ns() - t0) / 1e9
                if pending:
                    await asyncio.wait(pending)
                expected = ok * (self.parties - 1)
                deadline = time.monotonic() + drain_timeout
                while m.delivered - delivered0 < expected and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
        finally:
            gc.enable()
        client_cpu = cpu_seconds(os.getpid()) - cpu0
        wall = time.monotonic() - wall0
        got = m.delivered - delivered0
        lat = summary_ms(m.lat)
        res: dict[str, Any] = {
            "offered_msgs_per_s": rate,
            "sent": n, "accepted": ok, "errors": sum(errors.values()), "error_kinds": errors,
            "deliveries": got, "expected_deliveries": expected, "lost": max(0, expected - got),
            "sender_echoes": m.echoes - echoes0,
            "achieved_msgs_per_s": round(ok / max(send_wall, 1e-9), 1),
            "achieved_deliveries_per_s": round(got / max(send_wall, 1e-9), 1),
            "latency": lat,
            "send_api": summary_ms(api_lat),
            "client_lag_p99_ms": summary_ms(lag)["p99_ms"],
            "client_cpu_pct": round(100 * client_cpu / wall, 1),
            "duplicates": m.duplicates,
            "sender_connections": self.open_connections(),
            "probe_ms": probe,
            **sampler.result(),
        }
        p99 = lat["p99_ms"]
        res["holds_slo"] = bool(p99 is not None and p99 <= SLO_MS and res["errors"] == 0 and res["lost"] == 0
                                and got > 0)
        return res

    async def ladder(self, rates: list[float], seconds: float, active_chats: int, server_pid: int,
                     log: Callable[[str], None], max_total: float = 1e9) -> dict[str, Any]:
        steps = []
        best: dict[str, Any] | None = None
        started = time.monotonic()
        for rate in rates:
            r = await self.step(rate, seconds, active_chats, server_pid)
            steps.append(r)
            log(f"    {active_chats:>5} chats {rate:>7.0f} msg/s: p50 {r['latency']['p50_ms']} p99 "
                f"{r['latency']['p99_ms']} max {r['latency']['max_ms']} ms, errors {r['errors']}, lost {r['lost']}, "
                f"server cpu {r['server_cpu_pct']}%, client cpu {r['client_cpu_pct']}%, "
                f"lag p99 {r['client_lag_p99_ms']} ms")
            if not r["holds_slo"]:
                break
            best = r
            if time.monotonic() - started > max_total:
                break
            await asyncio.sleep(0.3)
        return {
            "chats": active_chats, "sockets": active_chats * self.parties, "step_seconds": seconds,
            "best_msgs_per_s": best["achieved_msgs_per_s"] if best else 0.0,
            "best_offered_msgs_per_s": best["offered_msgs_per_s"] if best else 0.0,
            "best_deliveries_per_s": best["achieved_deliveries_per_s"] if best else 0.0,
            "best_step": best, "steps": steps,
            "limited_by_ladder_top": bool(best is not None and best is steps[-1] and len(steps) == len(rates)),
        }


def parley_sender() -> SendFn:
    async def send(pool: HttpPool, sock: Sock, text: str) -> int:
        body = orjson.dumps({"ContentType": "text/plain", "Content": text, "ClientToken": str(uuid.uuid4())})
        status, _ = await pool.request("POST", "/participant/message",
                                       {"X-Amz-Bearer": sock.send_auth, "Content-Type": "application/json"}, body)
        return status

    return send


def floor_sender() -> SendFn:
    async def send(pool: HttpPool, sock: Sock, text: str) -> int:
        body = orjson.dumps({"room": str(sock.chat), "pid": sock.slot, "content": text})
        status, _ = await pool.request("POST", "/send", {"Content-Type": "application/json"}, body)
        return status

    return send

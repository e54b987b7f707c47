"""Six-party chats on Parley through the public protocols only.

Benchmark agents are created with boto3 (CreateRoutingProfile with CHAT concurrency 10 on BasicQueue,
AssociateRoutingProfileQueues, CreateUser with ``AutoAcceptConfigs`` CHAT on, as Connect's auto-accept),
sign in through the CCP login form and go Available with the CTI API. Each agent runs what a CCP does:
it long-polls ``GetAgentSnapshot``; for each newly connected contact it takes its ``connectionData`` and
opens its own participant connection and WebSocket. The agent a chat is routed to first invites four more
agents with ``AddNewConnection`` on the QUEUE quick connect ``Transfer-to-BasicQueue``; routing offers each
invitation to another available agent (auto-accepted). The customer starts the chat with StartChatContact
and opens its own WebSocket. A chat is ready when its six sockets are subscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.fanout import Fanout, Sock
from bench.proto import Agent, Instance, create_agents, create_connection, my_connection, participant_token, start_chat
from parley.client import ConnectClient

INVITES = 4
# How long setting up chats may go without progress once a chat's setup has failed (it would never complete).
STALL_SECONDS = 30.0


class SixParty:
    def __init__(self, inst: Instance, fanout: Fanout, log: Callable[[str], None]) -> None:
        self.inst = inst
        self.fanout = fanout
        self.log = log
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(limits=limits, timeout=120)
        self.agents: list[Agent] = []
        self.seen: dict[str, set[str]] = {}
        self.loops: list[asyncio.Task[None]] = []
        self.seats: dict[str, list[Sock]] = {}
        self.index: dict[str, int] = {}
        self.ready: set[str] = set()  # chats with six subscribed sockets
        self.failures: list[str] = []
        self.phase = 0
        self._changed = asyncio.Event()

    @property
    def complete(self) -> int:
        return len(self.ready)

    async def close(self) -> None:
        await self.stop_agents()
        for agent in self.agents:
            await agent.http.aclose()
        await self.http.aclose()

    async def add_agents(self, count: int) -> dict[str, float]:
        self.phase += 1
        t0 = time.monotonic()
        names = await create_agents(self.inst, f"fan{self.phase}x", count, concurrency=10, auto_accept=True)
        t1 = time.monotonic()
        gate = asyncio.Semaphore(8)
        # Each agent has its own HTTP client, as each CCP has its own connections (one shared pool of hundreds of
        # connections costs the generator a scan of the pool per request).
        fresh = [Agent(self.inst.url, n, httpx.AsyncClient(limits=httpx.Limits(max_connections=4), timeout=120))
                 for n in names]

        async def up(a: Agent) -> None:
            async with gate:
                await a.sign_in()
                await a.go_available()

        await asyncio.gather(*(up(a) for a in fresh))
        self.agents += fresh
        return {"create_users_s": round(t1 - t0, 2), "sign_in_s": round(time.monotonic() - t1, 2)}

    def start_agents(self) -> None:
        self.loops = [asyncio.get_running_loop().create_task(self._agent_loop(a)) for a in self.agents]

    async def stop_agents(self) -> None:
        for t in self.loops:
            t.cancel()
        for t in self.loops:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self.loops = []

    async def _agent_loop(self, agent: Agent) -> None:
        seen = self.seen.setdefault(agent.username, set())
        agent.next_token = None
        while True:
            try:
                snap = await agent.snapshot(wait_ms=20000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures.append(f"snapshot {agent.username}: {exc}")
                await asyncio.sleep(0.5)
                continue
            for contact in snap["contacts"]:
                cid = contact["contactId"]
                conn = my_connection(contact)
                if cid in seen or conn is None or conn["state"]["type"] != "connected":
                    continue
                seen.add(cid)
                asyncio.get_running_loop().create_task(self._joined(agent, contact))

    async def _joined(self, agent: Agent, contact: dict[str, Any]) -> None:
        chat_key = contact["initialContactId"]
        try:
            if contact["contactId"] == chat_key:  # routed to this agent first: invite four more
                for _ in range(INVITES):
                    await agent.cti("AddNewConnection", {
                        "contactId": contact["contactId"],
                        "endpoint": {"endpointARN": self.inst.queue_qc_arn, "type": "queue"},
                    })
            token = participant_token(contact)
            assert token, "no connectionData in the snapshot"
            await self._seat(chat_key, "agent", token)
        except Exception as exc:
            self.failures.append(f"agent {agent.username} on {chat_key}: {exc!r}")

    async def _seat(self, chat_key: str, role: str, token: str) -> None:
        url, conn_token = await create_connection(self.http, self.inst.url, token)
        seats = self.seats.setdefault(chat_key, [])
        chat = self.index.setdefault(chat_key, len(self.index))
        slot = 0 if role == "customer" else 1 + sum(1 for s in seats if s.slot > 0)
        sock = Sock(chat, slot, url, conn_token)
        seats.append(sock)
        await self.fanout.open([sock])
        # Two seats of one chat may finish opening together: count each chat once.
        if sum(1 for s in seats if s.ws is not None) == 6 and chat_key not in self.ready:
            self.ready.add(chat_key)
            self.fanout.add_chat(seats)
            self._changed.set()

    async def add_chats(self, count: int, connect: ConnectClient, timeout: float = 600) -> dict[str, Any]:
        """Start ``count`` chats and wait until each has six subscribed sockets."""
        target = self.complete + count
        t0 = time.monotonic()
        gate = asyncio.Semaphore(16)
        n0 = len(self.index)

        async def customer(k: int) -> None:
            async with gate:
                try:
                    chat = await start_chat(connect, self.inst, f"Customer {n0 + k}")
                    await self._seat(chat.contact_id, "customer", chat.participant_token)
                except Exception as exc:
                    self.failures.append(f"customer {k}: {exc!r}")

        starters = asyncio.gather(*(customer(k) for k in range(count)))
        deadline = t0 + timeout
        progress = (self.complete, time.monotonic())
        while self.complete < target and time.monotonic() < deadline:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 5)
            if self.complete > progress[0]:
                progress = (self.complete, time.monotonic())
            if len(self.failures) > 20:
                break
            # A chat whose setup failed never completes (snapshot failures are retried): stop once nothing moves.
            fatal = any(not f.startswith("snapshot ") for f in self.failures)
            if fatal and time.monotonic() - progress[1] > STALL_SECONDS:
                break
        await starters
        took = time.monotonic() - t0
        if self.complete < target:
            raise RuntimeError(f"only {self.complete}/{target} six-party chats ready after {took:.0f} s; "
                               f"failures: {self.failures[:5]}")
        return {"chats": count, "seconds": round(took, 2), "chats_per_s": round(count / took, 2)}

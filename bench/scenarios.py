"""Idle connections, routing and transcripts (fan-out is in ``bench.fanout`` and ``bench.sixparty``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.fanout import SUBSCRIBE
from bench.lib import HttpPool, Sampler, open_fds, rss_bytes, summary_ms
from bench.proto import (
    Agent,
    Instance,
    create_agents,
    create_connection,
    my_connection,
    participant_token,
    start_chat,
)
from parley.client import ConnectClient

Log = Callable[[str], None]


async def open_ws(url: str) -> ClientConnection:
    ws = await connect(url, compression=None, max_size=None, open_timeout=120, ping_interval=None, close_timeout=1)
    await ws.send(SUBSCRIBE)
    while True:
        raw = await asyncio.wait_for(ws.recv(), 60)
        text = raw if isinstance(raw, str) else raw.decode()
        if '"aws/subscribe"' in text:
            if '"success"' not in text:
                raise RuntimeError(text)
            return ws


async def settle(pid: int, seconds: float = 1.5) -> int:
    await asyncio.sleep(seconds)
    return rss_bytes(pid)


async def close_all(sockets: list[ClientConnection]) -> None:
    async def one(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 2)

    for i in range(0, len(sockets), 500):
        await asyncio.gather(*(one(ws) for ws in sockets[i:i + 500]))


# --- 2. idle connections -------------------------------------------------------------------------------------

async def idle_parley(inst: Instance, pid: int, sockets: int, log: Log) -> dict[str, Any]:
    """``sockets`` participant WebSockets: half customers (StartChatContact), half bots (CreateParticipant
    CUSTOM_BOT) of the same chats, each with its own CreateParticipantConnection and socket."""
    chats = sockets // 2
    tokens: list[str] = []
    t0 = time.monotonic()
    gate = asyncio.Semaphore(16)
    async with ConnectClient(inst.url) as cc:
        async def one(k: int) -> None:
            async with gate:
                chat = await start_chat(cc, inst, f"Idle {k}")
                bot = await cc.add_bot(inst.instance_id, chat.contact_id, f"Bot {k}")
                tokens.extend([chat.participant_token, bot.participant_token])

        await asyncio.gather(*(one(k) for k in range(chats)))
    t_chats = time.monotonic() - t0
    log(f"    {chats} chats with a bot each in {t_chats:.1f} s")
    gc.collect()
    before = await settle(pid)
    fds_before = open_fds(pid)
    opened: list[ClientConnection] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    t1 = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        async def sock(token: str) -> None:
            async with gate:
                url, _ = await create_connection(http, inst.url, token)
                opened.append(await open_ws(url))

        await asyncio.gather(*(sock(t) for t in tokens))
    t_open = time.monotonic() - t1
    after = await settle(pid, 3.0)
    async with Sampler(pid) as idle:
        await asyncio.sleep(5)
    fds = open_fds(pid) - fds_before
    await close_all(opened)
    return {
        "sockets": len(opened), "chats": chats, "setup_chats_s": round(t_chats, 1),
        "open_sockets_s": round(t_open, 1), "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "kib_per_socket": round((after - before) / 1024 / max(1, len(opened)), 1),
        "server_fds_added": fds, "idle_5s": idle.result(),
    }


async def idle_floor(port: int, pid: int, sockets: int) -> dict[str, Any]:
    before = await settle(pid, 0.5)
    gate = asyncio.Semaphore(64)
    opened: list[ClientConnection] = []

    async def sock(k: int) -> None:
        async with gate:
            opened.append(await open_ws(f"ws://127.0.0.1:{port}/ws?room={k // 2}&pid={k % 2}"))

    t0 = time.monotonic()
    await asyncio.gather(*(sock(k) for k in range(sockets)))
    t_open = time.monotonic() - t0
    after = await settle(pid, 3.0)
    async with Sampler(pid) as idle:
        await asyncio.sleep(3)
    await close_all(opened)
    return {"sockets": len(opened), "open_sockets_s": round(t_open, 1), "rss_before_mib": round(before / 2**20, 1),
            "rss_after_mib": round(after / 2**20, 1),
            "kib_per_socket": round((after - before) / 1024 / max(1, len(opened)), 1), "idle_3s": idle.result()}


# --- 3. routing ----------------------------------------------------------------------------------------------

async def routing(inst: Instance, pid: int, agents_n: int, chats: int, rate: float, log: Log) -> dict[str, Any]:
    """``agents_n`` Available agents (CHAT concurrency 10, manual accept, each long-polling its snapshot as the
    CCP does); ``chats`` StartChatContact at ``rate``/s. start-to-offer: StartChatContact sent -> the offer
    (contact ``connecting``) in the agent's snapshot. accept-to-first-message: AcceptContact sent -> the agent's
    greeting (sent after CreateParticipantConnection + socket, as ChatJS does) on the customer's socket."""
    t0 = time.monotonic()
    names = await create_agents(inst, "route", agents_n, concurrency=10, auto_accept=False)
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=2000)
    http = httpx.AsyncClient(limits=limits, timeout=120)
    agents = [Agent(inst.url, n, http) for n in names]
    gate = asyncio.Semaphore(8)

    async def up(a: Agent) -> None:
        async with gate:
            await a.sign_in()
            await a.go_available()

    await asyncio.gather(*(up(a) for a in agents))
    log(f"    {agents_n} agents created, signed in and Available in {time.monotonic() - t0:.1f} s")
    started: dict[str, int] = {}  # contact id -> StartChatContact sent (ns)
    offered: dict[str, int] = {}
    accepted: dict[str, int] = {}
    greeted: dict[str, int] = {}
    failures: list[str] = []
    agent_sockets: list[ClientConnection] = []
    customer_sockets: list[ClientConnection] = []
    offers_per_agent: dict[str, int] = {}
    done = asyncio.Event()

    async def handle(agent: Agent, contact: dict[str, Any]) -> None:
        cid = contact["contactId"]
        try:
            accepted[cid] = time.monotonic_ns()
            await agent.cti("AcceptContact", {"contactId": cid})
            token = participant_token(contact)
            assert token
            url, conn = await create_connection(http, inst.url, token)
            agent_sockets.append(await open_ws(url))
            body = orjson.dumps({"ContentType": "text/plain", "Content": f"BMG|{cid}| Hello, how can I help?",
                                 "ClientToken": str(uuid.uuid4())})
            r = await http.post(inst.url + "/participant/message", content=body,
                                headers={"X-Amz-Bearer": conn, "Content-Type": "application/json"})
            if r.status_code != 200:
                raise RuntimeError(f"SendMessage {r.status_code}")
        except Exception as exc:
            failures.append(f"accept {cid}: {exc!r}")

    async def agent_loop(agent: Agent) -> None:
        seen: set[str] = set()
        while True:
            try:
                snap = await agent.snapshot(wait_ms=20000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures.append(f"snapshot: {exc!r}")
                await asyncio.sleep(0.2)
                continue
            now = time.monotonic_ns()
            for contact in snap["contacts"]:
                cid = contact["contactId"]
                conn = my_connection(contact)
                if cid in seen or conn is None or conn["state"]["type"] != "connecting":
                    continue
                seen.add(cid)
                offered.setdefault(cid, now)
                offers_per_agent[agent.username] = offers_per_agent.get(agent.username, 0) + 1
                asyncio.get_running_loop().create_task(handle(agent, contact))

    loops = [asyncio.get_running_loop().create_task(agent_loop(a)) for a in agents]

    async def customer(cc: ConnectClient, k: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        sent = time.monotonic_ns()
        try:
            chat = await start_chat(cc, inst, f"Routed {k}", initial="Hello, I need help")
            started[chat.contact_id] = sent
            url, _ = await create_connection(http, inst.url, chat.participant_token)
            ws = await open_ws(url)
            customer_sockets.append(ws)
            async for raw in ws:
                text = raw if isinstance(raw, str) else raw.decode()
                if "BMG|" in text:
                    greeted[chat.contact_id] = time.monotonic_ns()
                    if len(greeted) == chats:
                        done.set()
                    break
        except ConnectionClosed:
            failures.append(f"customer {k}: socket closed")
        except Exception as exc:
            failures.append(f"customer {k}: {exc!r}")

    await asyncio.sleep(1.0)  # the agents' first snapshots
    # The generator's own collector stays out of the measured window (as in the fan-out steps): after the
    # 1,000-chat scenario this process holds a large heap, and a full collection delays every answer in flight.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        async with ConnectClient(inst.url) as cc:
            t_start = time.monotonic() + 0.1
            async with Sampler(pid) as sampler:
                customers = [asyncio.get_running_loop().create_task(customer(cc, k, t_start + k / rate))
                             for k in range(chats)]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), chats / rate + 120)
                took = time.monotonic() - t_start
            for t in customers:
                t.cancel()
    finally:
        gc.enable()
        gc.unfreeze()
    for t in loops:
        t.cancel()
    await close_all(agent_sockets + customer_sockets)
    await http.aclose()
    s2o = [offered[c] - started[c] for c in started if c in offered]
    a2m = [greeted[c] - accepted[c] for c in greeted if c in accepted]
    return {
        "agents": agents_n, "chats": chats, "offered_rate_per_s": rate, "seconds": round(took, 1),
        "started": len(started), "offered": len(s2o), "greeted": len(a2m), "errors": len(failures),
        "failures": failures[:5], "lost": chats - len(a2m),
        "start_to_offer": summary_ms(s2o), "accept_to_first_message": summary_ms(a2m),
        "offers_per_agent_max": max(offers_per_agent.values(), default=0),
        **sampler.result(),
    }


# --- 4. transcripts ------------------------------------------------------------------------------------------

async def transcript(inst: Instance, pid: int, items: int, passes: int, log: Log) -> dict[str, Any]:
    """A chat of ``items`` messages (SendMessage by the customer, 32 in flight), then every page of
    GetTranscript (MaxResults 100) forwards from the start and backwards from the most recent."""
    async with ConnectClient(inst.url) as cc:
        chat = await start_chat(cc, inst, "Transcript")
    port = int(inst.url.rsplit(":", 1)[1])
    pool = HttpPool("127.0.0.1", port, 32)
    async with httpx.AsyncClient(timeout=60) as http:
        _, conn = await create_connection(http, inst.url, chat.participant_token)
    headers = {"X-Amz-Bearer": conn, "Content-Type": "application/json"}
    t0 = time.monotonic()
    counter = iter(range(items))
    errors = 0

    async def filler() -> None:
        nonlocal errors
        for k in counter:
            body = orjson.dumps({"ContentType": "text/plain", "Content": f"message {k} of the long chat",
                                 "ClientToken": str(uuid.uuid4())})
            status, _ = await pool.request("POST", "/participant/message", headers, body)
            errors += status != 200

    await asyncio.gather(*(filler() for _ in range(32)))
    fill = time.monotonic() - t0
    log(f"    {items} messages in {fill:.1f} s ({items / fill:.0f}/s)")

    async def page(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        t = time.monotonic_ns()
        status, raw = await pool.request("POST", "/participant/transcript", headers, orjson.dumps(body))
        took = time.monotonic_ns() - t
        if status != 200:
            raise RuntimeError(f"GetTranscript {status}: {raw[:200]!r}")
        return took, orjson.loads(raw)

    results: dict[str, Any] = {"items": items, "fill_s": round(fill, 1), "fill_msgs_per_s": round(items / fill, 1),
                               "fill_errors": errors, "max_results": 100, "passes": passes}
    async with Sampler(pid) as sampler:
        for name, first in (
            ("forward", {"ScanDirection": "FORWARD", "SortOrder": "ASCENDING",
                         "StartPosition": {"AbsoluteTime": "2000-01-01T00:00:00.000Z"}}),
            ("backward", {"ScanDirection": "BACKWARD", "SortOrder": "ASCENDING"}),
        ):
            lat: list[int] = []
            seen = 0
            for _ in range(passes):
                body: dict[str, Any] = {**first, "MaxResults": 100}
                seen = 0
                while True:
                    took, out = await page(body)
                    lat.append(took)
                    seen += len(out["Transcript"])
                    token = out.get("NextToken")
                    if not token:
                        break
                    body = {"MaxResults": 100, "NextToken": token, "SortOrder": "ASCENDING"}
            results[name] = {**summary_ms(lat), "pages": len(lat), "items_seen_per_pass": seen}
    pool.close()
    results.update(sampler.result())
    return results

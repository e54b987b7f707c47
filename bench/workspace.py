"""The agent workspace in a browser: arrival on the agent's socket to paint, and the page's memory, with long chats.

``python -m bench.workspace [--quick] [--chats 10] [--messages 2000] [--rates 2,20] [--seconds 60] [--out FILE]
[--into RESULTS.json] [--no-baseline] [--no-profile]``

Each scenario gets a fresh ``parley serve --demo`` (its own data dir) and its own browser context in one headless
Debian chromium. agent1 gets a routing profile with as many CHAT slots as the scenario has chats (boto3), signs in
to ``/agent`` through the CCP's sign-in page and goes Available. Customers start chats with
``parley.client.customer`` (StartChatContact and their own participant WebSockets); agent1 accepts each offer with
its "Accept" button. The page then leaves ``/agent`` while the customers fill every chat with ``--messages``
messages (SendMessage over keep-alive connections, 32 in flight, as fast as Parley takes them), and opens it again,
as after a reload: the workspace loads each chat's transcript through ChatJS (its newest 2,000 items) and opens
the first chat. Then, for each rate of ``--rates`` in turn (messages/s, round-robin over the chats, open loop:
message *i* at t0 + i/rate) for ``--seconds``, every message is timed from its arrival on the agent's WebSocket to
its paint.

The agent's WebSocket is StreamsJS's, in the CCP's SharedWorker (one socket for all of the agent's chats; ChatJS in
the page gets the frames through the CCP frame): a message's arrival is CDP's ``Network.webSocketFrameReceived``
timestamp on the worker's target. Its paint is seen in the page by ``bench/workspace_hook.js`` (added with
``add_init_script``; the workspace is not changed): a message of the open chat is shown when its node (``data-id``)
is added to the conversation log, a message of another chat when the chat list shows it as that chat's last message
(one replaced there by a newer one before a frame showed it counts until the newer one's paint); painted = the end
of the next animation frame after that DOM change (a task posted from its ``requestAnimationFrame`` callback). Both
clocks are CLOCK_MONOTONIC; the page's ``performance.now()`` is mapped onto it before and after each step (the error
is below half the fastest ``page.evaluate`` round trip, reported). A message not painted within the drain time
counts until then, and the step's figures are then lower bounds.

Memory: the JS heap (``performance.memory`` with ``--enable-precise-memory-info``), DOM nodes and listeners (CDP
``Performance.getMetrics``), the browser's renderer processes' RSS (pids from CDP ``SystemInfo.getProcessInfo``, RSS
from ``/proc``), at each stage, raw and after a forced collection. Between the first and the second rate, 10 s more
at the first rate run with the CPU profiler on (not measured), for where the main thread's time goes.

The baseline, first in the same run as the benchmark rules ask: the same steps with 1 chat of 50 messages at the same
rates (all into that one open chat). The goal (issue 20): p99 arrival-to-paint ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata as md
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson

from bench.lib import HttpPool, Server, pct
from bench.proto import boto_connect, discover
from bench.run import machine, parley_server, short
from bench.workspace_probe import (
    HOOK,
    START,
    CpuProfile,
    Probe,
    Sightings,
    WorkerFrames,
    analyse,
    clock_offset,
    rnd,
)
from parley.client import ChatParticipant, customer

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--enable-precise-memory-info"]
VIEWPORT = {"width": 1280, "height": 800}
AGENT, PASSWORD = "agent1", "Parley-demo-1"
GOAL_P99_MS = 50.0
FILL_IN_FLIGHT = 32
WAIT_MS = 30_000
LOAD_TIMEOUT = 600.0
DRAIN_SECONDS = 30.0
SETTLE_SECONDS = 3.0
PROFILE_SECONDS = 10.0
OPEN_CHAT = 0
# How long a call into the page may take after a step before its figure is given up (the page is that far behind).
PAGE_TIMEOUT = 15.0
T = TypeVar("T")
# What customers say: realistic lengths (2-110 characters), each made unique by its prefix.
LINES = [
    "Hi, my parcel never arrived and the tracking page has said 'in transit' for a week.",
    "Order number is 4417-2291.",
    "Can you check whether it was sent to my old address?",
    "Thanks, I'll wait.",
    "It says delivered but there is nothing at my door or with the neighbours, I checked twice this morning.",
    "Could you refund it instead of sending another one?",
    "OK",
    "Is there anything else you need from me?",
]


@dataclass(frozen=True)
class Plan:
    name: str
    chats: int
    messages: int
    rates: tuple[float, ...]
    seconds: float
    profile: bool


def text(phase: str, chat: int, n: int) -> str:
    """A message's text: ``wsb:<phase>:<chat>:<n>`` and a line a customer might write."""
    return f"wsb:{phase}:{chat}:{n} {LINES[n % len(LINES)]}"


def customer_name(chat: int) -> str:
    return f"Customer {chat + 1:02d}"


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- set-up through the public protocols and the page -------------------------------------------------------------

def give_slots(url: str, instance_id: str, queue_id: str, slots: int) -> None:
    """A routing profile with ``slots`` CHAT slots on BasicQueue, made agent1's (boto3, as an administrator would)."""
    c = boto_connect(url)
    rp = c.create_routing_profile(
        InstanceId=instance_id, Name="Workspace benchmark", Description="agent1 in the workspace benchmark",
        DefaultOutboundQueueId=queue_id, MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": slots}],
    )["RoutingProfileId"]
    c.associate_routing_profile_queues(
        InstanceId=instance_id, RoutingProfileId=rp,
        QueueConfigs=[{"QueueReference": {"QueueId": queue_id, "Channel": "CHAT"}, "Priority": 1, "Delay": 0}],
    )
    users = c.list_users(InstanceId=instance_id)["UserSummaryList"]
    user = next(u["Id"] for u in users if u["Username"] == AGENT)
    c.update_user_routing_profile(InstanceId=instance_id, UserId=user, RoutingProfileId=rp)


async def until(check: Callable[[], Any], what: str, timeout: float = WAIT_MS / 1000) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def sign_in(page: Any, url: str, slots: int) -> None:
    """Open ``/agent``, sign in through the CCP's sign-in page, go Available, see the slots."""
    await page.goto(f"{url}/agent")
    await page.get_by_role("link", name="Sign in").click()
    await page.locator("input[name=username]").fill(AGENT)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("button[type=submit]").click()
    await page.get_by_label("Status").wait_for(timeout=WAIT_MS)
    await page.get_by_label("Status").select_option("Available")
    await until(lambda: page.evaluate(
        "() => { try { return new connect.Agent().getState().name === 'Available'; } catch (e) { return false; } }"),
        "agent1 to be Available")
    await page.get_by_text(f"0 of {slots} chat").first.wait_for(timeout=WAIT_MS)


async def accept_chat(page: Any, url: str, chat: int) -> ChatParticipant:
    """A customer starts a chat; agent1 accepts its offer in the workspace and the chat's composer comes up."""
    name = customer_name(chat)
    cust = await customer(url, name)
    offer = page.get_by_role("region", name="Incoming chat")
    await offer.get_by_text(name, exact=True).wait_for(timeout=WAIT_MS)
    await offer.get_by_role("button", name="Accept").click()
    await page.get_by_role("heading", name=name, exact=True).wait_for(timeout=WAIT_MS)
    await until(lambda: page.get_by_label("Message").is_enabled(), f"the chat of {name} to connect")
    return cust


async def open_chat(page: Any, chat: int) -> None:
    name = customer_name(chat)
    await page.get_by_role("button", name=name, exact=True).click()
    await page.get_by_role("heading", name=name, exact=True).wait_for(timeout=WAIT_MS)


async def fill(port: int, customers: list[ChatParticipant], messages: int,
               log: Callable[[str], None]) -> dict[str, Any]:
    """Every customer sends ``messages`` messages (SendMessage, 32 in flight in all; a throttled one is tried again),
    the last one of each chat after all the others."""
    pool = HttpPool("127.0.0.1", port, FILL_IN_FLIGHT)
    errors: list[str] = []

    async def one(chat: int, n: int) -> None:
        body = orjson.dumps({"ContentType": "text/plain", "Content": text("f", chat, n),
                             "ClientToken": str(uuid.uuid4())})
        headers = {"X-Amz-Bearer": str(customers[chat].connection_token), "Content-Type": "application/json"}
        status = 0
        for attempt in range(8):
            with contextlib.suppress(Exception):
                status, _ = await pool.request("POST", "/participant/message", headers, body)
            if status == 200:
                return
            if status and status != 429 and status < 500:
                break
            await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
        errors.append(f"chat {chat} message {n}: status {status}")

    t0 = time.monotonic()
    try:
        await asyncio.gather(*(one(c, n) for n in range(messages - 1) for c in range(len(customers))))
        await asyncio.gather(*(one(c, messages - 1) for c in range(len(customers))))
    finally:
        pool.close()
    took = time.monotonic() - t0
    total = messages * len(customers)
    log(f"    filled {len(customers)} chats with {messages} messages each: {total} in {took:.1f} s "
        f"({total / took:.0f} msg/s, {len(errors)} errors)")
    return {"messages": total, "seconds": round(took, 1), "msgs_per_s": round(total / took), "errors": len(errors),
            "error_samples": errors[:3]}


CAUGHT_UP = """(last) => {
  const nav = document.querySelector("nav.contact-list");
  const shown = nav ? [...nav.querySelectorAll(".contact-last")].map((e) => e.textContent) : [];
  return { rows: last.filter((t) => shown.some((s) => s.endsWith(t))).length,
           inLog: document.querySelectorAll("[role=log] [data-id]").length };
}"""


async def load(page: Any, url: str, chats: int, messages: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Open ``/agent`` again and wait until every chat's last message is in the chat list and the open chat's log
    has stopped growing (ChatJS loads the newest 2,000 items of each transcript)."""
    t0 = time.monotonic()
    await page.goto(f"{url}/agent")
    await page.get_by_label("Status").wait_for(timeout=WAIT_MS)
    last = [text("f", c, messages - 1) for c in range(chats)]
    deadline, next_note = t0 + LOAD_TIMEOUT, t0 + 15
    seen: list[int] = []
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        shown = await page.evaluate(CAUGHT_UP, last)
        seen.append(shown["inLog"])
        if shown["rows"] == chats and shown["inLog"] > 0 and len(seen) >= 5 and len(set(seen[-5:])) == 1:
            break
        if time.monotonic() > next_note:
            log(f"    loading: {shown['rows']}/{chats} chats show their last message, {shown['inLog']} in the open log")
            next_note = time.monotonic() + 15
        await asyncio.sleep(0.5)
    else:
        raise TimeoutError(f"the workspace did not load the chats within {LOAD_TIMEOUT:.0f} s: {shown}")
    took = time.monotonic() - t0 - 2.0  # the log's count was steady for the last 2 s of polls
    await open_chat(page, OPEN_CHAT)
    log(f"    the workspace loaded {chats} chats in {took:.1f} s; {shown['inLog']} messages in the open log")
    return {"seconds": round(took, 1), "in_open_log": shown["inLog"]}


# --- measuring ----------------------------------------------------------------------------------------------------

async def send_at(customers: list[ChatParticipant], rate: float, seconds: float, phase: str, first: int,
                  sent: dict[str, float], errors: list[str]) -> list[float]:
    """Open loop: message *i* at t0 + i/rate, round-robin over the chats, each sent without waiting for the earlier
    ones; returns how late each was sent (ms: the generator's own lag)."""

    async def one(cust: ChatParticipant, body: str) -> None:
        try:
            await cust.send(body)
        except Exception as exc:
            errors.append(repr(exc)[:200])

    tasks: list[asyncio.Task[None]] = []
    lag: list[float] = []
    t0 = time.monotonic()
    for i in range(round(rate * seconds)):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, -delay) * 1000)
        chat = i % len(customers)
        body = text(phase, chat, first + i)
        sent[body] = time.monotonic()
        tasks.append(asyncio.ensure_future(one(customers[chat], body)))
    await asyncio.gather(*tasks)
    return lag


async def maybe(work: Awaitable[T], timeout: float = PAGE_TIMEOUT) -> T | None:
    """``work``'s result, or None when the page is too busy to answer within ``timeout`` seconds."""
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError:
        return None


async def drain(frames: WorkerFrames, seen: Sightings, expected: int) -> None:
    """Wait (up to DRAIN_SECONDS) until every expected message arrived and is painted: each of the open chat's in
    the log, each other chat's newest in the chat list. Nothing here asks the page: a page far behind cannot answer."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        arrived = list(frames.items.values())
        if len(arrived) >= expected and seen.unpainted(arrived, OPEN_CHAT) == 0:
            return
        await asyncio.sleep(0.25)


async def step(page: Any, probe: Probe, frames: WorkerFrames, seen: Sightings, customers: list[ChatParticipant],
               rate: float, seconds: float, index: int, log: Callable[[str], None]) -> dict[str, Any]:
    """One rate: customers send for ``seconds``; the worker's frames give each message's arrival, the page's reports
    its paint. Only the start asks the page anything (it has kept up with the rates before)."""
    frames.reset()
    seen.reset()
    offset, rtt = await clock_offset(page)
    await page.evaluate(START)
    m0, p0, load0 = await probe.metrics(), await probe.renderers(), os.getloadavg()
    sent: dict[str, float] = {}
    errors: list[str] = []
    t0 = time.monotonic()
    lag = await send_at(customers, rate, seconds, "s", index * 1_000_000, sent, errors)
    wall = time.monotonic() - t0
    m1, p1, load1 = await maybe(probe.metrics(), 5.0), await probe.renderers(), os.getloadavg()
    count = len(sent)
    await drain(frames, seen, count - len(errors))
    arrived = list(frames.items.values())
    result = analyse(arrived, dict(seen.log), dict(seen.prev), offset, OPEN_CHAT, time.monotonic())
    busy = None if m1 is None else {k: round(100 * (m1.get(k, 0.0) - m0.get(k, 0.0)) / wall, 1)
                                    for k in ("TaskDuration", "ScriptDuration", "LayoutDuration",
                                              "RecalcStyleDuration")}
    cpu0 = {p["pid"]: p["cpu_s"] for p in p0}
    renderer_cpu = sum(p["cpu_s"] - cpu0[p["pid"]] for p in p1 if p["pid"] in cpu0)
    long = [d for _, d in seen.longtasks]
    to_worker = [1000 * (i["ts"] - sent[i["text"]]) for i in arrived if i["text"] in sent]
    p = result["arrival_to_paint"]
    result = {
        "offered_msgs_per_s": rate, "seconds": round(wall, 1), "sent": count, "send_errors": len(errors),
        "error_samples": errors[:3], "arrived": len(arrived), "lost": count - len(errors) - len(arrived),
        "duplicates": frames.dupes, "frames_on_agent_socket": frames.frames,
        "meets_goal": bool(p["p99_ms"] is not None and p["p99_ms"] <= GOAL_P99_MS and not result["lower_bound"]),
        **result,
        "send_to_arrival": {"n": len(to_worker), "p50_ms": rnd(pct(to_worker, 0.5)),
                            "p99_ms": rnd(pct(to_worker, 0.99)), "max_ms": rnd(max(to_worker) if to_worker else None)},
        "clock_round_trip_ms": round(1000 * rtt, 2),
        "generator_lag_p99_ms": rnd(pct(lag, 0.99), 2),
        "main_thread_busy_pct": busy,
        "main_thread_ms_per_message": None if m1 is None else round(
            1000 * (m1.get("TaskDuration", 0.0) - m0.get("TaskDuration", 0.0)) / max(1, count), 1),
        "renderers_cpu_pct": round(100 * renderer_cpu / wall, 1),
        "long_tasks": {"count": len(long), "total_ms": round(sum(long)), "max_ms": rnd(max(long) if long else None)},
        "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1],
    }
    log(f"    {rate:g} msg/s for {wall:.0f} s: arrival→paint p50 {p['p50_ms']} p99 {p['p99_ms']} max {p['max_ms']} ms"
        f"{' (lower bounds)' if result['lower_bound'] else ''} over {p['n']} messages (open chat p99 "
        f"{result['open_chat']['paint']['p99_ms']}, chat list p99 {result['chat_list']['paint']['p99_ms']}); lost "
        f"{result['lost']}, not painted within {DRAIN_SECONDS:.0f} s: {result['never_painted']}; main thread busy "
        f"{(busy or {}).get('TaskDuration')} % ({result['main_thread_ms_per_message']} ms per offered message), "
        f"renderers' CPU {result['renderers_cpu_pct']} %, long tasks {len(long)} (max "
        f"{result['long_tasks']['max_ms']} ms); load {result['loadavg_after'][0]}")
    return result


async def profiled(cdp: Any, customers: list[ChatParticipant], rate: float,
                   log: Callable[[str], None]) -> dict[str, Any]:
    """PROFILE_SECONDS more at ``rate`` (not measured) with the page's CPU profiler on."""
    profile = CpuProfile(cdp)
    await profile.start()
    await send_at(customers, rate, PROFILE_SECONDS, "p", 0, {}, [])
    await asyncio.sleep(2.0)
    out = await profile.stop()
    out["offered_msgs_per_s"] = rate
    top = ", ".join(f"{name} {ms} ms" for name, ms in out["self_ms"][:5])
    log(f"    CPU profile at {rate:g} msg/s: main thread {out['busy_pct']} % busy; most self time: {top}")
    return out


# --- one scenario -------------------------------------------------------------------------------------------------

async def scenario(browser: Any, tmp: Path, plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    out: dict[str, Any] = {"plan": asdict(plan), "open_chat": customer_name(OPEN_CHAT), "steps": []}
    srv: Server = parley_server(tmp, f"parley-workspace-{plan.name}")
    try:
        await srv.start()
    except RuntimeError as exc:
        tail = srv.log_path.read_text(errors="replace")[-2000:] if srv.log_path.exists() else ""
        raise RuntimeError(f"{exc}:\n{tail}") from exc
    out["command"] = short(srv)
    customers: list[ChatParticipant] = []
    context: Any = None
    try:
        inst = await discover(srv.url)
        await asyncio.to_thread(give_slots, srv.url, inst.instance_id, inst.basic_queue, plan.chats)
        context = await browser.new_context(viewport=VIEWPORT)
        await context.add_init_script(path=str(HOOK))
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page_cdp, browser_cdp = await context.new_cdp_session(page), await browser.new_browser_cdp_session()
        probe = Probe(page, page_cdp, browser_cdp)
        await probe.start()
        context_id = (await page_cdp.send("Target.getTargetInfo"))["targetInfo"]["browserContextId"]
        t = time.monotonic()
        await sign_in(page, srv.url, plan.chats)
        mem = out["memory"] = {"signed_in": await probe.memory()}
        for chat in range(plan.chats):
            customers.append(await accept_chat(page, srv.url, chat))
        await open_chat(page, OPEN_CHAT)
        out["setup_s"] = round(time.monotonic() - t, 1)
        mem["chats_accepted"] = await probe.memory()
        log(f"  {plan.name}: agent1 signed in and accepted {plan.chats} chats in {out['setup_s']} s")
        await page.goto("about:blank")
        out["fill"] = await fill(srv.port, customers, plan.messages, log)
        out["load"] = await load(page, srv.url, plan.chats, plan.messages, log)
        await asyncio.sleep(SETTLE_SECONDS)
        mem["loaded"] = await probe.memory()
        mem["loaded_gc"] = await probe.memory(gc=True)
        frames, seen = WorkerFrames(browser_cdp, context_id), Sightings()
        await context.expose_binding(Sightings.BINDING, seen.report)
        await frames.attach()
        for index, rate in enumerate(plan.rates):
            if index == 1 and plan.profile:
                out["profile"] = await profiled(page_cdp, customers, plan.rates[0], log)
                await asyncio.sleep(SETTLE_SECONDS)
            out["steps"].append(await step(page, probe, frames, seen, customers, rate, plan.seconds, index, log))
            mem[f"after_{rate:g}_msg_s"] = await probe.memory()
            mem[f"after_{rate:g}_msg_s_gc"] = await probe.memory(gc=True)
            if out["steps"][-1]["never_painted"]:
                left = [f"{r:g}" for r in plan.rates[index + 1:]]
                if left:
                    out["skipped_rates"] = (f"{', '.join(left)} msg/s: the page had not painted every message of "
                                            f"{rate:g} msg/s {DRAIN_SECONDS:.0f} s after the last was sent")
                    log(f"    skipping {out['skipped_rates']}")
                break
            await asyncio.sleep(SETTLE_SECONDS)
        await frames.detach()
        out["page_problems"] = {"count": len(problems), "samples": problems[:10]}
    finally:
        if context is not None:
            with contextlib.suppress(Exception):
                await context.close()
        for cust in customers:
            with contextlib.suppress(Exception):
                await cust.close()
        srv.stop()
    return out


def versions(browser: Any) -> dict[str, Any]:
    libs = {}
    for name in ("parley", "playwright", "uvicorn", "websockets"):
        with contextlib.suppress(md.PackageNotFoundError):
            libs[name] = md.version(name)
    def git(*args: str) -> str:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return ""

    return {"chromium": browser.version, "python": sys.version.split()[0], "parley_git_rev": git("rev-parse", "--short",
            "HEAD"), "parley_tree_dirty": bool(git("status", "--porcelain", "--", "src")), "libs": libs}


async def run(plans: list[Plan], tmp: Path, out: dict[str, Any], log: Callable[[str], None]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            out["versions"] = versions(browser)
            for plan in plans:
                log(f"scenario {plan.name}: {plan.chats} chats of {plan.messages} messages, then "
                    f"{', '.join(f'{r:g}' for r in plan.rates)} msg/s for {plan.seconds:g} s each")
                out["scenarios"][plan.name] = await scenario(browser, tmp, plan, log)
        finally:
            await browser.close()


# --- the report's pieces (bench/report.py) ------------------------------------------------------------------------

def _lat(s: dict[str, Any], bound: bool = False) -> str:
    def v(x: Any) -> str:
        return "—" if x is None else f"{'≥ ' if bound else ''}{x:,.1f}"

    return f"p50 {v(s['p50_ms'])} / p99 {v(s['p99_ms'])} / max {v(s['max_ms'])} ms ({s['n']:,} messages)"


def last_collected(memory: dict[str, Any]) -> dict[str, Any]:
    """The last reading after a forced collection that the page answered."""
    done = [m for m in memory.values() if m and m.get("after_gc") and m.get("js_heap_used_mib") is not None]
    return done[-1] if done else {}


def report_rows(w: dict[str, Any]) -> list[str]:
    """Rows for the report's goals table: the workspace's p99 arrival-to-paint at each rate, beside the baseline."""
    scenarios = w.get("scenarios") or {}
    main, base = scenarios.get("workspace") or {}, scenarios.get("baseline") or {}
    base_at = {s["offered_msgs_per_s"]: s for s in base.get("steps") or []}
    plan = main.get("plan") or {}
    rows = []
    for s in main.get("steps") or []:
        mem = last_collected(main.get("memory") or {})
        b = base_at.get(s["offered_msgs_per_s"])
        baseline = (f"1 chat of {base['plan']['messages']} messages: "
                    f"{_lat(b['arrival_to_paint'], b['lower_bound'])}" if b else "not measured")
        rows.append(
            f"| agent workspace in chromium: {plan['chats']} open chats of {plan['messages']:,} messages, "
            f"{s['offered_msgs_per_s']:g} msg/s arriving: agent socket arrival to paint | "
            f"{_lat(s['arrival_to_paint'], s['lower_bound'])}; JS heap {mem.get('js_heap_used_mib')} MiB after GC, "
            f"largest renderer RSS {mem.get('renderer_rss_mib')} MiB | baseline (same run): {baseline} | — | "
            f"p99 ≤ {GOAL_P99_MS:.0f} ms | {'**met**' if s['meets_goal'] else '**missed**'} |")
    return rows


def report_section(w: dict[str, Any]) -> list[str]:
    """The report's section: how the workspace was measured, and each scenario's figures."""
    scenarios = w.get("scenarios") or {}
    if not scenarios:
        return []
    doc = (__doc__ or "").split("\n\n")
    lines = ["## Agent workspace in a browser", "",
             f"`{w.get('command', 'python -m bench.workspace')}` (Chromium "
             f"{(w.get('versions') or {}).get('chromium', '')}, headless).", "",
             *(line for p in doc[2:] for line in (p.strip().replace("\n", " "), "")),
             "| scenario | offered | arrival → paint | open chat | chat list | main thread busy | long tasks | lost "
             "/ not painted in the drain time | load avg |", "|---|---|---|---|---|---|---|---|---|"]
    for name, s in scenarios.items():
        plan = s["plan"]
        for st in s.get("steps") or []:
            lt = st["long_tasks"]
            lines.append(
                f"| {name}: {plan['chats']} x {plan['messages']:,} messages | {st['offered_msgs_per_s']:g} "
                f"msg/s for {st['seconds']:g} s | {_lat(st['arrival_to_paint'], st['lower_bound'])} | "
                f"{_lat(st['open_chat']['paint'], st['lower_bound'])} | "
                f"{_lat(st['chat_list']['paint'], st['lower_bound'])} | "
                f"{(st['main_thread_busy_pct'] or {}).get('TaskDuration', '—')} % "
                f"({st['main_thread_ms_per_message']} ms per offered message) | {lt['count']} (max {lt['max_ms']} "
                "ms) | "
                f"{st['lost']} / {st['never_painted']} | {st['loadavg_after'][0]} |")
        if s.get("skipped_rates"):
            lines.append(f"| {name} | not run: {s['skipped_rates']} | | | | | | | |")
    lines += ["", "| scenario | stage | JS heap used (MiB) | DOM nodes | largest renderer RSS (MiB) |",
              "|---|---|---|---|---|"]
    for name, s in scenarios.items():
        for stage, m in (s.get("memory") or {}).items():
            if m.get("page_busy"):
                lines.append(f"| {name} | {stage} | the page did not answer within 15 s | | {m['renderer_rss_mib']} |")
                continue
            lines.append(f"| {name} | {stage} | {m['js_heap_used_mib']} | {m['dom_nodes']:,} | "
                         f"{m['renderer_rss_mib']} |")
    for name, s in scenarios.items():
        prof = s.get("profile")
        if prof:
            lines += ["", f"CPU profile, {name}, {prof['offered_msgs_per_s']:g} msg/s: the main thread was "
                      f"{prof['busy_pct']} % busy; most self time: "
                      + "; ".join(f"`{fn}` {ms} ms" for fn, ms in prof["self_ms"][:10]) + "."]
    lines += ["", f"Machine load (`uptime`): before `{w.get('uptime_before', '')}`, after "
              f"`{w.get('uptime_after', '')}`.", ""]
    return lines


# --- main ---------------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 chats of 200 messages and 15 s per rate")
    parser.add_argument("--chats", type=int, help="open chats (default 10; 3 with --quick)")
    parser.add_argument("--messages", type=int, help="messages per chat before measuring (default 2000; 200 quick)")
    parser.add_argument("--rates", default="2,20", help="messages/s arriving while measuring, one step each")
    parser.add_argument("--seconds", type=float, help="seconds per rate (default 60; 15 with --quick)")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    parser.add_argument("--into", type=Path, help="also store the result as 'workspace' in this results JSON "
                        "(for example docs/benchmarks.json; then python -m bench.report renders it)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the 1-chat baseline")
    parser.add_argument("--no-profile", action="store_true", help="skip the CPU profile between the rates")
    args = parser.parse_args()
    chats = args.chats or (3 if args.quick else 10)
    messages = args.messages or (200 if args.quick else 2000)
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    try:
        rates = tuple(float(r) for r in args.rates.split(","))
    except ValueError:
        parser.error("--rates takes numbers separated by commas, e.g. 2,20")
    if chats < 1 or messages < 1 or seconds <= 0 or not rates or min(rates) <= 0:
        parser.error("--chats, --messages, --rates and --seconds must be positive")
    plans = [] if args.no_baseline else [Plan("baseline", 1, 50, rates, seconds, not args.no_profile)]
    plans.append(Plan("workspace", chats, messages, rates, seconds, not args.no_profile))
    t0 = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    out: dict[str, Any] = {
        "started_utc": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "command": " ".join(["python", "-m", "bench.workspace", *sys.argv[1:]]), "machine": machine(),
        "uptime_before": uptime(), "goal_p99_ms": GOAL_P99_MS, "scenarios": {},
    }
    log(f"workspace benchmark; {out['uptime_before']}")
    try:
        with tempfile.TemporaryDirectory(prefix="parley-workspace-") as tmp:
            asyncio.run(run(plans, Path(tmp), out, log))
    finally:
        out["uptime_after"] = uptime()
        out["elapsed_s"] = round(time.monotonic() - t0, 1)
        log(f"done; {out['uptime_after']}")
        write(out, args.out, args.into, log)
    return 0


def write(out: dict[str, Any], path: Path | None, into: Path | None, log: Callable[[str], None]) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
        log(f"wrote {path}")
    if into:
        results = orjson.loads(into.read_bytes())
        results["workspace"] = out
        into.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
        log(f"stored as 'workspace' in {into}")


if __name__ == "__main__":
    sys.exit(main())

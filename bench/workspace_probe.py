"""What the workspace benchmark (``bench/workspace.py``) reads from the browser.

* :class:`WorkerFrames`: the agent WebSocket's frames as they arrive in the CCP's SharedWorker, where StreamsJS holds
  that one socket for all of the agent's chats (ChatJS in the page gets them relayed through the CCP frame), with
  their CLOCK_MONOTONIC arrival times, from CDP's Network domain on the worker's target.
* :class:`Sightings`: when each measured message is shown and painted in the page, as ``bench/workspace_hook.js``
  (added with ``add_init_script``) reports it through a binding; :func:`analyse` joins the two.
* :func:`clock_offset` maps the page's ``performance.now()`` onto CLOCK_MONOTONIC, the clock of ``time.monotonic()``
  and of CDP's timestamps.
* :class:`Probe`: the page's memory (JS heap, DOM nodes), its main thread's busy time, the renderers' RSS and CPU.
* :class:`CpuProfile`: the page's CPU profile over a window, summarized by function.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from pathlib import Path
from typing import Any

import orjson

from bench.lib import pct, status_kib

HOOK = Path(__file__).with_name("workspace_hook.js")
STEADY = "wsb:s:"  # what every measured message's text starts with (the hook's STEADY)

START = "() => { const b = window.__bench; b.log.clear(); b.prev.clear(); b.phase = 'measure'; }"
STOP = "() => { window.__bench.phase = ''; }"


def rnd(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


def ms_summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": rnd(pct(values, 0.50)), "p99_ms": rnd(pct(values, 0.99)),
            "max_ms": rnd(max(values) if values else None)}


def chat_of(message: str) -> int:
    """The chat index a benchmark message's text carries: ``wsb:<phase>:<chat>:<n> ...``."""
    return int(message.split(":")[2])


class WorkerFrames:
    """Benchmark messages as they arrive on the agent's WebSocket in the CCP's SharedWorker.

    CDP's ``Network.webSocketFrameReceived`` on every SharedWorker target of the browser context, attached from the
    browser's CDP session with ``flatten: false`` (Playwright's sessions cannot address a child session). Each event
    carries a CLOCK_MONOTONIC timestamp taken in the worker as the frame is handed to its socket."""

    def __init__(self, browser_cdp: Any, context_id: str) -> None:
        self.cdp, self.context_id = browser_cdp, context_id
        self.sessions: set[str] = set()
        self.frames = 0
        self.dupes = 0
        self.items: dict[str, dict[str, Any]] = {}  # Id -> {id, text, ts}, in arrival order
        self._calls = 0
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listening = False

    async def attach(self) -> None:
        targets = (await self.cdp.send("Target.getTargets"))["targetInfos"]
        workers = [t for t in targets if t["type"] == "shared_worker" and t.get("browserContextId") == self.context_id]
        if not workers:
            raise RuntimeError(f"no CCP SharedWorker in this browser context: {[t['type'] for t in targets]}")
        if not self._listening:
            self.cdp.on("Target.receivedMessageFromTarget", self._message)
            self._listening = True
        for worker in workers:
            attached = await self.cdp.send("Target.attachToTarget", {"targetId": worker["targetId"], "flatten": False})
            self.sessions.add(attached["sessionId"])
            await self.call(attached["sessionId"], "Network.enable")

    async def detach(self) -> None:
        for session in list(self.sessions):
            with contextlib.suppress(Exception):
                await self.call(session, "Network.disable")
                await self.cdp.send("Target.detachFromTarget", {"sessionId": session})
        self.sessions.clear()

    def reset(self) -> None:
        self.items, self.frames, self.dupes = {}, 0, 0

    async def call(self, session: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._calls += 1
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[self._calls] = answer
        message = orjson.dumps({"id": self._calls, "method": method, "params": params or {}}).decode()
        await self.cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})
        return await asyncio.wait_for(answer, 10)

    def _message(self, event: dict[str, Any]) -> None:
        if event.get("sessionId") not in self.sessions:
            return
        msg = orjson.loads(event["message"])
        if "id" in msg:
            answer = self._answers.pop(msg["id"], None)
            if answer is not None and not answer.done():
                answer.set_result(msg)
            return
        if msg.get("method") != "Network.webSocketFrameReceived":
            return
        self.frames += 1
        params = msg["params"]
        data = (params.get("response") or {}).get("payloadData") or ""
        if STEADY not in data:
            return
        try:
            frame = orjson.loads(data)
            item = orjson.loads(frame["content"]) if isinstance(frame.get("content"), str) else frame.get("content")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        content = (item or {}).get("Content")
        if item.get("Type") != "MESSAGE" or not isinstance(content, str) or not content.startswith(STEADY):
            return
        if item["Id"] in self.items:
            self.dupes += 1
            return
        self.items[item["Id"]] = {"id": item["Id"], "text": content, "ts": float(params["timestamp"])}


class Sightings:
    """What ``bench/workspace_hook.js`` reports through the ``__benchReport`` binding (``context.expose_binding``):
    painted messages, by Id (conversation log) and by text (chat list), and long tasks. Reports arrive as they happen,
    so a page too busy to answer an evaluate still delivers what it painted."""

    BINDING = "__benchReport"

    def __init__(self) -> None:
        self.log: dict[str, dict[str, Any]] = {}
        self.prev: dict[str, dict[str, Any]] = {}
        self.longtasks: list[list[float]] = []

    def reset(self) -> None:
        self.log, self.prev, self.longtasks = {}, {}, []

    def report(self, source: Any, payload: list[Any]) -> None:
        kind, data = payload
        if kind == "paint":
            for hit in data:
                (self.log if hit["kind"] == "log" else self.prev)[hit["key"]] = hit
        elif kind == "long":
            self.longtasks += data

    def unpainted(self, arrived: list[dict[str, Any]], open_chat: int) -> int:
        """How many arrived messages are not painted yet: each of the open chat's in the log, each other chat's
        newest in the chat list."""
        newest = {chat_of(i["text"]): i["text"] for i in arrived}
        log = sum(1 for i in arrived if chat_of(i["text"]) == open_chat and i["id"] not in self.log)
        return log + sum(1 for chat, t in newest.items() if chat != open_chat and t not in self.prev)


async def clock_offset(page: Any, tries: int = 15) -> tuple[float, float]:
    """(offset, round trip) in seconds, with time.monotonic() = offset + performance.now() / 1000 in the page: the
    fastest of ``tries`` evaluations; its round trip bounds the error (Chromium's clock is CLOCK_MONOTONIC too)."""
    best = (0.0, float("inf"))
    for _ in range(tries):
        t0 = time.monotonic()
        now = float(await page.evaluate("performance.now()"))
        t1 = time.monotonic()
        if t1 - t0 < best[1]:
            best = ((t0 + t1) / 2 - now / 1000, t1 - t0)
    return best


def analyse(arrived: list[dict[str, Any]], shown_log: dict[str, Any], shown_prev: dict[str, Any], offset: float,
            open_chat: int, collected_at: float) -> dict[str, Any]:
    """Latency of each arrived message from its arrival in the worker (``ts``, monotonic seconds; the page's
    performance.now() is ``(ts - offset) * 1000``): to the DOM change that shows it, to the next animation frame, and
    to the end of that frame (painted). In the chat list, a message replaced by a newer one before a frame showed it
    counts until the newer one's paint. A message never painted counts until ``collected_at`` (monotonic seconds),
    which makes the percentiles lower bounds."""
    chats: dict[int, list[dict[str, Any]]] = {}
    for item in arrived:
        chats.setdefault(chat_of(item["text"]), []).append(item)
    lat: dict[str, dict[str, list[float]]] = {k: {"dom": [], "frame": [], "paint": []} for k in ("log", "prev")}
    superseded = unpainted = 0
    end = (collected_at - offset) * 1000
    for chat, items in chats.items():
        kind = "log" if chat == open_chat else "prev"
        later: dict[str, Any] | None = None
        for item in sorted(items, key=lambda i: i["ts"], reverse=True):
            hit = shown_log.get(item["id"]) if kind == "log" else shown_prev.get(item["text"])
            if hit is not None and hit.get("post") is not None:
                later = hit
            elif kind == "prev" and later is not None:
                hit = later
                superseded += 1
            else:
                unpainted += 1
                hit = {"dom": (hit or {}).get("dom") or end, "raf": end, "post": end}
            t0 = (item["ts"] - offset) * 1000
            lat[kind]["dom"].append(hit["dom"] - t0)
            lat[kind]["frame"].append(hit["raf"] - t0)
            lat[kind]["paint"].append(hit["post"] - t0)
    every = {m: lat["log"][m] + lat["prev"][m] for m in ("dom", "frame", "paint")}
    return {
        "arrival_to_paint": ms_summary(every["paint"]),
        "arrival_to_frame": ms_summary(every["frame"]),
        "arrival_to_dom": ms_summary(every["dom"]),
        "arrival_to_dom_min_ms": rnd(min(every["dom"]) if every["dom"] else None, 2),
        "open_chat": {m: ms_summary(lat["log"][m]) for m in ("dom", "frame", "paint")},
        "chat_list": {m: ms_summary(lat["prev"][m]) for m in ("dom", "frame", "paint")},
        "superseded_in_chat_list": superseded, "never_painted": unpainted,
        "lower_bound": unpainted > 0,
    }


class Probe:
    """The page's memory and main thread, over CDP (page and browser sessions), and the renderers' RSS from /proc."""

    def __init__(self, page: Any, cdp: Any, browser_cdp: Any) -> None:
        self.page, self.cdp, self.browser_cdp = page, cdp, browser_cdp

    async def start(self) -> None:
        await self.cdp.send("Performance.enable")

    async def metrics(self) -> dict[str, float]:
        got = await self.cdp.send("Performance.getMetrics")
        return {m["name"]: float(m["value"]) for m in got["metrics"]}

    async def renderers(self) -> list[dict[str, Any]]:
        """This browser's renderer processes (the page's, the CCP worker's, spares): pid, RSS, CPU time."""
        info = await self.browser_cdp.send("SystemInfo.getProcessInfo")
        out = []
        for p in info["processInfo"]:
            if p.get("type") != "renderer":
                continue
            with contextlib.suppress(OSError):
                out.append({"pid": int(p["id"]), "rss_kib": status_kib(int(p["id"]), "VmRSS"),
                            "cpu_s": float(p.get("cpuTime", 0.0))})
        return sorted(out, key=lambda r: -r["rss_kib"])

    async def memory(self, gc: bool = False, timeout: float = 15.0) -> dict[str, Any]:
        """The page's heap and DOM (None when it does not answer within ``timeout`` seconds, as when it is far
        behind; ``page_busy`` says so) and the renderers' RSS (from the browser and /proc, always)."""
        out: dict[str, Any] = {"after_gc": gc, "js_heap_used_mib": None, "js_heap_total_mib": None,
                               "dom_nodes": None, "js_event_listeners": None}
        try:
            async with asyncio.timeout(timeout):
                if gc:
                    await self.cdp.send("HeapProfiler.collectGarbage")
                    await asyncio.sleep(0.5)
                heap = await self.page.evaluate(
                    "() => ({ used: performance.memory.usedJSHeapSize, total: performance.memory.totalJSHeapSize })")
                m = await self.metrics()
            out.update({"js_heap_used_mib": round(heap["used"] / 2**20, 1),
                        "js_heap_total_mib": round(heap["total"] / 2**20, 1), "dom_nodes": int(m.get("Nodes", 0)),
                        "js_event_listeners": int(m.get("JSEventListeners", 0))})
        except TimeoutError:
            out["page_busy"] = True
        procs = await self.renderers()
        out["renderer_rss_mib"] = round(procs[0]["rss_kib"] / 1024, 1) if procs else None
        out["renderers_rss_mib"] = [round(p["rss_kib"] / 1024, 1) for p in procs]
        return out


class CpuProfile:
    """The page's V8 CPU profile (CDP ``Profiler``) over a window, summarized by function (self and inclusive)."""

    def __init__(self, cdp: Any) -> None:
        self.cdp = cdp

    async def start(self) -> None:
        await self.cdp.send("Profiler.enable")
        await self.cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        await self.cdp.send("Profiler.start")

    async def stop(self, top: int = 25) -> dict[str, Any]:
        profile = (await self.cdp.send("Profiler.stop"))["profile"]
        await self.cdp.send("Profiler.disable")
        return summarize(profile, top)


def summarize(profile: dict[str, Any], top: int) -> dict[str, Any]:
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {child: n["id"] for n in profile["nodes"] for child in n.get("children", [])}

    def name(node: dict[str, Any]) -> str:
        frame = node["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        return f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}" if where else \
            (frame["functionName"] or "(anonymous)")

    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    deltas = profile.get("timeDeltas") or []
    for sample, delta in zip(profile.get("samples") or [], [*deltas[1:], 0], strict=False):
        node = nodes[sample]
        own[name(node)] += delta
        seen: set[str] = set()
        at: int | None = sample
        while at is not None and at in nodes:
            key = name(nodes[at])
            if key not in seen:
                total[key] += delta
                seen.add(key)
            at = parent.get(at)
    wall = sum(deltas) / 1000
    idle = own.get("(idle)", 0) / 1000
    skip = {"(root)", "(idle)", "(program)"}
    return {"sampled_ms": round(wall), "idle_ms": round(idle), "busy_pct": round(100 * (wall - idle) / wall, 1)
            if wall else None,
            "self_ms": [[k, round(v / 1000, 1)] for k, v in own.most_common(top + 3) if k not in skip][:top],
            "inclusive_ms": [[k, round(v / 1000, 1)] for k, v in total.most_common(top + 3) if k not in skip][:top]}

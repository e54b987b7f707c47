"""Runs every benchmark scenario against fresh Parley servers and the floor, writes the results as JSON.

``python -m bench.run [--out FILE] [--quick] [--only floor,sqlite,idle,routing,transcript,overload,postgres,cluster]``
(``scripts/bench`` runs it and then ``python -m bench.report``). Every server here is a process this runner
started; it stops exactly those, by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata as md
import math
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bench import profile as prof
from bench.fanout import SLO_MS, Fanout, floor_sender, parley_sender
from bench.lib import HttpPool, Server, cpu_seconds, free_port
from bench.proto import discover
from bench.scenarios import idle_floor, idle_parley, routing, transcript
from bench.sixparty import SixParty
from parley.client import ConnectClient
from parley.web.admission import HOLD_SECONDS

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PARLEY = str(VENV_BIN / "parley")

# Offered SendMessage rates (messages/s), stepped up until p99 send-to-delivery passes 50 ms (more steps would
# not fit the 15-minute budget on a slow day: PostgreSQL's 100 chats were skipped with two more; 200 and 800 went
# in round 8, when Parley's ladders had come to reach 2,000-4,500 and a fresh clone's run took about 15 minutes;
# 7,000 came in round 9, when Parley held 6,000 into 10 chats).
PARLEY_RATES = [400, 1200, 1600, 2000, 2400, 2800, 3200, 3600, 4000, 5000, 6000, 7000]
FLOOR_RATES = [2000, 3000, 4000, 5000, 5750, 6500, 8000, 10000, 12000]
STEP_SECONDS = 3.0
# Bisections between the best step and the first miss (SQLite, PostgreSQL and the floor), each rate rounded to this
# many msg/s.
REFINE_STEPS = 2
REFINE_GRAIN = 50.0
# The sender's HTTP connections: each participant sends over its own keep-alive connections, up to six at once
# (a browser's limit per host), one more opened only while all of its open ones are busy; Parley and the floor
# alike. Until round 9 every participant's SendMessage shared one pool of 64 connections: a server whose mean
# answer time passed 64 / rate (18 ms at 3,600 msg/s) then built a queue in the generator, which no real client
# population has. OWN_CONNECTIONS = 0 goes back to the shared pool of SEND_CONNECTIONS.
OWN_CONNECTIONS = 6
SEND_CONNECTIONS = 64
PG_DSN = "postgresql://postgres@127.0.0.1:5432/"

T0 = time.monotonic()
DEADLINE = T0 + 840.0


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def raise_nofile() -> dict[str, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return {"before": soft, "now": resource.getrlimit(resource.RLIMIT_NOFILE)[0], "hard": hard}


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem = next((line.split(":", 1)[1].strip() for line in f if line.startswith("MemTotal")), "")
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "model_name": model, "mem_total": mem, "kernel": platform.release(),
            "loadavg_at_start": [round(x, 2) for x in load]}


def versions() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    libs = {}
    for name in ("parley", "uvicorn", "starlette", "websockets", "httptools", "uvloop", "orjson", "SQLAlchemy",
                 "asyncpg", "httpx", "botocore", "boto3", "py-spy"):
        with contextlib.suppress(md.PackageNotFoundError):
            libs[name] = md.version(name)
    pg = ""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        pg = subprocess.run(["psql", PG_DSN + "postgres", "-tAc", "show server_version"], capture_output=True,
                            text=True, check=True, timeout=10).stdout.strip()
    return {"python": sys.version.split()[0], "parley_git_rev": git("rev-parse", "--short", "HEAD"),
            "parley_tree_dirty": bool(git("status", "--porcelain", "--", "src")), "libs": libs,
            "sqlite": sqlite3.sqlite_version, "postgresql_server": pg}


def parley_server(tmp: Path, name: str, storage: str | None = None, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    data = tmp / name
    argv = [PARLEY, "serve", "--demo", "--data-dir", str(data), "--port", str(port)]
    if storage:
        argv += ["--storage", storage]
    return Server(name, argv, port, tmp / f"{name}.log", env=env)


def floor_server(tmp: Path, name: str) -> Server:
    port = free_port()
    return Server(name, [sys.executable, "-m", "bench.floor", str(port)], port, tmp / f"{name}.log",
                  env={**os.environ, "PYTHONPATH": str(ROOT)})


def agents_for(chats: int) -> int:
    """Five agent seats per chat at concurrency 10, with a little slack so the last invitations find agents."""
    return math.ceil(chats * 5 / 10) + max(2, chats // 50)


def short(server: Server, storage: str | None = None) -> str:
    argv = ["parley" if a == PARLEY else a for a in server.argv]
    argv = ["python" if a == sys.executable else a for a in argv]
    return " ".join(argv)


# --- scenarios -----------------------------------------------------------------------------------------------

class FloorLadders:
    """The floor's fan-out, size by size, each size laddered when asked (so that a size's floor ladder can run right
    before Parley sets up and ladders the same size). Each size opens its rooms afresh and closes them after its
    ladder: the generator holds both servers' sockets in one process, and 1,000 chats of each would pass its
    20,000 descriptors."""

    def __init__(self, tmp: Path, rates: Sequence[float], out: dict[str, Any]) -> None:
        self.tmp, self.rates, self.out = tmp, rates, out
        self.srv = floor_server(tmp, "floor-fanout")
        self.results: list[dict[str, Any]] = []
        out["floor"] = self.results

    async def start(self) -> None:
        await self.srv.start()
        self.out["floor_command"] = short(self.srv)

    async def measure(self, n: int) -> None:
        """Open ``n`` rooms (six sockets each), warm up, ladder at ``n`` rooms, close them."""
        port = self.srv.port
        pool = HttpPool("127.0.0.1", port, SEND_CONNECTIONS)
        fan = Fanout(pool, floor_sender(), own_connections=OWN_CONNECTIONS)
        try:
            t = time.monotonic()
            await fan.open_rooms(port, n)
            log(f"  floor: {n} rooms ({6 * n} sockets) open in {time.monotonic() - t:.1f} s")
            await warm(fan, n, self.srv.pid, self.rates[0])
            self.results.append(await ladder(fan, self.rates, n, self.srv.pid, REFINE_STEPS))
        finally:
            with contextlib.suppress(Exception):
                await fan.close()

    def measured(self, n: int) -> bool:
        return any(r["chats"] == n for r in self.results)

    async def stop(self) -> None:
        self.srv.stop()


async def floor_fanout(tmp: Path, sizes: list[int], rates: Sequence[float], out: dict[str, Any]) -> None:
    floor = FloorLadders(tmp, rates, out)
    await floor.start()
    try:
        for n in sizes:
            await floor.measure(n)
    finally:
        await floor.stop()


async def warm(fan: Fanout, chats: int, pid: int, rate: float) -> None:
    await fan.step(rate, 1.0, chats, pid)


async def ladder(fan: Fanout, rates: Sequence[float], chats: int, pid: int, refine: int = 0) -> dict[str, Any]:
    """Step up the offered rate; a step that misses the goal by less than 10x (p99 ≤ 500 ms: a stall of the shared
    machine, not a backlog) or mostly through the generator's own lag is tried up to twice more (one noisy second
    should not end the ladder); the ladder ends at a clear miss or at the third miss of one step.

    Then, ``refine`` times, the rate halfway between the best step and the first that missed is tried the same way
    (it becomes the new best or the new miss): the ladder's steps are a third or more apart at the floor's first
    rungs, which alone could move a ratio by as much; each refinement halves that."""
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None

    async def step(rate: float) -> dict[str, Any]:
        for attempt in (1, 2, 3):
            r = await fan.step(rate, STEP_SECONDS, chats, pid)
            r["attempt"] = attempt
            steps.append(r)
            lat = r["latency"]
            log(f"    {chats:>5} chats {rate:>6.0f} msg/s try {attempt}: p50 {lat['p50_ms']} p99 {lat['p99_ms']} "
                f"max {lat['max_ms']} ms; {r['achieved_deliveries_per_s']:.0f} deliveries/s; errors {r['errors']} "
                f"{r['error_kinds'] or ''} lost {r['lost']}; server cpu {r['server_cpu_pct']}% "
                f"client cpu {r['client_cpu_pct']}% "
                f"(client lag p99 {r['client_lag_p99_ms']} ms)")
            if r["holds_slo"]:
                break
            p99 = lat["p99_ms"] or 0.0
            noisy = p99 <= 10 * SLO_MS or (r["client_lag_p99_ms"] or 0.0) > 0.5 * p99
            if r["errors"] or r["lost"] or not noisy:
                break  # saturated, not a noisy second: no point in trying again
            await asyncio.sleep(1.0)
        # A step that was answered 429 left the server shedding for its hold (1 s after its last refusal): the next
        # step starts after it, or its first second is refused for the last one's overload (round 11's first run
        # had refined steps answered 42-745 429s with p99 15-33 ms so).
        await asyncio.sleep(HOLD_SECONDS + 0.5 if "429" in r["error_kinds"] else 0.2)
        return r

    missed: float | None = None
    for rate in rates:
        r = await step(rate)
        if not r["holds_slo"]:
            missed = rate
            break
        best = r
    top = missed is None and best is not None
    for _ in range(refine if missed is not None else 0):
        low = best["offered_msgs_per_s"] if best else 0.0
        assert missed is not None
        rate = round((low + missed) / 2 / REFINE_GRAIN) * REFINE_GRAIN
        if not low < rate < missed:
            break
        r = await step(rate)
        if r["holds_slo"]:
            best = r
        else:
            missed = rate
    return {
        "chats": chats, "sockets": chats * 6, "step_seconds": STEP_SECONDS,
        "best_offered_msgs_per_s": best["offered_msgs_per_s"] if best else 0,
        "best_msgs_per_s": best["achieved_msgs_per_s"] if best else 0.0,
        "best_deliveries_per_s": best["achieved_deliveries_per_s"] if best else 0.0,
        "best_step": best, "first_failing_rate": missed, "refinements": refine,
        "reached_ladder_top": top, "steps": steps,
    }


async def parley_fanout(tmp: Path, name: str, sizes: list[int], rates: Sequence[float], out: dict[str, Any],
                        storage: str | None = None, profile_at: int | None = None,
                        before_setup: Callable[[int], Awaitable[None]] | None = None) -> None:
    """Set up six-party chats size by size on one server and ladder each size; ``before_setup(n)`` runs before
    a size's chats are set up, with the sender's HTTP connections closed (the floor's ladder of that size, when
    they run interleaved)."""
    srv = parley_server(tmp, name, storage)
    await srv.start()
    out["command"] = short(srv)
    inst = await discover(srv.url)
    pool = HttpPool("127.0.0.1", srv.port, SEND_CONNECTIONS)
    fan = Fanout(pool, parley_sender(), own_connections=OWN_CONNECTIONS)
    six = SixParty(inst, fan, log)
    results = []
    try:
        have_agents = 0
        rate_of_setup: float | None = None
        for n in sizes:
            need = agents_for(n) - have_agents
            if rate_of_setup:
                projected = (n - six.complete) / rate_of_setup + need * 0.5 + 60
                left = DEADLINE - time.monotonic()
                if projected > left:
                    out.setdefault("skipped_sizes", {})[str(n)] = (
                        f"setting up {n - six.complete} more six-party chats at the {rate_of_setup:.2f} chats/s "
                        f"measured so far (+{need} agents) and laddering would take ~{projected:.0f} s; "
                        f"{max(0.0, left):.0f} s of the time budget were left")
                    log(f"  {name}: skipping {n} chats: {out['skipped_sizes'][str(n)]}")
                    break
            if before_setup is not None:
                fan.close_connections()
                await before_setup(n)
            t = time.monotonic()
            users = await six.add_agents(need)
            have_agents += need
            six.start_agents()
            spy = None
            if profile_at == n:
                spy = start_spy(srv.pid, tmp / "profile-setup.txt", 15)
            async with ConnectClient(srv.url) as cc:
                made = await six.add_chats(n - six.complete, cc)
            await six.stop_agents()
            setup = {"agents_added": need, **users, **made, "total_s": round(time.monotonic() - t, 1)}
            rate_of_setup = made["chats_per_s"]
            if spy is not None:
                while spy.poll() is None:
                    await asyncio.sleep(0.2)
                if (tmp / "profile-setup.txt").exists():
                    setup["profile"] = prof.summarize(tmp / "profile-setup.txt")
                    keep(tmp / "profile-setup.txt", f"profile-setup-{name}.txt")
            log(f"  {name}: {n} six-party chats ready ({need} agents added): {setup}")
            await asyncio.sleep(2.0)
            setup["settle_s"] = await settle(srv.pid)
            await warm(fan, n, srv.pid, rates[0])
            result = await ladder(fan, rates, n, srv.pid, REFINE_STEPS)
            result["setup"] = setup
            if profile_at == n:
                result["profile"] = await profile_under_load(fan, n, srv, result, tmp)
            results.append(result)
    finally:
        with contextlib.suppress(Exception):
            await fan.close()
        await six.close()
        srv.stop()
    out["fanout"] = results


async def profile_under_load(fan: Fanout, chats: int, srv: Server, result: dict[str, Any], tmp: Path
                             ) -> dict[str, Any]:
    """py-spy on the server while it takes the first failing rate (saturated: the hot paths dominate)."""
    rate = float(result["first_failing_rate"] or result["best_offered_msgs_per_s"] or PARLEY_RATES[0])
    seconds = 8.0
    raw = tmp / "profile.txt"
    log(f"  profiling the server (py-spy, {seconds:.0f} s) at {rate:.0f} msg/s into {chats} chats")
    await asyncio.sleep(3.0)
    spy = start_spy(srv.pid, raw, seconds)
    await asyncio.sleep(0.5)
    step = await fan.step(rate, seconds, chats, srv.pid, drain_timeout=30)
    while spy.poll() is None:
        await asyncio.sleep(0.2)
    err = spy.stderr.read().decode() if spy.stderr else ""
    summary: dict[str, Any] = prof.summarize(raw) if raw.exists() else {"error": err[-500:]}
    keep(raw, "profile-fanout-sqlite.txt")
    summary["rate_msgs_per_s"] = rate
    summary["chats"] = chats
    summary["step"] = {k: step[k] for k in ("latency", "achieved_msgs_per_s", "server_cpu_pct", "errors",
                                            "error_kinds", "lost")}
    return summary


async def settle(pid: int, below_pct: float = 15.0, timeout: float = 40.0) -> float:
    """Wait until the server is nearly idle again. The agents' snapshot long polls (up to 20 s) are still held
    by the server when their loops stop; each ends with one more snapshot render, which would otherwise land in
    the first steps of the ladder. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c0 = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if 100 * (cpu_seconds(pid) - c0) < below_pct:
            break
    return round(time.monotonic() - t0, 1)


def start_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "250", "--format", "raw", "--threads", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def keep(path: Path, name: str) -> None:
    """A copy of a raw profile under bench/results/ (gitignored), for flame graphs."""
    with contextlib.suppress(OSError):
        dest = ROOT / "bench" / "results" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)


async def parley_idle(tmp: Path, sockets: int, out: dict[str, Any]) -> None:
    srv = parley_server(tmp, "parley-idle")
    await srv.start()
    out["command"] = short(srv)
    try:
        inst = await discover(srv.url)
        out["parley"] = await idle_parley(inst, srv.pid, sockets, log)
    finally:
        srv.stop()
    fl = floor_server(tmp, "floor-idle")
    await fl.start()
    out["floor_command"] = short(fl)
    try:
        out["floor"] = await idle_floor(fl.port, fl.pid, sockets)
    finally:
        fl.stop()


async def parley_routing(tmp: Path, agents: int, chats: int, rate: float, out: dict[str, Any]) -> None:
    srv = parley_server(tmp, "parley-routing")
    await srv.start()
    out["command"] = short(srv)
    try:
        inst = await discover(srv.url)
        out.update(await routing(inst, srv.pid, agents, chats, rate, log))
    finally:
        srv.stop()


async def parley_transcript(tmp: Path, items: int, out: dict[str, Any]) -> None:
    srv = parley_server(tmp, "parley-transcript")
    await srv.start()
    out["command"] = short(srv)
    try:
        inst = await discover(srv.url)
        out.update(await transcript(inst, srv.pid, items, 3, log))
    finally:
        srv.stop()


def quiet_disk(tmp: Path) -> None:
    """Before a scenario: drop the data of the servers already stopped and flush what is left to disk.

    The 1,000-chat scenario leaves hundreds of MB of dirty pages (its database and WAL); written back while the
    next scenario runs, they can stall that server's writes (routing's start-to-offer p99 was 140 ms right after
    it in full runs, 33-36 ms run alone or after the floor). Deleting a file discards its dirty pages instead
    of writing them."""
    for entry in tmp.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
    os.sync()


def pg(sql: str) -> None:
    subprocess.run(["psql", PG_DSN + "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   capture_output=True, timeout=60)


# --- main ----------------------------------------------------------------------------------------------------

async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying the runner out")
    parser.add_argument("--only", default="floor,sqlite,idle,routing,transcript,postgres,cluster,overload")
    parser.add_argument("--budget", type=float, default=2100.0, help="seconds; later scenarios are skipped past it")
    args = parser.parse_args()
    only = set(args.only.split(","))
    global DEADLINE
    DEADLINE = T0 + args.budget
    quick = args.quick
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = args.out or ROOT / "bench" / "results" / f"{stamp}.json"
    result: dict[str, Any] = {
        "started_utc": stamp, "machine": machine(), "versions": versions(), "nofile": raise_nofile(),
        "bench_command": " ".join(["python", "-m", "bench.run", *sys.argv[1:]]),
        "config": {"parley_rates": PARLEY_RATES, "floor_rates": FLOOR_RATES, "step_seconds": STEP_SECONDS,
                   "slo_p99_ms": 50, "quick": quick, "send_connections": SEND_CONNECTIONS,
                   "own_connections": OWN_CONNECTIONS,
                   "refine_steps": REFINE_STEPS, "refine_grain": REFINE_GRAIN, "refine_postgres": True},
        "skipped": {},
    }
    sizes_floor = [10, 100] if quick else [10, 100, 1000]
    sizes_parley = [10] if quick else [10, 100, 1000]
    idle_sockets = 500 if quick else 5000
    routing_agents, routing_chats, routing_rate = (10, 50, 10.0) if quick else (50, 500, 10.0)
    transcript_items = 1000 if quick else 10000
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    log(f"machine {result['machine']}; work dir {tmp}")

    def over_budget(name: str) -> bool:
        spent = time.monotonic() - T0
        if spent > args.budget:
            result["skipped"][name] = f"time budget of {args.budget:.0f} s spent ({spent:.0f} s)"
            log(f"skipping {name}: budget spent")
            return True
        return False

    def save() -> None:
        result["elapsed_s"] = round(time.monotonic() - T0, 1)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        import orjson

        out_path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))

    scenarios: list[tuple[str, Any]] = []
    profile_at = 10 if quick else 100
    if "floor" in only and "sqlite" in only:
        # Interleaved: each size's floor ladder runs right before Parley sets up and ladders that size (both servers
        # up, the other one idle), so the two figures of a ratio are measured minutes apart on the shared machine,
        # not a whole scenario apart.
        result["floor_fanout"], result["fanout_sqlite"] = {"interleaved": True}, {"interleaved": True}

        async def interleaved() -> None:
            floor = FloorLadders(tmp, FLOOR_RATES, result["floor_fanout"])
            await floor.start()
            try:
                await parley_fanout(tmp, "parley-fanout-sqlite", sizes_parley, PARLEY_RATES, result["fanout_sqlite"],
                                    profile_at=profile_at, before_setup=floor.measure)
                for n in sizes_floor:
                    if not floor.measured(n):
                        await floor.measure(n)
            finally:
                await floor.stop()

        scenarios.append(("floor+sqlite", interleaved))
    elif "floor" in only:
        result["floor_fanout"] = {}
        scenarios.append(("floor", lambda: floor_fanout(tmp, sizes_floor, FLOOR_RATES, result["floor_fanout"])))
    elif "sqlite" in only:
        result["fanout_sqlite"] = {}
        scenarios.append(("sqlite", lambda: parley_fanout(tmp, "parley-fanout-sqlite", sizes_parley, PARLEY_RATES,
                                                          result["fanout_sqlite"], profile_at=profile_at)))
    if "idle" in only:
        result["idle"] = {"sockets": idle_sockets}
        scenarios.append(("idle", lambda: parley_idle(tmp, idle_sockets, result["idle"])))
    if "routing" in only:
        result["routing"] = {}
        scenarios.append(("routing", lambda: parley_routing(tmp, routing_agents, routing_chats, routing_rate,
                                                            result["routing"])))
    if "transcript" in only:
        result["transcript"] = {}
        scenarios.append(("transcript", lambda: parley_transcript(tmp, transcript_items, result["transcript"])))
    if "overload" in only:
        result["overload"] = {}

        async def overload() -> None:
            # Imported here: bench.overload builds on this module's servers and ladder.
            from bench.overload import QUICK_STEP_SECONDS, STEP_SECONDS, held_rate
            from bench.overload import overload as run_overload

            chats = 20 if quick else 100
            rate = held_rate(chats, result.get("fanout_sqlite"))
            await run_overload(tmp, chats, rate, f"this run's fan-out ladder at {chats} chats" if rate else
                               "measured in this run, without shedding", QUICK_STEP_SECONDS if quick else
                               STEP_SECONDS, result["overload"], log)

        scenarios.append(("overload", overload))
    if "postgres" in only:
        db = f"parley_bench_{stamp.lower()}"
        result["fanout_postgres"] = {"database": db}

        async def postgres() -> None:
            pg(f'CREATE DATABASE "{db}"')
            try:
                await parley_fanout(tmp, "parley-fanout-postgres", sizes_parley, PARLEY_RATES,
                                    result["fanout_postgres"], storage=PG_DSN + db)
            finally:
                with contextlib.suppress(Exception):
                    pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

        scenarios.append(("postgres", postgres))
    if "cluster" in only:
        result["cluster"] = {}

        async def cluster() -> None:
            # Imported here, as bench.overload: bench.cluster builds on this module's ladder.
            from bench.cluster import cluster_fanout

            await cluster_fanout(tmp, stamp, quick, result["cluster"], log, DEADLINE)

        scenarios.append(("cluster", cluster))

    # Overload last: its two servers and their setup take about five minutes, and the scenarios before it keep
    # the time budget they had (PostgreSQL's sizes are skipped by the time left).
    order = ["floor+sqlite", "floor", "sqlite", "routing", "transcript", "idle", "postgres", "cluster", "overload"]
    scenarios.sort(key=lambda pair: order.index(pair[0]))
    for name, run in scenarios:
        if over_budget(name):
            continue
        quiet_disk(tmp)
        log(f"scenario {name}")
        t = time.monotonic()
        try:
            await run()
        except Exception as exc:
            import traceback

            result.setdefault("failed", {})[name] = "".join(traceback.format_exception(exc))[-3000:]
            log(f"scenario {name} failed: {exc!r}")
        result.setdefault("scenario_seconds", {})[name] = round(time.monotonic() - t, 1)
        save()
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    save()
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main()))

"""Fan-out on a cluster: the fan-out ladder through HAProxy with 1, 2 and 3 Parley nodes on PostgreSQL + Redis.

For each node count, ``scripts/cluster start`` runs the nodes and HAProxy (round-robin per request, no stickiness)
on a fresh PostgreSQL database and Redis db :data:`REDIS_DB` (flushed before and after; pub/sub itself is not
per db). One node still sits behind HAProxy, so the three rows differ only in the number of nodes. Six-party chats
are set up through the balancer (``bench.sixparty``): every participant's socket and every SendMessage land on
whichever node HAProxy picks, so with N nodes about (N-1)/N of the deliveries leave the node that took the
message and reach their socket through Redis. The send rate is laddered as ``bench.run`` ladders it.

Per step, besides ``Fanout.step``'s figures, the CPU of every process of the deployment is read from
``/proc/<pid>/stat`` right before and right after the step: each node, HAProxy, the Redis server and PostgreSQL
(the backends of this run's database plus the server's background processes: checkpointer, WAL writer, …).
Each node's ``/metrics`` (read directly on its own port, outside the CPU window) gives the SendMessages it took,
the bus payloads it received (``parley_bus_delivery_lag_seconds``) and the participant sockets it holds.

:func:`report_rows` and :func:`report_section` render the results for ``bench.report``, with a capacity model.
This machine has 2 cores shared by every process and the load generator: more nodes cannot add CPU here, so the
measured rows show what scale-out costs per message, and the model projects N nodes on N machines from those
costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fanout import Fanout, parley_sender
from bench.lib import HttpPool, cpu_seconds, one_request, rss_bytes
from bench.proto import discover
from bench.run import (
    OWN_CONNECTIONS,
    PARLEY_RATES,
    PG_DSN,
    SEND_CONNECTIONS,
    agents_for,
    ladder,
    pg,
    settle,
    warm,
)
from bench.sixparty import SixParty
from parley.client import ConnectClient

ROOT = Path(__file__).resolve().parent.parent
NODE_COUNTS = (1, 2, 3)
CHATS = 10
QUICK_CHATS = 5
# --quick: a coarser ladder (the run is for trying the runner out).
QUICK_RATES = (400, 1200, 2000, 2800, 3600, 5000, 7000)
# A Redis db no test uses; only it is flushed.
REDIS_DB = 13
REDIS_URL = "redis://127.0.0.1:6379/"
# Time budget: a node count is skipped when less is left than its projected time (the longest one's so far plus
# 15 %, or these for the first).
FIRST_ESTIMATE_S = 150.0
QUICK_FIRST_ESTIMATE_S = 100.0
# Capacity model assumptions (written out in the report): the share of a core a node (one event loop), Redis
# (one thread) or a machine's cores may be kept busy at while p99 holds, and the cores of the database's and the
# balancer's machines.
HEADROOM = 0.85
DB_CORES = 2
BALANCER_CORES = 2
# Seconds the deployment's idle CPU is read for before the ladder.
IDLE_SECONDS = 3.0
PROJECT_NODES = (1, 2, 3, 4, 6, 8, 12)
SLO_LABEL = "highest rate with p99 ≤ 50 ms"

Log = Callable[[str], None]


# --- processes ----------------------------------------------------------------------------------------------

def proc_cpu(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds, or None when it is gone."""
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return None


def proc_cpu_fine(pid: int) -> float | None:
    """The on-CPU time of ``pid``'s threads in seconds from ``/proc/<pid>/task/*/schedstat`` (nanoseconds, where
    ``/proc/<pid>/stat`` counts 10 ms ticks), or None when it is gone. For processes whose threads live as long
    as they do (Redis, HAProxy, PostgreSQL's): a thread that exits takes its time with it."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError), \
                    open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return proc_cpu(pid)
    return total / 1e9


def machine_busy() -> tuple[float, float]:
    """(busy, total) seconds of all CPUs since boot, from /proc/stat (idle and iowait are not busy)."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    tck = os.sysconf("SC_CLK_TCK")
    total = sum(values[:8])
    idle = values[3] + values[4]
    return (total - idle) / tck, total / tck


def postmaster_pid() -> int | None:
    """The PostgreSQL server's postmaster, when it runs on this machine and its pid file can be read."""
    try:
        out = subprocess.run(["psql", PG_DSN + "postgres", "-tAc", "show data_directory"], capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        pid = int(Path(out, "postmaster.pid").read_text().split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


AUX = ("checkpointer", "background writer", "walwriter", "autovacuum launcher", "logical replication launcher",
       "archiver", "stats collector", "startup")


def pg_processes(postmaster: int, db: str) -> dict[int, tuple[str, float]]:
    """The postmaster's children that work for this run: backends of ``db`` (kind "backend") and the server's
    background processes ("aux"), each with its CPU seconds so far. Other databases' backends are left out."""
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                after = f.read().rsplit(")", 1)[1].split()
            if int(after[1]) != postmaster:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        cpu = proc_cpu_fine(pid)
        if cpu is None:
            continue
        if db in cmd.split():
            found[pid] = ("backend", cpu)
        elif any(word in cmd for word in AUX):
            found[pid] = ("aux", cpu)
    return found


def redis_pid() -> int | None:
    from redis import Redis

    try:
        client = Redis.from_url(REDIS_URL + str(REDIS_DB), socket_timeout=5)
        try:
            pid = int(client.info("server")["process_id"])
        finally:
            client.close()
    except Exception:
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def flush_redis_db() -> None:
    """Empty this benchmark's Redis db (only that one)."""
    from redis import Redis

    client = Redis.from_url(REDIS_URL + str(REDIS_DB), socket_timeout=10)
    try:
        client.flushdb()
    finally:
        client.close()


def free_block(count: int) -> int:
    """A port P such that P..P+count can all be bound on 127.0.0.1, below the ephemeral range."""
    for _ in range(200):
        base = random.randrange(20000, 30000 - count)
        try:
            for p in range(base, base + count + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports found")


# --- the cluster --------------------------------------------------------------------------------------------

@dataclass
class Cluster:
    """One ``scripts/cluster`` deployment this runner started (and stops: ``scripts/cluster stop`` signals
    exactly the pids its start wrote)."""

    nodes: int
    port: int
    storage: str
    bus: str
    run_dir: Path
    started: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self, action: str) -> list[str]:
        script = str(ROOT / "scripts" / "cluster")
        if action == "stop":
            return [script, "stop", "--run-dir", str(self.run_dir)]
        return [script, "start", "--nodes", str(self.nodes), "--port", str(self.port), "--storage", self.storage,
                "--bus", self.bus, "--run-dir", str(self.run_dir)]

    def command(self) -> str:
        return " ".join(["scripts/cluster", *self.argv("start")[1:]])

    async def start(self) -> float:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        t = time.monotonic()
        self.started = True  # a start that fails half-way may leave processes: stop() is always called
        with open(self.run_dir / "cluster-start.log", "wb") as out:
            proc = await asyncio.to_thread(subprocess.run, self.argv("start"), cwd=ROOT, stdout=out,
                                           stderr=subprocess.STDOUT, timeout=240)
        if proc.returncode != 0:
            tail = (self.run_dir / "cluster-start.log").read_text(errors="replace")[-1500:]
            raise RuntimeError(f"scripts/cluster start --nodes {self.nodes} failed ({proc.returncode}): {tail}")
        return round(time.monotonic() - t, 1)

    def stop(self) -> float:
        if not self.started:
            return 0.0
        t = time.monotonic()
        with contextlib.suppress(Exception), open(self.run_dir / "cluster-stop.log", "wb") as out:
            subprocess.run(self.argv("stop"), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=120)
        self.started = False
        return round(time.monotonic() - t, 1)

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text().split()[0])

    def node_pids(self) -> list[int]:
        return [self.pid(f"node{n}") for n in range(1, self.nodes + 1)]

    def node_ports(self) -> list[int]:
        return [self.port + n for n in range(1, self.nodes + 1)]


LINE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN)$')


def parse_metrics(text: str) -> dict[str, float]:
    """The figures of one node's /metrics this benchmark uses."""
    out = {"send_messages": 0.0, "bus_payloads": 0.0, "bus_lag_sum_s": 0.0, "participant_sockets": 0.0,
           "chat_feeds": 0.0, "commits": 0.0}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if name == "parley_requests_total" and 'operation="SendMessage"' in labels and 'status="200"' in labels:
            out["send_messages"] += value
        elif name == "parley_bus_delivery_lag_seconds_count":
            out["bus_payloads"] = value
        elif name == "parley_bus_delivery_lag_seconds_sum":
            out["bus_lag_sum_s"] = value
        elif name == "parley_open_websockets" and 'kind="participant"' in labels:
            out["participant_sockets"] = value
        elif name == "parley_chat_feeds":
            out["chat_feeds"] = value
        elif name == "parley_commit_batch_size_count":
            out["commits"] = value
    return out


async def scrape(port: int) -> dict[str, float]:
    try:
        status, body = await one_request("127.0.0.1", port, "GET", "/metrics")
    except OSError:
        return {}
    return parse_metrics(body.decode(errors="replace")) if status == 200 else {}


@dataclass
class Snapshot:
    t: float
    nodes: list[float | None]
    haproxy: float | None
    redis: float | None
    pg: dict[int, tuple[str, float]]
    busy: tuple[float, float]
    metrics: list[dict[str, float]] = field(default_factory=list)


class Probe:
    """Reads the CPU of every process of the deployment and each node's /metrics, before and after a step."""

    def __init__(self, cluster: Cluster, db: str, postmaster: int | None, redis: int | None) -> None:
        self.cluster = cluster
        self.db = db
        self.postmaster = postmaster
        self.redis = redis
        self.node_pids = cluster.node_pids()
        self.haproxy = cluster.pid("haproxy")

    def cpu(self) -> Snapshot:
        return Snapshot(time.monotonic(), [proc_cpu(p) for p in self.node_pids], proc_cpu_fine(self.haproxy),
                        proc_cpu_fine(self.redis) if self.redis else None,
                        pg_processes(self.postmaster, self.db) if self.postmaster else {}, machine_busy())

    async def metrics(self) -> list[dict[str, float]]:
        return list(await asyncio.gather(*(scrape(p) for p in self.cluster.node_ports())))

    async def before(self) -> Snapshot:
        m = await self.metrics()
        snap = self.cpu()
        snap.metrics = m
        return snap

    async def after(self) -> Snapshot:
        snap = self.cpu()
        snap.metrics = await self.metrics()
        return snap

    def account(self, a: Snapshot, b: Snapshot, accepted: int, deliveries: int) -> dict[str, Any]:
        wall = max(1e-9, b.t - a.t)

        def per_msg(seconds: float | None) -> float | None:
            return round(1e6 * seconds / accepted, 1) if seconds is not None and accepted else None

        def part(seconds: float | None) -> dict[str, Any]:
            return {"cpu_s": None if seconds is None else round(seconds, 3),
                    "cpu_pct": None if seconds is None else round(100 * seconds / wall, 1),
                    "us_per_msg": per_msg(seconds)}

        def delta(x: float | None, y: float | None) -> float | None:
            return None if x is None or y is None else y - x

        nodes = []
        total_sends = 0.0
        for i, pid in enumerate(self.node_pids):
            ma = a.metrics[i] if i < len(a.metrics) else {}
            mb = b.metrics[i] if i < len(b.metrics) else {}
            sends = mb.get("send_messages", 0.0) - ma.get("send_messages", 0.0)
            payloads = mb.get("bus_payloads", 0.0) - ma.get("bus_payloads", 0.0)
            lag = mb.get("bus_lag_sum_s", 0.0) - ma.get("bus_lag_sum_s", 0.0)
            total_sends += sends
            rss = None
            with contextlib.suppress(OSError):
                rss = round(rss_bytes(pid) / 2**20, 1)
            nodes.append({"node": i + 1, "pid": pid, **part(delta(a.nodes[i], b.nodes[i])),
                          "send_messages": int(sends), "participant_sockets": int(mb.get("participant_sockets", 0)),
                          "chat_feeds": int(mb.get("chat_feeds", 0)), "bus_payloads": int(payloads),
                          "commits": int(mb.get("commits", 0.0) - ma.get("commits", 0.0)),
                          "bus_lag_mean_ms": round(1000 * lag / payloads, 2) if payloads else None, "rss_mib": rss})
        node_cpu = [n["cpu_s"] for n in nodes]
        nodes_cpu = sum(c for c in node_cpu if c is not None) if all(c is not None for c in node_cpu) else None
        backends = sum(cb - a.pg[pid][1] if pid in a.pg else cb for pid, (kind, cb) in b.pg.items()
                       if kind == "backend")
        aux = sum(cb - a.pg[pid][1] if pid in a.pg else cb for pid, (kind, cb) in b.pg.items() if kind == "aux")
        gone = sum(1 for pid in a.pg if pid not in b.pg)
        pg_cpu = backends + aux if self.postmaster else None
        parts = [nodes_cpu, delta(a.haproxy, b.haproxy), delta(a.redis, b.redis), pg_cpu]
        total = sum(p for p in parts if p is not None) if all(p is not None for p in parts) else None
        # Which deliveries crossed nodes is not known per socket (HAProxy picks each socket's node); with the
        # SendMessages each node took (m_j) and the sockets each holds (s_j), a delivery stays on its node with
        # probability sum_j m_j/M * s_j/S when a chat's sockets fall on nodes independently of the sender's node.
        sockets = sum(n["participant_sockets"] for n in nodes)
        same = (sum(n["send_messages"] / total_sends * n["participant_sockets"] / sockets for n in nodes)
                if total_sends and sockets else None)
        busy = b.busy[0] - a.busy[0]
        span = b.busy[1] - a.busy[1]
        return {
            "window_s": round(wall, 2), "nodes": nodes, "nodes_cpu_s": None if nodes_cpu is None else
            round(nodes_cpu, 3), "nodes_us_per_msg": per_msg(nodes_cpu),
            "haproxy": part(delta(a.haproxy, b.haproxy)), "redis": part(delta(a.redis, b.redis)),
            "postgres": {**part(pg_cpu), "backends_cpu_s": round(backends, 3), "aux_cpu_s": round(aux, 3),
                         "backends": sum(1 for k, _ in b.pg.values() if k == "backend"), "gone": gone},
            "total_us_per_msg": per_msg(total),
            "machine_busy_pct": round(100 * busy / span * (os.cpu_count() or 1), 1) if span else None,
            "cross_node_share_est": None if same is None else round(1 - same, 3),
            "cross_node_deliveries_est": None if same is None else round((1 - same) * deliveries),
        }


class ClusterFanout(Fanout):
    """``Fanout`` whose every step also reads the deployment's CPU and /metrics (:class:`Probe`). The step's
    ``server_cpu_pct`` and ``server_cpu_s`` become the nodes' sum (``Fanout`` samples one pid: node 1's); its
    peak RSS stays node 1's."""

    probe: Probe | None = None

    async def step(self, rate: float, seconds: float, active_chats: int, server_pid: int,
                   drain_timeout: float = 10.0) -> dict[str, Any]:
        if self.probe is None:
            return await super().step(rate, seconds, active_chats, server_pid, drain_timeout)
        a = await self.probe.before()
        r = await super().step(rate, seconds, active_chats, server_pid, drain_timeout)
        b = await self.probe.after()
        extra = self.probe.account(a, b, int(r["accepted"]), int(r["deliveries"]))
        r["node1_sampler_cpu_pct"] = r.get("server_cpu_pct")
        if extra["nodes_cpu_s"] is not None:
            r["server_cpu_s"] = extra["nodes_cpu_s"]
            r["server_cpu_pct"] = round(100 * extra["nodes_cpu_s"] / extra["window_s"], 1)
        r.update(extra)
        return r


# --- the scenario -------------------------------------------------------------------------------------------

async def settle_all(pids: Sequence[int]) -> float:
    t = time.monotonic()
    for pid in pids:
        await settle(pid)
    return round(time.monotonic() - t, 1)


async def one_cluster(tmp: Path, nodes: int, chats: int, rates: Sequence[float], db: str, log: Log,
                      ) -> dict[str, Any]:
    cluster = Cluster(nodes, free_block(nodes), PG_DSN + db, REDIS_URL + str(REDIS_DB), tmp / f"cluster-{nodes}")
    res: dict[str, Any] = {"nodes": nodes, "database": db, "redis_db": REDIS_DB, "command": cluster.command()}
    t0 = time.monotonic()
    pg(f'CREATE DATABASE "{db}"')
    try:
        await asyncio.to_thread(flush_redis_db)
        res["start_s"] = await cluster.start()
        log(f"  cluster: {nodes} node(s) behind HAProxy on {cluster.url} ready in {res['start_s']} s")
        probe = Probe(cluster, db, postmaster_pid(), redis_pid())
        res["pids"] = {"nodes": probe.node_pids, "haproxy": probe.haproxy, "redis": probe.redis,
                       "postmaster": probe.postmaster}
        inst = await discover(cluster.url)
        pool = HttpPool("127.0.0.1", cluster.port, SEND_CONNECTIONS)
        fan = ClusterFanout(pool, parley_sender(), own_connections=OWN_CONNECTIONS)
        six = SixParty(inst, fan, log)
        try:
            t = time.monotonic()
            need = agents_for(chats)
            users = await six.add_agents(need)
            six.start_agents()
            async with ConnectClient(cluster.url) as cc:
                made = await six.add_chats(chats, cc)
            await six.stop_agents()
            setup: dict[str, Any] = {"agents_added": need, **users, **made, "total_s": round(time.monotonic() - t, 1)}
            log(f"  cluster: {nodes} node(s): {chats} six-party chats ready: {setup}")
            await asyncio.sleep(2.0)
            setup["settle_s"] = await settle_all(probe.node_pids)
            res["setup"] = setup
            placed = await probe.metrics()
            res["placement"] = [{"node": i + 1, "participant_sockets": int(m.get("participant_sockets", 0)),
                                 "chat_feeds": int(m.get("chat_feeds", 0))} for i, m in enumerate(placed)]
            # The deployment's own work with no messages (routers, sweeps, health checks), for reference.
            a = await probe.before()
            await asyncio.sleep(IDLE_SECONDS)
            res["idle"] = probe.account(a, await probe.after(), 0, 0)
            fan.probe = probe
            await warm(fan, chats, probe.node_pids[0], rates[0])
            res.update(await ladder(fan, rates, chats, probe.node_pids[0], 0))
        finally:
            with contextlib.suppress(Exception):
                await fan.close()
            with contextlib.suppress(Exception):
                await six.close()
    finally:
        res["stop_s"] = cluster.stop()
        with contextlib.suppress(Exception):
            pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            await asyncio.to_thread(flush_redis_db)
        res["seconds"] = round(time.monotonic() - t0, 1)
    return res


async def cluster_fanout(tmp: Path, stamp: str, quick: bool, out: dict[str, Any], log: Log,
                         deadline: float, node_counts: Sequence[int] = NODE_COUNTS) -> None:
    """The scenario: each node count in turn, each on its own fresh cluster, database and Redis db; results land
    in ``out`` as they come (a later failure keeps the earlier rows)."""
    chats = QUICK_CHATS if quick else CHATS
    rates = QUICK_RATES if quick else PARLEY_RATES
    out.update({"chats": chats, "rates": list(rates), "node_counts": list(node_counts), "cpus": os.cpu_count(),
                "headroom": HEADROOM, "db_cores": DB_CORES, "balancer_cores": BALANCER_CORES, "runs": []})
    estimate = QUICK_FIRST_ESTIMATE_S if quick else FIRST_ESTIMATE_S
    failed = []
    took: list[float] = []
    for nodes in node_counts:
        left = deadline - time.monotonic()
        if estimate > left:
            out.setdefault("skipped_nodes", {})[str(nodes)] = (
                f"projected ~{estimate:.0f} s (the last node count's time), {max(0.0, left):.0f} s of the time "
                "budget were left")
            log(f"  cluster: skipping {nodes} node(s): {out['skipped_nodes'][str(nodes)]}")
            continue
        t = time.monotonic()
        try:
            out["runs"].append(await one_cluster(tmp, nodes, chats, rates, f"parley_bench_cluster_{stamp.lower()}_"
                                                 f"{nodes}", log))
        except Exception as exc:
            import traceback

            out.setdefault("failed_nodes", {})[str(nodes)] = "".join(traceback.format_exception(exc))[-3000:]
            log(f"  cluster: {nodes} node(s) failed: {exc!r}")
            failed.append(nodes)
        took.append(time.monotonic() - t)
        estimate = max(took) * 1.15
    if failed:
        raise RuntimeError(f"cluster fan-out failed with {failed} node(s); see cluster.failed_nodes")


# --- the report ---------------------------------------------------------------------------------------------

def _f(v: Any, nd: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.{nd}f}"
    return str(v)


def _clean(step: dict[str, Any]) -> bool:
    """A step whose every message was accepted and delivered (its p99 aside): its CPU per message is a cost."""
    return bool(step.get("accepted")) and not step.get("errors") and not step.get("lost") \
        and step.get("nodes_us_per_msg") is not None


def _carried(run: dict[str, Any]) -> dict[str, Any] | None:
    """The step the capacity figures come from: the highest rate the node count carried without errors or loss
    (p99 aside; CPU per message falls as the rate rises and group commits batch more), else its best step."""
    clean = [st for st in run.get("steps", []) if _clean(st)]
    if clean:
        return max(clean, key=lambda st: (st["achieved_msgs_per_s"], -st["nodes_us_per_msg"]))
    return run.get("best_step")


def _cell(run: dict[str, Any]) -> str:
    b = run.get("best_step")
    if not run.get("steps"):
        return "not measured"
    if not b:
        return "none held (lowest step missed)"
    top = " (ladder top: limit not reached)" if run.get("reached_ladder_top") else ""
    return (f"{_f(b['achieved_msgs_per_s'])} msg/s = {_f(b['achieved_deliveries_per_s'])} deliveries/s "
            f"(p99 {_f(b['latency']['p99_ms'])} ms){top}")


def _floor_cell(fl: dict[str, Any] | None, chats: int) -> str:
    if not fl:
        return f"no floor ladder at {chats} chats in this run"
    b = fl.get("best_step")
    if not b:
        return "none held"
    return f"{_f(b['achieved_msgs_per_s'])} msg/s = {_f(b['achieved_deliveries_per_s'])} deliveries/s"


def report_rows(c: dict[str, Any], floor: dict[int, dict[str, Any]], failed: bool = False) -> list[str]:
    """Rows for the report's goals table: one per node count, the floor of the same run (same chats) beside."""
    if not c:
        return []
    chats = int(c.get("chats") or CHATS)
    fl = floor.get(chats)
    runs = {int(r["nodes"]): r for r in c.get("runs", [])}
    rows = []
    for n in c.get("node_counts", NODE_COUNTS):
        label = (f"fan-out cluster {n} node{'s' if n > 1 else ''} on PostgreSQL + Redis behind HAProxy, {chats} "
                 f"six-party chats: {SLO_LABEL}, 0 errors, 0 lost")
        run = runs.get(n)
        if run is None:
            skipped = (c.get("skipped_nodes") or {}).get(str(n))
            if skipped:
                why = f"not run: {skipped}"
            elif str(n) in (c.get("failed_nodes") or {}):
                why = "failed (traceback in the JSON)"
            else:
                why = "not run (the scenario failed)" if failed else "not run"
            rows.append(f"| {label} | {why} | {_floor_cell(fl, chats)} | — | (no goal: scale-out, see the capacity "
                        "model) | **not measured** |")
            continue
        pd = run.get("best_deliveries_per_s") or 0.0
        fd = (fl or {}).get("best_deliveries_per_s") or 0.0
        r = f"{pd / fd:.3f} (deliveries/s)" if pd and fd else "—"
        rows.append(f"| {label} | {_cell(run)} | {_floor_cell(fl, chats)} | {r} | (no goal: scale-out, see the "
                    "capacity model) | |")
    return rows


def _nodes_cell(step: dict[str, Any], key: str, nd: int = 1) -> str:
    return " / ".join(_f(n.get(key), nd) for n in step.get("nodes", []))


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares a + b·N through (N, value); one point: a flat line."""
    if not points:
        return 0.0, 0.0
    if len({n for n, _ in points}) < 2:
        return sum(v for _, v in points) / len(points), 0.0
    k = len(points)
    mx = sum(n for n, _ in points) / k
    my = sum(v for _, v in points) / k
    b = sum((n - mx) * (v - my) for n, v in points) / sum((n - mx) ** 2 for n, _ in points)
    return my - b * mx, b


def _us(step: dict[str, Any], key: str) -> float | None:
    if key == "nodes_us":
        value = step.get("nodes_us_per_msg")
    else:
        value = (step.get({"redis_us": "redis", "pg_us": "postgres", "haproxy_us": "haproxy"}[key]) or {}
                 ).get("us_per_msg")
    return None if value is None else float(value)


def capacity_model(c: dict[str, Any]) -> dict[str, Any]:
    """CPU per message at the highest rate each node count carried, the growth per added node at one offered
    rate that all of them carried, and the projection of N nodes on N machines: min(N nodes' capacity, Redis's,
    PostgreSQL's, HAProxy's)."""
    headroom = float(c.get("headroom", HEADROOM))
    db_cores = int(c.get("db_cores", DB_CORES))
    lb_cores = int(c.get("balancer_cores", BALANCER_CORES))
    keys = ("nodes_us", "redis_us", "pg_us", "haproxy_us")
    measured = []
    runs = [run for run in c.get("runs", []) if run.get("steps")]
    for run in runs:
        b = _carried(run)
        if not b or b.get("nodes_us_per_msg") is None:
            continue
        n = int(run["nodes"])
        commits = sum(x.get("commits", 0) for x in b.get("nodes", []))
        measured.append({"nodes": n, "held": bool(b.get("holds_slo")), "p99_ms": b["latency"]["p99_ms"],
                         "rate": b.get("achieved_msgs_per_s"), **{k: _us(b, k) for k in keys},
                         "per_node_us": b["nodes_us_per_msg"] / n,
                         "per_commit": round(b["accepted"] / commits, 1) if commits else None,
                         "total_us": b.get("total_us_per_msg"), "machine_busy_pct": b.get("machine_busy_pct")})
    if not measured:
        return {"measured": []}
    # The growth per added node, at the highest offered rate that every measured node count carried (the mean
    # of its clean tries): at one rate the node counts' costs differ by the nodes, not by how much the rate let
    # the group commits batch.
    counts = {m["nodes"] for m in measured}
    by_rate: dict[float, dict[int, list[dict[str, Any]]]] = {}
    for run in runs:
        for st in run["steps"]:
            if _clean(st):
                by_rate.setdefault(float(st["offered_msgs_per_s"]), {}).setdefault(int(run["nodes"]), []).append(st)
    common = max((r for r, per in by_rate.items() if set(per) >= counts), default=None) if len(counts) > 1 \
        else None
    fits: dict[str, tuple[float, float] | None] = {}
    flattened = []
    low = min(measured, key=lambda m: m["nodes"])
    for k in keys:
        slope = 0.0
        if k in ("nodes_us", "redis_us") and common is not None:
            pts = [(n, v) for n, sts in by_rate[common].items()
                   for v in [sum(_us(st, k) or 0.0 for st in sts) / len(sts)]]
            slope = _fit(pts)[1]
            # More nodes cannot cost less per message (each receives every poke): a falling line is the
            # machine's noise, taken flat instead.
            if slope < 0:
                slope = 0.0
                flattened.append(k)
        if k in ("nodes_us", "redis_us"):
            # Through the lowest node count's cost at the highest rate it carried.
            fits[k] = None if low.get(k) is None else (float(low[k]) - slope * low["nodes"], slope)
        else:
            # PostgreSQL's and HAProxy's work per message does not grow with the node count as such; it falls with
            # batching: their cost at the highest rate any node count carried.
            top = max((m for m in measured if m.get(k) is not None), key=lambda m: m["rate"] or 0.0, default=None)
            fits[k] = None if top is None else (float(top[k]), 0.0)

    def at(k: str, n: int) -> float | None:
        ab = fits.get(k)
        return None if ab is None else max(1.0, ab[0] + ab[1] * n)

    projection = []
    for n in PROJECT_NODES:
        caps: dict[str, float] = {}
        nodes_us = at("nodes_us", n)
        if nodes_us:
            caps["nodes"] = n * headroom * 1e6 / nodes_us
        if (r := at("redis_us", n)) is not None:
            caps["Redis"] = headroom * 1e6 / r
        if (p := at("pg_us", n)) is not None:
            caps["PostgreSQL"] = headroom * db_cores * 1e6 / p
        if (h := at("haproxy_us", n)) is not None:
            caps["HAProxy"] = headroom * lb_cores * 1e6 / h
        limit = min(caps, key=lambda k: caps[k]) if caps else None
        projection.append({"nodes": n, "caps": {k: round(v) for k, v in caps.items()},
                           "msgs_per_s": round(caps[limit]) if limit else None, "limit": limit,
                           "nodes_us": None if nodes_us is None else round(nodes_us, 1)})
    return {"measured": measured, "common_rate": common,
            "fits": {k: None if v is None else [round(v[0], 1), round(v[1], 1)] for k, v in fits.items()},
            "flattened": flattened, "projection": projection, "headroom": headroom, "db_cores": db_cores,
            "balancer_cores": lb_cores}


def report_section(c: dict[str, Any], failed: str | None = None) -> list[str]:
    """The report's cluster section: how it runs, each node count's steps, and the capacity model."""
    if not c and not failed:
        return []
    L = ["## Fan-out on a cluster (PostgreSQL + Redis, HAProxy)", ""]
    if failed and not c.get("runs"):
        return [*L, "The scenario failed before any node count was measured (traceback in the JSON).", ""]
    chats = int(c.get("chats") or CHATS)
    L += [f"For 1, 2 and 3 nodes in turn, `scripts/cluster start` runs the nodes (`parley serve --storage "
          f"postgresql://… --bus redis://127.0.0.1:6379/{c.get('redis_db', REDIS_DB)} --public-url <balancer>`) and "
          "HAProxy round-robin in front of them, per request and without stickiness (one node too, so the rows "
          "differ only in the node count), on a fresh PostgreSQL database; the Redis db is flushed before and "
          f"after. {chats} six-party chats are set up through the balancer as in the other fan-out scenarios: "
          "each participant's socket lands on whichever node HAProxy picks, and so does each SendMessage, so "
          "with N nodes about (N-1)/N of the deliveries leave the node that took the message and reach their "
          "socket through Redis (the estimate in the tables). Every node receives every poke from Redis, its own "
          "included. The send rate is laddered as the single-server ladders are (not refined), "
          f"{', '.join(_f(float(x)) for x in c.get('rates', []))} msg/s.", "",
          "CPU of every process of the deployment is read from `/proc` right before and after each step (the "
          "window includes up to 10 s of drain; `stat` for the nodes, the threads' `schedstat`, in nanoseconds, for "
          "the others): each node, HAProxy (all its threads), the Redis server (it "
          "also serves whatever else uses that Redis on this machine), and PostgreSQL: the backends of this run's "
          "database plus the server's background processes (checkpointer, WAL writer, background writer; shared "
          "with other databases on that server). Per message means per SendMessage accepted in the step (each "
          "makes five deliveries). Each node's `/metrics` gives the SendMessages it took, the Redis payloads it "
          "received and the participant sockets it holds. `machine busy` is all CPUs' busy time over the window "
          f"(100 % = one core; this machine has {c.get('cpus') or 2}), the load generator and other work "
          "included.", ""]
    if c.get("skipped_nodes"):
        L += ["Skipped: " + "; ".join(f"{n} node(s): {why}" for n, why in c["skipped_nodes"].items()), ""]
    if c.get("failed_nodes"):
        L += ["Failed: " + ", ".join(f"{n} node(s)" for n in c["failed_nodes"]) + " (tracebacks in the JSON).", ""]
    for run in c.get("runs", []):
        n = int(run["nodes"])
        L += [f"### Cluster, {n} node{'s' if n > 1 else ''}, {chats} chats ({6 * chats} sockets)", ""]
        s = run.get("setup") or {}
        place = run.get("placement") or []
        if s:
            L += [f"`{run.get('command', '')}` ready in {_f(run.get('start_s'))} s. Setup through the balancer: "
                  f"{s.get('agents_added')} agents (CreateUser {_f(s.get('create_users_s'))} s, sign-in + Available "
                  f"{_f(s.get('sign_in_s'))} s), {s.get('chats')} six-party chats in {_f(s.get('seconds'))} s "
                  f"({_f(s.get('chats_per_s'), 2)} chats/s). Participant sockets per node: "
                  + " / ".join(str(p["participant_sockets"]) for p in place)
                  + "; chats with sockets per node: " + " / ".join(str(p["chat_feeds"]) for p in place) + ".", ""]
        idle = run.get("idle")
        if idle:
            L += [f"Idle for {_f(idle['window_s'])} s before the ladder (no messages): node CPU "
                  f"{_nodes_cell(idle, 'cpu_pct')} %, HAProxy {_f((idle.get('haproxy') or {}).get('cpu_pct'))} %, "
                  f"Redis {_f((idle.get('redis') or {}).get('cpu_pct'))} %, PostgreSQL "
                  f"{_f((idle.get('postgres') or {}).get('cpu_pct'))} % of a core; the machine "
                  f"{_f(idle.get('machine_busy_pct'))} % busy (other work included).", ""]
        steps = run.get("steps", [])
        L += ["Latency and the bus:", "",
              "| offered msg/s | try | p50 ms | p99 ms | SendMessage answered p50 / p99 ms | msgs/s | deliveries/s | "
              "errors | lost | messages per commit | Redis payloads per node | bus lag mean ms per node | crossing "
              "nodes (est.) |", "|" + "---:|" * 13]
        for st in steps:
            lat, api = st["latency"], st.get("send_api") or {}
            commits = sum(n.get("commits", 0) for n in st.get("nodes", []))
            L.append(f"| {_step_label(st)} | {st.get('attempt', 1)} | {_f(lat['p50_ms'], 2)} | "
                     f"{_f(lat['p99_ms'], 2)} | {_f(api.get('p50_ms'), 2)} / {_f(api.get('p99_ms'), 2)} | "
                     f"{_f(st['achieved_msgs_per_s'])} | "
                     f"{_f(st['achieved_deliveries_per_s'])} | {st['errors']} | {st['lost']} | "
                     f"{_f(st['accepted'] / commits if commits else None)} | {_nodes_cell(st, 'bus_payloads')} | "
                     f"{_nodes_cell(st, 'bus_lag_mean_ms', 2)} | {_pct(st.get('cross_node_share_est'))} |")
        L += ["", "CPU (per message: per SendMessage accepted in the step):", "",
              "| offered msg/s | try | SendMessages per node | node CPU % | node µs/msg | nodes µs/msg | "
              "HAProxy µs/msg | Redis µs/msg | PostgreSQL µs/msg | all µs/msg | machine busy % | client CPU % |",
              "|" + "---:|" * 12]
        for st in steps:
            L.append(f"| {_step_label(st)} | {st.get('attempt', 1)} | {_nodes_cell(st, 'send_messages')} | "
                     f"{_nodes_cell(st, 'cpu_pct')} | {_nodes_cell(st, 'us_per_msg')} | "
                     f"{_f(st.get('nodes_us_per_msg'))} | {_f((st.get('haproxy') or {}).get('us_per_msg'))} | "
                     f"{_f((st.get('redis') or {}).get('us_per_msg'))} | "
                     f"{_f((st.get('postgres') or {}).get('us_per_msg'))} | {_f(st.get('total_us_per_msg'))} | "
                     f"{_f(st.get('machine_busy_pct'))} | {_f(st.get('client_cpu_pct'))} |")
        L += ["", *where_time_goes(run)]
    L += capacity_section(c)
    return L


def where_time_goes(run: dict[str, Any]) -> list[str]:
    """One sentence: at the highest rate carried, how much of the delivery latency was already there when the
    SendMessage was answered (after its commit) and how long Redis took to hand pokes over."""
    st = _carried(run)
    if not st:
        return []
    lat, api = st["latency"], st.get("send_api") or {}
    lags = [n["bus_lag_mean_ms"] for n in st.get("nodes", []) if n.get("bus_lag_mean_ms") is not None]
    lag = max(lags) if lags else None
    p50 = lat.get("p50_ms")
    verdict = ""
    if lag is not None and p50:
        verdict = (" Most of the latency is already there when the SendMessage is answered (its way through "
                   "HAProxy and the node, and its group commit on PostgreSQL, which come before the poke), not in "
                   "the bus." if lag < 0.25 * p50 else
                   " The bus's hand-over is a sizeable part of the latency here.")
    return [f"At {_f(st['offered_msgs_per_s'])} msg/s, the highest rate carried without errors or loss: deliveries "
            f"p50 {_f(p50, 2)} / p99 {_f(lat.get('p99_ms'), 2)} ms; SendMessage answered p50 "
            f"{_f(api.get('p50_ms'), 2)} / p99 {_f(api.get('p99_ms'), 2)} ms (both from the intended send time); "
            f"Redis payloads reached the nodes {_f(lag, 2)} ms after publication on average (the slowest node's "
            f"mean).{verdict}", ""]


def _step_label(st: dict[str, Any]) -> str:
    return f"{_f(st['offered_msgs_per_s'])}{'' if st['holds_slo'] else ' ✗'}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


FLAT = {"nodes_us": "all nodes", "redis_us": "Redis"}


def _line(ab: list[float] | None) -> str:
    if ab is None:
        return "—"
    return _f(ab[0]) if not ab[1] else f"{_f(ab[0])} + {_f(ab[1])} · N"


def capacity_section(c: dict[str, Any]) -> list[str]:
    model = capacity_model(c)
    L = ["### Capacity model", "",
         f"**This machine has {c.get('cpus') or 2} cores, shared by every node, HAProxy, Redis, PostgreSQL and the "
         "load generator (which alone takes most of a core at these rates), and by other work. More nodes cannot add "
         "CPU here**: the 2- and 3-node rows measure what scale-out costs per message (more processes, each "
         "receiving every poke from Redis, and most deliveries crossing the bus), not what it gains. What it "
         "gains on more machines is projected below from the CPU each part spent per message.", ""]
    measured = model.get("measured") or []
    if not measured:
        return [*L, "No node count was measured in this run, so there is nothing to project from.", ""]
    L += ["CPU per message falls as the rate rises, because group commits then batch more messages (`messages per "
          "commit` in the tables above; each node commits its own SendMessages, so with more nodes the batches at "
          "one rate are smaller). So each node count's costs below come from the highest rate it carried without "
          "errors or loss, whatever its p99:", "",
          "| nodes | msgs/s carried | p99 ms (held?) | messages per commit | all nodes µs/msg | per node µs/msg | "
          "Redis µs/msg | PostgreSQL µs/msg | HAProxy µs/msg | everything µs/msg | bus (Redis) share | database "
          "share | machine busy % |", "|" + "---:|" * 13]
    for m in measured:
        tot = m.get("total_us")

        def share(x: float | None, tot: float | None = tot) -> str:
            return f"{100 * x / tot:.0f} %" if x is not None and tot else "—"

        L.append(f"| {m['nodes']} | {_f(m['rate'])} | {_f(m['p99_ms'])} ({'yes' if m['held'] else 'no'}) | "
                 f"{_f(m['per_commit'])} | {_f(m['nodes_us'])} | {_f(m['per_node_us'])} | {_f(m['redis_us'])} | "
                 f"{_f(m['pg_us'])} | {_f(m['haproxy_us'])} | {_f(tot)} | {share(m['redis_us'])} | "
                 f"{share(m['pg_us'])} | {_f(m['machine_busy_pct'])} |")
    fits = model["fits"]
    nf, rf = fits.get("nodes_us"), fits.get("redis_us")
    common = model.get("common_rate")
    if common is not None:
        growth = (f"At {_f(common)} msg/s, the highest offered rate that every node count carried, each node added "
                  f"cost the nodes together {_f(nf[1]) if nf else '—'} µs more per message and Redis "
                  f"{_f(rf[1]) if rf else '—'} µs more (least squares over the node counts"
                  + ("; a growth that came out negative, which more nodes cannot do, is taken as 0: "
                     + ", ".join(FLAT[k] for k in model["flattened"]) if model["flattened"] else "") + ").")
    else:
        growth = ("Only one node count was measured" if len(measured) < 2 else
                  "No offered rate was carried by more than one node count")
        growth += (", so the growth per added node is not measured and taken as 0 (the projection is then too kind "
                   "to many nodes).")
    L += ["", "The bus's share above is the Redis server's CPU only. Each node's own part of the bus (publishing "
          "pokes, reading and decoding every poke from every node, its own included) is inside the node's CPU "
          "and shows as the growth of the nodes' cost per message with the node count. " + growth
          + (f" The line used below is {_line(nf)} µs per message for all nodes together and {_line(rf)} for "
             "Redis, through the lowest node count's cost." if nf else "")
          + (f" With a growth of {_f(nf[1])} µs per added node, no number of nodes passes headroom · 10⁶ / "
             f"{_f(nf[1])} ≈ {_f(model['headroom'] * 1e6 / nf[1])} msg/s: every node reads every poke."
             if nf and nf[1] > 0 else ""), "",
          "Projection of N nodes on N machines, under these assumptions:", "",
          "1. Each node runs on its own machine and is one process with one event loop: it uses at most one core "
          f"and holds its p99 up to about {100 * model['headroom']:.0f} % of it (the single-server SQLite ladders "
          "broke at 91-100 % of a core).",
          "2. Round-robin spreads messages and sockets evenly, so each node spends (all nodes' µs per message) / N "
          "per cluster message; all nodes' µs per message follows the line above (each node added receives every "
          "poke), so N nodes hold N · headroom · 10⁶ / (all nodes' µs per message at N) msg/s.",
          "3. Redis runs commands on one thread: it holds headroom · 10⁶ / (Redis µs per message at N) msg/s; its "
          "cost per message grows with N, as each publish goes to every node.",
          f"4. PostgreSQL on a machine of {model['db_cores']} cores like this one, using all of them: headroom · "
          f"{model['db_cores']} · 10⁶ / (PostgreSQL µs per message) msg/s; its cost per message does not depend on "
          "N as such (taken at the highest rate any node count carried, where it batched most). Its disk and WAL "
          "syncs are not modelled: only CPU.",
          f"5. HAProxy on its own machine of {model['balancer_cores']} cores: headroom · {model['balancer_cores']} "
          "· 10⁶ / (HAProxy µs per message, taken at the same step as PostgreSQL's) msg/s.",
          "6. Throughput ≈ min(N nodes, Redis, PostgreSQL, HAProxy). CPU per message on this shared machine is "
          "inflated by contention and by the host's speed, which moves by up to 2x (the speed probe); the "
          "projection inherits that error, and assumes each part's cost per message stays as measured at the "
          "rates carried here (at higher rates batching would lower it; with more nodes each node's batches "
          "shrink).", "",
          "| N nodes on N machines | all nodes µs/msg (line) | N nodes msg/s | Redis msg/s | PostgreSQL msg/s | "
          "HAProxy msg/s | projected msg/s | limited by |", "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in model["projection"]:
        caps = p["caps"]
        L.append(f"| {p['nodes']} | {_f(p['nodes_us'])} | {_f(caps.get('nodes'))} | {_f(caps.get('Redis'))} | "
                 f"{_f(caps.get('PostgreSQL'))} | {_f(caps.get('HAProxy'))} | {_f(p['msgs_per_s'])} | "
                 f"{p['limit'] or '—'} |")
    L += ["", "Each message makes five deliveries (six-party chats), so deliveries/s are five times these rates.",
          ""]
    return L

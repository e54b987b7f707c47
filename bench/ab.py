"""Compares the fan-out cost of two versions of Parley on the same machine, alternately (not part of the report).

``python -m bench.ab --chats 100 --rates 800,1400,1800 --rounds 2 --src A=/path/to/old/src --src B=src
[--postgres]``
(``--profile RATE`` records a py-spy profile of that step under ``bench/results/``)

Each ``--src NAME=DIR`` is a directory holding the ``parley`` package (a git worktree's ``src``); its server
runs with that directory first on ``PYTHONPATH``. ``--src NAME=floor`` runs the floor (``bench/floor.py``) in
that place instead, with the same rooms and sender. For every round and every version, a fresh server gets the
six-party chats set up through the public protocols, then takes each fixed rate for ``--seconds``. Printed per
step: p50 / p99 send-to-delivery, errors, lost, the server's CPU per SendMessage (all threads, from ``/proc``)
and the sender's open connections. Alternating the versions and repeating rounds keeps a shared machine's drift
out of the comparison. The sender is the full run's (each participant's own connections, ``--own``); ``--own 0
--pool N`` shares N connections among all participants instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.fanout import Fanout, floor_sender, parley_sender
from bench.lib import HttpPool
from bench.proto import discover
from bench.run import (
    OWN_CONNECTIONS,
    PG_DSN,
    SEND_CONNECTIONS,
    agents_for,
    floor_server,
    parley_server,
    pg,
    settle,
    start_spy,
    warm,
)
from bench.sixparty import SixParty
from parley.client import ConnectClient


def log(msg: str) -> None:
    print(msg, flush=True)


async def one(name: str, run: int, src: Path | None, chats: int, rates: list[float], seconds: float, tmp: Path,
              profile: float | None, extra_path: str | None, grep: str | None, pool_size: int, own: int,
              storage: str | None = None) -> None:
    """One round of one version (``src``), or of the floor (``src`` None); on ``storage`` if given."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    if extra_path:  # e.g. a sitecustomize.py that instruments the server
        env["PYTHONPATH"] = f"{extra_path}{os.pathsep}{env['PYTHONPATH']}"
    srv = (parley_server(tmp, f"{name}-{run}", storage, env=env) if src
           else floor_server(tmp, f"{name}-{run}"))
    await srv.start()
    pool = HttpPool("127.0.0.1", srv.port, pool_size)
    fan = Fanout(pool, parley_sender() if src else floor_sender(), own_connections=own)
    six = SixParty(await discover(srv.url), fan, lambda _msg: None) if src else None
    try:
        t = time.monotonic()
        if six is not None:
            await six.add_agents(agents_for(chats))
            six.start_agents()
            async with ConnectClient(srv.url) as cc:
                await six.add_chats(chats, cc)
            await six.stop_agents()
        else:
            await fan.open_rooms(srv.port, chats)
        log(f"{name}: {chats} chats set up in {time.monotonic() - t:.1f} s")
        await settle(srv.pid)
        await warm(fan, chats, srv.pid, rates[0])
        for rate in rates:
            spy = None
            if rate == profile:
                raw = Path(f"bench/results/ab-{name}-{run}-{chats}-{rate:.0f}.txt")
                raw.parent.mkdir(parents=True, exist_ok=True)
                spy = start_spy(srv.pid, raw, seconds)
                log(f"{name}: profiling into {raw}")
            t0 = time.monotonic()
            r = await fan.step(rate, seconds, chats, srv.pid)
            if spy is not None:
                spy.wait()
            lat = r["latency"]
            per = 1000 * r["server_cpu_s"] / max(1, r["accepted"])
            log(f"{name}: {chats:>5} chats {rate:>6.0f} msg/s  p50 {lat['p50_ms']:>7} p99 {lat['p99_ms']:>7} ms  "
                f"errors {r['errors']} lost {r['lost']}  server cpu {r['server_cpu_pct']:>5}%  "
                f"{per:.3f} ms/msg  client cpu {r['client_cpu_pct']}% lag p99 {r['client_lag_p99_ms']} ms  "
                f"{r['sender_connections']} connections  "
                f"(monotonic {t0:.1f}-{time.monotonic():.1f} s)")
            await asyncio.sleep(0.5)
    finally:
        await fan.close()
        if six is not None:
            await six.close()
        srv.stop()
        if grep:
            log("".join(line for line in srv.log_path.read_text().splitlines(True) if grep in line))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", action="append", required=True,
                        help="NAME=DIR holding the parley package, or NAME=floor for the floor (bench/floor.py)")
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--rates", default="800,1400,1800")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=SEND_CONNECTIONS,
                        help="keep-alive HTTP connections shared by the sender's participants (with --own 0)")
    parser.add_argument("--own", type=int, default=OWN_CONNECTIONS,
                        help="each participant's own keep-alive HTTP connections, at most (0: the shared pool)")
    parser.add_argument("--profile", type=float, help="py-spy the server during this rate's step")
    parser.add_argument("--server-path", help="a directory put first on the servers' PYTHONPATH "
                                              "(a sitecustomize.py there can instrument them)")
    parser.add_argument("--grep", help="print the server log's lines holding this text when it stops")
    parser.add_argument("--postgres", action="store_true",
                        help="each server on a fresh PostgreSQL database (created and dropped here) instead of SQLite")
    args = parser.parse_args()
    versions = [(s.split("=", 1)[0], None if s.split("=", 1)[1] == "floor" else Path(s.split("=", 1)[1]).resolve())
                for s in args.src]
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="parley-ab-") as tmp:
        for run in range(args.rounds):
            for name, src in versions:
                db = f"parley_ab_{os.getpid()}_{run}_{name.lower()}"
                storage = PG_DSN + db if args.postgres and src else None
                if storage:
                    pg(f'CREATE DATABASE "{db}"')
                try:
                    await one(name, run, src, args.chats, rates, args.seconds, Path(tmp), args.profile,
                              args.server_path, args.grep, args.pool, args.own, storage)
                finally:
                    if storage:
                        pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main()))

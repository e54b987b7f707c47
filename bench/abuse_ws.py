"""Websocket abuse, measured informally: while attacker sockets stream maximum-size frames (and reconnect each
time the server closes them), how fast does an unrelated chat's SendMessage answer, and how big does the server
get?

    .venv/bin/python -m bench.abuse_ws [--seconds 15] [--attackers 2] [--frame-kb 32] [--url URL]

Without ``--url`` it starts its own ``parley serve --demo`` (and stops only that process). It prints SendMessage
latency (p50 / p95 / max) idle and under attack, the server's RSS before, at its peak and after, and what the
attackers achieved (frames written, closes by code). Nothing here is a test: no thresholds are asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from bench.lib import Server, cpu_seconds, free_port, pct, rss_bytes

# SendMessage probes per second in the victim chat (light: the probe must not be the load).
PROBES_PER_SECOND = 20


def _chat(url: str) -> tuple[str, str]:
    """Start a chat on the demo instance: (participant token, connection token of its customer)."""
    connect = boto3.client("connect", endpoint_url=url, region_name="us-west-2", aws_access_key_id="test",
                           aws_secret_access_key="test")
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    started = connect.start_chat_contact(InstanceId=instance, ContactFlowId=flow,
                                         ParticipantDetails={"DisplayName": "bench"})
    participant_token = started["ParticipantToken"]
    grant = httpx.post(url + "/participant/connection", headers={"X-Amz-Bearer": participant_token},
                       json={"Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"], "ConnectParticipant": True}).json()
    return participant_token, grant["ConnectionCredentials"]["ConnectionToken"]


async def _socket_url(http: httpx.AsyncClient, participant_token: str) -> str:
    grant = (await http.post("/participant/connection", headers={"X-Amz-Bearer": participant_token},
                             json={"Type": ["WEBSOCKET"]})).json()
    return str(grant["Websocket"]["Url"])


async def _attacker(http: httpx.AsyncClient, participant_token: str, frame: str, stop: float,
                    stats: Counter[str]) -> None:
    """Stream ``frame`` as fast as the socket takes it; reconnect whenever the server closes the socket."""
    while time.monotonic() < stop:
        try:
            async with websockets.connect(await _socket_url(http, participant_token), max_size=None,
                                          compression=None, proxy=None) as ws:
                stats["connections"] += 1
                while time.monotonic() < stop:
                    await ws.send(frame)
                    stats["frames"] += 1
        except ConnectionClosed as closed:
            stats[f"closed {closed.rcvd.code if closed.rcvd else 'without a close frame'}"] += 1
        except OSError as exc:
            stats[f"error {type(exc).__name__}"] += 1
            await asyncio.sleep(0.05)


async def _probe(http: httpx.AsyncClient, connection_token: str, stop: float) -> list[float]:
    """SendMessage in the victim chat every 1/PROBES_PER_SECOND s: latencies in ms."""
    latencies: list[float] = []
    n = 0
    while time.monotonic() < stop:
        began = time.perf_counter()
        answer = await http.post("/participant/message", headers={"X-Amz-Bearer": connection_token},
                                 json={"ContentType": "text/plain", "Content": f"probe {n}"})
        latencies.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.text
        n += 1
        await asyncio.sleep(max(0.0, 1 / PROBES_PER_SECOND - (time.perf_counter() - began)))
    return latencies


async def _rss_peak(pid: int | None, stop: float) -> int:
    peak = 0
    while pid is not None and time.monotonic() < stop:
        peak = max(peak, rss_bytes(pid))
        await asyncio.sleep(0.1)
    return peak


def _line(name: str, values: list[float]) -> str:
    return (f"{name:<28} n={len(values):<5} p50={pct(values, 0.5) or 0:8.2f} ms  p95={pct(values, 0.95) or 0:8.2f} ms"
            f"  max={max(values, default=0):8.2f} ms")


async def main(args: argparse.Namespace) -> int:
    server: Server | None = None
    url = args.url
    if url is None:
        port = free_port()
        data = Path(tempfile.mkdtemp(prefix="parley-abuse-"))
        server = Server("parley", [sys.executable, "-m", "parley", "serve", "--demo", "--port", str(port),
                                   "--data-dir", str(data)], port, data / "server.log")
        await server.start()
        url = server.url
    pid = server.pid if server is not None else None
    try:
        _, victim_connection = _chat(url)
        attacker_participant, _ = _chat(url)
        frame = json.dumps({"topic": "aws/heartbeat", "pad": "x" * (args.frame_kb * 1024 - 40)})
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _probe(http, victim_connection, time.monotonic() + 1)  # warm up
            rss_before = rss_bytes(pid) if pid else 0
            idle = await _probe(http, victim_connection, time.monotonic() + args.seconds / 3)
            stats: Counter[str] = Counter()
            cpu_before = cpu_seconds(pid) if pid else 0.0
            stop = time.monotonic() + args.seconds
            attackers = [asyncio.create_task(_attacker(http, attacker_participant, frame, stop, stats))
                         for _ in range(args.attackers)]
            peak_task = asyncio.create_task(_rss_peak(pid, stop))
            attacked = await _probe(http, victim_connection, stop)
            await asyncio.gather(*attackers)
            rss_peak = await peak_task
            cpu_attack = (cpu_seconds(pid) - cpu_before) if pid else 0.0
            await asyncio.sleep(1)
            rss_after = rss_bytes(pid) if pid else 0
        print(f"attack: {args.attackers} sockets of one participant, {args.frame_kb} KB frames, {args.seconds:g} s")
        print(_line("SendMessage idle", idle))
        print(_line("SendMessage under attack", attacked))
        if pid:
            print(f"server RSS: before {rss_before / 2**20:.1f} MiB, peak {rss_peak / 2**20:.1f} MiB, "
                  f"after {rss_after / 2**20:.1f} MiB; server CPU during the attack {cpu_attack:.1f} s "
                  f"({100 * cpu_attack / args.seconds:.0f}% of a core)")
        print("attackers: " + ", ".join(f"{key} {value}" for key, value in sorted(stats.items())))
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
            shutil.rmtree(server.log_path.parent, ignore_errors=True)
    return 0


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.abuse_ws", description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--url", help="an already running Parley (--demo); default: start one")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the attack lasts (default: 15)")
    parser.add_argument("--attackers", type=int, default=2, help="attacking sockets (default: 2)")
    parser.add_argument("--frame-kb", type=int, default=32, help="size of each attacking frame in KB (default: 32)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_args())))


def run(argv: list[str] | None = None) -> Any:
    """Entry point for scripts: ``bench.abuse_ws.run(["--seconds", "5"])``."""
    return asyncio.run(main(_args(argv)))

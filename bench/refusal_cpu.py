"""What one load-shedding refusal costs the server: CPU seconds per refused SendMessage.

``python -m bench.refusal_cpu [--requests 20000] [--connections 8]``

A ``parley serve --demo`` process is started with its admission controller forced to refuse every request it may
shed (``Admission.admit`` patched in that process only: the rest of the server is the real one), and is sent
``--requests`` SendMessage requests over ``--connections`` keep-alive connections, each request written only once
the previous answer on its connection was read. The server's CPU (user + system, from ``/proc/<pid>/stat``) over
the run, divided by the number of requests, is what one refusal costs. Every answer must be a 429.
For comparison it can also measure refusals taken by the application instead (``--app-level``: the request gets
its task and passes the middleware, as before the HTTP protocol decided) and accepted requests (``--accept``:
SendMessage to a chat without sockets).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The refused request: a SendMessage as boto3 sends it (the token is never looked up when the request is refused).
BODY = json.dumps({"ContentType": "text/plain", "Content": "hello", "ClientToken": "x" * 36}).encode()
# Patches the server process so that every request that may be shed is refused, then runs the real CLI.
FORCE_REFUSAL = (
    "import sys\n"
    "import parley.web.admission as admission\n"
    "admission.Admission.admit = lambda self: False\n"
    "from parley.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
# The same, with the refusal taken in the application instead (as before the protocol decided): the request gets its
# task and passes through the middleware to the front door, which refuses it.
APP_LEVEL = FORCE_REFUSAL.replace("from parley.cli", "admission.EarlyRefusal.__call__ = lambda self, scope: None\n"
                                                    "from parley.cli")
RUN = "import sys\nfrom parley.cli import main\nsys.exit(main(sys.argv[1:]))\n"
# Clock ticks per second for /proc/<pid>/stat's utime and stime.
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime and stime: fields 14 and 15 of the whole line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, token: str) -> bytes:
    return (f"POST /participant/message HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nx-amz-bearer: {token}\r\n"
            f"content-type: application/json\r\nuser-agent: Boto3/1.35 bench\r\n"
            f"content-length: {len(BODY)}\r\n\r\n").encode() + BODY


async def one_connection(port: int, payload: bytes, count: int, statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(count):
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        statuses[status] = statuses.get(status, 0) + 1
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
    writer.close()


async def drive(port: int, token: str, total: int, connections: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    payload = request(port, token)
    await asyncio.gather(*(one_connection(port, payload, total // connections, statuses)
                           for _ in range(connections)))
    return statuses


def connection_token(url: str) -> str:
    """A real chat's connection token (for --accept)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import boto3

    connect = boto3.client("connect", endpoint_url=url, region_name="us-west-2", aws_access_key_id="test",
                           aws_secret_access_key="test")
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    started = connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow,
                                         ParticipantDetails={"DisplayName": "Bench"})
    participant = boto3.client("connectparticipant", endpoint_url=url, region_name="us-west-2",
                               aws_access_key_id="x", aws_secret_access_key="x")
    return str(participant.create_participant_connection(
        ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]["ConnectionToken"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--accept", action="store_true", help="measure accepted SendMessages instead")
    parser.add_argument("--app-level", action="store_true",
                        help="refuse in the application, not in the HTTP protocol (the cost before it did)")
    args = parser.parse_args()
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="parley-refusal-"))
    code = RUN if args.accept else APP_LEVEL if args.app_level else FORCE_REFUSAL
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--demo", "--port", str(port), "--data-dir",
                               str(data), "--log-level", "warning"], stdout=subprocess.DEVNULL,
                              stderr=open(data / "server.log", "w"))  # noqa: SIM115  # closed with the process
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start:\n" + (data / "server.log").read_text()) from None
                time.sleep(0.2)
        token = connection_token(f"http://127.0.0.1:{port}") if args.accept else "not-looked-up"
        asyncio.run(drive(port, token, 2000, args.connections))  # warm up
        before = cpu_seconds(server.pid)
        started = time.perf_counter()
        statuses = asyncio.run(drive(port, token, args.requests, args.connections))
        wall = time.perf_counter() - started
        used = cpu_seconds(server.pid) - before
        count = sum(statuses.values())
        print(json.dumps({"requests": count, "statuses": statuses, "server_cpu_s": round(used, 3),
                          "server_cpu_ms_per_request": round(1000 * used / count, 4),
                          "wall_s": round(wall, 2), "loadavg": os.getloadavg()}))
        return 0
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

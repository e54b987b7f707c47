"""A real cluster for the tests of this folder: ``scripts/cluster`` with its own PostgreSQL database, Redis and
HAProxy in front of three ``parley serve`` nodes; PostgreSQL and Redis are started when they are down.

The failure tests (test_failures*.py) restart Redis and PostgreSQL. They do it to a private Redis and a private
PostgreSQL server (:class:`Services`, started for the module on free ports from the machine's own binaries), not to
the machine's: other test runs on the same machine use those, and a restart would fail them for no fault of theirs.
The nodes talk to the private ones exactly as they would to the machine's (same binaries, TCP on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import connect_client, execute, run
from tests.fanout.test_bus_contract import REDIS_URL, ensure_redis

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster"
# Offers expire after this long in the shared cluster: long enough for scripted agents to accept while 20 customers
# arrive at once on a busy 2-core machine (6 s was not: accepts took seconds there), short enough for the
# missed-offer test to wait out (Connect's default is 20 s).
OFFER_SECONDS = 12


@dataclass
class Cluster:
    """A running ``scripts/cluster``: the balancer's URL, each node's own URL and where its files are."""

    url: str
    nodes: list[str]
    run_dir: Path
    storage: str

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``scripts/cluster ACTION --run-dir RUN_DIR [more args]``."""
        action, *rest = args
        return subprocess.run([str(SCRIPT), action, "--run-dir", str(self.run_dir), *rest], capture_output=True,
                              text=True, check=False, timeout=120)

    # How each node was started (argv, environment, working directory), read from /proc while it ran, so that
    # :meth:`start_node` starts it again exactly as ``scripts/cluster`` did.
    launches: dict[int, tuple[list[str], dict[str, str], str]] = field(default_factory=dict)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.run_dir.glob("node*.log")))

    def node_log(self, n: int) -> str:
        """Node ``n``'s log (1-based, as ``scripts/cluster`` numbers them)."""
        return (self.run_dir / f"node{n}.log").read_text(errors="replace")

    def pid(self, n: int) -> int:
        return int((self.run_dir / f"node{n}.pid").read_text())

    def _remember(self, n: int) -> int:
        pid = self.pid(n)
        if n not in self.launches:
            proc = Path(f"/proc/{pid}")
            argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            env = dict(line.split(b"=", 1) for line in proc.joinpath("environ").read_bytes().split(b"\0")
                       if b"=" in line)
            self.launches[n] = ([a.decode() for a in argv], {k.decode(): v.decode() for k, v in env.items()},
                                os.readlink(proc / "cwd"))
        return pid

    def kill_node(self, n: int, sig: int = signal.SIGKILL, wait: float = 30.0) -> None:
        """Signal node ``n`` (``kill -9`` by default) and wait until its process is gone."""
        pid = self._remember(n)
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            if time.monotonic() > deadline:
                raise AssertionError(f"node{n} (pid {pid}) did not exit within {wait} s after signal {sig}")
            time.sleep(0.05)
        with contextlib.suppress(ChildProcessError):  # not our child (started by the script's shell): no-op
            os.waitpid(pid, os.WNOHANG)

    def start_node(self, n: int, wait: float = 60.0) -> None:
        """Start node ``n`` again with the command line it ran with; wait until its ``/ready`` answers 200."""
        import httpx

        argv, env, cwd = self.launches[n]
        with open(self.run_dir / f"node{n}.log", "ab") as log:
            process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        (self.run_dir / f"node{n}.pid").write_text(f"{process.pid}\n")
        # Reaped as soon as it exits: a zombie still answers ``kill -0``, so ``scripts/cluster stop`` would wait
        # for it until its time-out.
        threading.Thread(target=process.wait, daemon=True).start()
        deadline = time.monotonic() + wait
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.nodes[n - 1]}/ready", timeout=2).status_code == 200:
                    return
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"node{n} did not become ready again\n{self.logs()}")
            time.sleep(0.1)


def _state(pid: int) -> str:
    """A process's state letter from /proc (``Z``: exited, waiting to be reaped); "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """A port P with P..P+count-1 all free (the balancer and its nodes)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1])
        if base + count < 65000 and all(_free(base + n) for n in range(count)):
            return base
    raise RuntimeError("no run of free ports")


def fresh_database() -> tuple[str, str]:
    """A new PostgreSQL database (the server started if it is down): its name and URL."""
    name = f"parley_cluster_{uuid.uuid4().hex[:10]}"
    run(execute(f"CREATE DATABASE {name}"))
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


@contextlib.contextmanager
def start_cluster(nodes: int = 3, serve_args: tuple[str, ...] = (), services: Services | None = None,
                  ) -> Iterator[Cluster]:
    """``scripts/cluster start`` on free ports with a fresh database; ``stop`` and drop it afterwards.

    With ``services``, the cluster uses that private PostgreSQL and Redis instead of the machine's."""
    if services is None:
        ensure_redis()
        name, storage = fresh_database()
        bus = REDIS_URL
    else:
        name, storage = services.create_database()
        bus = services.redis_url
    run_dir = Path(tempfile.mkdtemp(prefix="parley-cluster-"))
    port = free_ports(nodes + 1)
    cluster = Cluster(f"http://127.0.0.1:{port}", [f"http://127.0.0.1:{port + n}" for n in range(1, nodes + 1)],
                      run_dir, storage)
    try:
        started = cluster.script("start", "--nodes", str(nodes), "--port", str(port), "--storage", storage,
                                 "--bus", bus, "--", *serve_args)
        if started.returncode != 0:
            pytest.fail(f"scripts/cluster start failed ({started.returncode}):\n{started.stdout}{started.stderr}"
                        f"{cluster.logs()}")
        yield cluster
    finally:
        cluster.script("stop")
        keep = os.environ.get("PARLEY_CLUSTER_LOGS")  # a folder to copy the nodes' logs to, for a failure's story
        if keep:
            for log in run_dir.glob("*.log"):
                shutil.copy(log, Path(keep) / log.name)
        if services is None:
            run(execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes behind HAProxy, offers expiring after OFFER_SECONDS."""
    with start_cluster(3, ("--offer-timeout", str(OFFER_SECONDS))) as running:
        yield running


# The PostgreSQL server binaries of the machine's newest version (Debian's layout).
PG_BIN = Path("/usr/lib/postgresql") / (sorted(os.listdir("/usr/lib/postgresql"))[-1]
                                        if Path("/usr/lib/postgresql").is_dir() else "missing") / "bin"
# How long a private server may take to start or stop on a busy machine.
SERVICE_WAIT = 60.0


class Services:
    """A private Redis and a private PostgreSQL server on free ports, in a temporary folder, for one test module:
    the failure tests stop and start them while a cluster uses them (never the machine's own servers)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parley-services-"))
        self.redis_port = free_ports(1)
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.pg_dir = self.dir / "pg"
        self.pg_port = 0

    # --- Redis
    def redis_start(self) -> None:
        """Start the private Redis (in memory only, like the machine's) and wait until it answers PING."""
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                        "--save", "", "--appendonly", "no", "--dir", str(self.dir),
                        "--logfile", str(self.dir / "redis.log"), "--pidfile", str(self.dir / "redis.pid")],
                       check=True, timeout=SERVICE_WAIT)
        self._wait(lambda: self._redis_cli("ping") == "PONG", "Redis did not start")

    def redis_stop(self) -> None:
        """``redis-cli shutdown nosave``: Redis goes away with everything it held (pub/sub, socket slots)."""
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"], capture_output=True,
                       timeout=SERVICE_WAIT, check=False)
        self._wait(lambda: self._redis_cli("ping") != "PONG", "Redis did not stop")

    def redis_up(self) -> bool:
        return self._redis_cli("ping") == "PONG"

    def _redis_cli(self, *args: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(self.redis_port), *args], capture_output=True, text=True,
                              timeout=10, check=False)
        return done.stdout.strip()

    def subscribers(self, channel: str) -> int:
        """How many connections are subscribed to ``channel`` (``PUBSUB NUMSUB``); 0 when Redis is down."""
        lines = self._redis_cli("pubsub", "numsub", channel).splitlines()
        return int(lines[1]) if len(lines) == 2 and lines[1].isdigit() else 0

    # --- PostgreSQL
    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir),
                               *args], capture_output=True, text=True, timeout=SERVICE_WAIT, check=False)

    def pg_init(self) -> None:
        """``initdb`` (as the postgres user: PostgreSQL refuses to run as root) with trust authentication."""
        shutil.chown(self.dir, "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.pg_dir),
                        "-A", "trust", "-U", "postgres", "--no-sync"], capture_output=True, text=True, check=True,
                       timeout=SERVICE_WAIT)
        self.pg_port = free_ports(1)
        with open(self.pg_dir / "postgresql.conf", "a") as conf:
            # TCP on loopback only, the socket in our folder; no fsync: a test server keeps nothing worth it.
            conf.write(f"\nport = {self.pg_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\nmax_connections = 200\n")

    def pg_start(self) -> None:
        done = self._pg_ctl("start", "-w", "-l", str(self.dir / "postgres.log"))
        assert done.returncode == 0, f"pg_ctl start failed: {done.stdout}{done.stderr}"

    def pg_stop(self) -> None:
        """``pg_ctl stop -m fast``: every session is disconnected, transactions in progress roll back."""
        done = self._pg_ctl("stop", "-w", "-m", "fast")
        assert done.returncode == 0, f"pg_ctl stop failed: {done.stdout}{done.stderr}"

    def pg_up(self) -> bool:
        return self._pg_ctl("status").returncode == 0

    def pg_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", self.pg_url(database), "-c", sql],
                              capture_output=True, text=True, timeout=SERVICE_WAIT, check=False)
        assert done.returncode == 0, f"psql failed: {done.stderr}"
        return done.stdout.strip()

    def create_database(self) -> tuple[str, str]:
        name = f"parley_failures_{uuid.uuid4().hex[:8]}"
        self.psql(f"CREATE DATABASE {name}")
        return name, self.pg_url(name)

    # --- both
    def start(self) -> None:
        self.redis_start()
        self.pg_init()
        self.pg_start()

    def close(self) -> None:
        """Stop both servers and remove their folder."""
        if self.redis_up():
            self.redis_stop()
        if self.pg_port and self.pg_up():
            self.pg_stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _wait(ready: Callable[[], bool], message: str) -> None:
        deadline = time.monotonic() + SERVICE_WAIT
        while not ready():
            assert time.monotonic() < deadline, message
            time.sleep(0.05)


@pytest.fixture(scope="session")
def failure_services() -> Iterator[Services]:
    """The private Redis and PostgreSQL of the failure tests (session-wide: both failure modules share them)."""
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        pytest.fail(f"the failure tests need PostgreSQL's server binaries ({PG_BIN}) and redis-server")
    private = Services()
    try:
        private.start()
        yield private
    finally:
        private.close()


# Offers expire after this long in the failure tests' cluster: long enough for a scripted agent to accept on a busy
# machine, short enough for a test to wait one out.
FAILURE_OFFER_SECONDS = 8


@pytest.fixture(scope="session")
def failure_cluster(failure_services: Services) -> Iterator[Cluster]:
    """Three nodes behind HAProxy on the private PostgreSQL and Redis; each failure test leaves it whole again."""
    # A drain of 5 s: requests in flight take milliseconds and long polls are answered as it starts.
    serve_args = ("--offer-timeout", str(FAILURE_OFFER_SECONDS), "--drain-timeout", "5")
    with start_cluster(3, serve_args, services=failure_services) as running:
        yield running


def websocket_accepts(cluster: Cluster) -> list[int]:
    """How many participant websockets each node has accepted so far (uvicorn logs one line per accept)."""
    return [cluster.node_log(n).count('"WebSocket /participant/ws') for n in range(1, len(cluster.nodes) + 1)]


@dataclass
class _Where:
    url: str


@dataclass
class _ChatDetails:
    """What tests/e2e/chatjs's NodeCustomer reads: ``server.url`` (ChatJS's endpoint) and ``details``."""

    server: _Where
    details: dict[str, str]


class ChatJsCustomer:
    """A real, unmodified ChatJS (5.0.0) CUSTOMER in Node.js (tests/e2e/chatjs/customer.js) for a chat started
    through the balancer with boto3; its blocking calls run in a thread so agents' tasks keep running."""

    def __init__(self, node: Any, details: dict[str, str]) -> None:
        self.node = node
        self.details = details

    @classmethod
    async def start(cls, url: str, name: str) -> ChatJsCustomer:
        import asyncio

        from tests.e2e.chatjs.harness import demo_ids
        from tests.e2e.chatjs.runtimes import NodeCustomer

        def begin() -> ChatJsCustomer:
            instance, flow = demo_ids(url)
            started = connect_client(url).start_chat_contact(
                InstanceId=instance, ContactFlowId=flow, ParticipantDetails={"DisplayName": name})
            details = {key: started[key] for key in ("ContactId", "ParticipantId", "ParticipantToken")}
            return cls(NodeCustomer(_ChatDetails(_Where(url), details), "5.0.0"), details)  # type: ignore[arg-type]

        return await asyncio.to_thread(begin)

    @property
    def contact_id(self) -> str:
        return self.details["ContactId"]

    async def call(self, command: str, args: dict[str, Any] | None = None, *, expect_error: bool = False) -> Any:
        import asyncio

        return await asyncio.to_thread(self.node.call, command, args, expect_error=expect_error)

    async def send(self, text: str) -> str:
        """ChatJS ``sendMessage``; the Id of the acknowledged message."""
        return str((await self.call("send", {"text": text}))["Id"])

    def events(self) -> list[dict[str, Any]]:
        return list(self.node.events())

    def items(self) -> dict[str, dict[str, Any]]:
        """Every item ChatJS got, de-duplicated by Id as ChatJS's users do (pushed or fetched on reconnect)."""
        from tests.e2e.chatjs.harness import seen_items

        return seen_items(self.node)

    def pushed(self) -> list[str]:
        """The Id of every item pushed to ``onMessage``, duplicates included (what came over the wire)."""
        return [e["data"]["Id"] for e in self.events() if e["event"] == "onMessage" and e.get("data")]

    def count(self, name: str) -> int:
        return sum(1 for e in self.events() if e["event"] == name)

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 15.0,
                       ) -> dict[str, Any]:
        import asyncio

        deadline = time.monotonic() + timeout
        while True:
            found = next((item for item in self.items().values() if predicate(item)), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                from tests.e2e.chatjs.harness import dump

                raise AssertionError(f"ChatJS never got {what} within {timeout} s\n{dump(self.node)}")
            await asyncio.sleep(0.05)

    def close(self) -> None:
        self.node.close()

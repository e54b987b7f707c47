"""Shared fixtures: a real Parley server on a free port (subprocess, real sockets) and boto3 clients."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig

REGION = "us-west-2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortTaken(RuntimeError):
    """Another process answered on the port this server was meant to use (a free-port race)."""


@dataclass
class Server:
    """A ``parley serve`` process under test."""

    url: str
    port: int
    data_dir: Path
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self) -> None:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = self.log_path.open("ab")
        cmd = [sys.executable, "-m", "parley", "serve", "--port", str(self.port), "--data-dir",
               str(self.data_dir), *self.args]
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"parley exited early:\n{self.log()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=1, verify=False)
                if health.status_code == 200 and health.json().get("pid") == self.process.pid:
                    return
                if health.status_code == 200:
                    raise PortTaken(f"port {self.port} is served by another process")
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"parley did not come up:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def connect(self, **kwargs: Any) -> Any:
        return connect_client(self.url, **kwargs)


def connect_client(url: str, *, key: str = "test", secret: str = "test", validate: bool = True) -> Any:
    return boto3.client(
        "connect", endpoint_url=url, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
        config=BotoConfig(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def start_server(args: list[str], data_dir: Path | None = None, scheme: str = "http") -> Server:
    data = data_dir or Path(tempfile.mkdtemp(prefix="parley-test-"))
    data.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        port = free_port()
        server = Server(f"{scheme}://127.0.0.1:{port}", port, data, args)
        try:
            server.start()
            return server
        except PortTaken:
            server.stop()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One demo server shared by the tests that only add their own resources."""
    srv = start_server(["--demo"])
    yield srv
    srv.stop()
    shutil.rmtree(srv.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def connect(server: Server) -> Any:
    return server.connect()


@pytest.fixture(scope="session")
def raw_connect(server: Server) -> Any:
    """A client that skips boto3's own parameter checks, so bad input reaches the server."""
    return server.connect(validate=False)


@pytest.fixture(scope="session")
def demo_id(connect: Any) -> str:
    instances = connect.list_instances()["InstanceSummaryList"]
    return next(i["Id"] for i in instances if i["InstanceAlias"] == "demo")


# PostgreSQL on 127.0.0.1:5432 (trust auth), started here when it is down; tests get fresh databases.
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres", "timeout": 5}
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a private loop (the session loop of the async tests is left alone)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def admin() -> asyncpg.Connection:
    """A connection to the ``postgres`` database, starting the server first when it is down."""
    try:
        return await asyncpg.connect(**PG)
    except (OSError, asyncpg.PostgresError):
        pass
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
    started = subprocess.run(command, capture_output=True, text=True, check=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            return await asyncpg.connect(**PG)
        except (OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL is not reachable ({exc!r}); {command}: {started.stdout}{started.stderr}")
            await asyncio.sleep(0.5)


async def execute(sql: str) -> None:
    conn = await admin()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    run(execute(f"CREATE DATABASE {name}"))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    run(execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))



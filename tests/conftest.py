"""Shared fixtures: a real Parley server on a free port (subprocess, real sockets), boto3 clients, and a scratch
PostgreSQL database (``pg_url``).

Every test that needs a ``parley serve`` of its own gets it from ``start_server`` (or ``serving``, which also stops
it and removes its data dir); every scratch database comes from ``tests/helpers/scratch_db.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig

from tests.helpers.scratch_db import PG_HOST, PG_PORT, PG_USER, execute, pg_admin, run, scratch_database

__all__ = ["PG", "REGION", "PortTaken", "Server", "admin", "connect_client", "execute", "free_port", "run",
           "serving", "start_server"]

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
                if "address already in use" in self.log().lower():
                    raise PortTaken(f"port {self.port} was taken before parley could bind it")
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


@contextmanager
def serving(args: list[str], data_dir: Path | None = None, *, scheme: str = "http", postgres: bool = False,
            stays_up: bool = False) -> Iterator[Server]:
    """``start_server(args)`` for a ``with`` block: stopped at the end, its data dir removed when it made one.

    ``postgres``: on a scratch PostgreSQL database (``--storage``), dropped afterwards. ``stays_up``: the block
    fails if the server died before its end (a crash the tests themselves might not notice).
    """
    if postgres:
        with scratch_database() as url, serving([*args, "--storage", url], data_dir, scheme=scheme,
                                                stays_up=stays_up) as srv:
            yield srv
        return
    srv = start_server(args, data_dir, scheme)
    try:
        yield srv
        if stays_up:
            alive = srv.process is not None and srv.process.poll() is None
            assert alive, f"the server died during the tests:\n{srv.log()[-5000:]}"
    finally:
        srv.stop()
        if data_dir is None:
            shutil.rmtree(srv.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One demo server shared by the tests that only add their own resources."""
    with serving(["--demo"]) as srv:
        yield srv


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


# PostgreSQL: scratch databases come from tests/helpers/scratch_db.py (``execute`` and ``run`` are re-exported here
# for the suites that import them from this module).
PG = {"host": PG_HOST, "port": PG_PORT, "user": PG_USER, "database": "postgres", "timeout": 5}
admin = pg_admin


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    with scratch_database() as url:
        yield url

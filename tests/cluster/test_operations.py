"""What an operator runs around the cluster: ``parley migrate``, ``/ready`` (storage, bus and schema) next to
``/health``, and ``PARLEY_<FLAG>`` environment variables standing for flags."""

from __future__ import annotations

import shutil
import subprocess
import sys

import boto3
import httpx
import pytest

from parley.cli import _parser, _subcommand, environment_args
from parley.storage import head_revision
from tests.conftest import free_port, run, start_server

pytestmark = pytest.mark.postgres


def parley(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "parley", *args], capture_output=True, text=True, timeout=120,
                          check=False)


async def set_revision(url: str, revision: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE alembic_version SET version_num = $1", revision)
    finally:
        await conn.close()


def test_migrate_runs_once_and_ready_refuses_a_schema_behind_the_code(pg_url: str) -> None:
    head = head_revision()
    first = parley("migrate", "--storage", pg_url)
    assert first.returncode == 0, first.stderr
    assert f"migrated from revision (empty) to {head}" in first.stdout
    again = parley("migrate", "--storage", pg_url)
    assert again.returncode == 0 and f"already at revision {head}" in again.stdout

    server = start_server(["--storage", pg_url, "--demo"])
    try:
        ready = httpx.get(f"{server.url}/ready", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"storage": "ok", "bus": "ok", "migrations": "ok"}
        run(set_revision(pg_url, "0001"))  # as if this node's code were newer than the database
        stale = httpx.get(f"{server.url}/ready", timeout=10)
        assert stale.status_code == 503
        assert stale.json()["checks"] == {"storage": "ok", "bus": "ok", "migrations": "failed"}
        assert stale.json()["failed"]["migrations"].endswith(f"database at revision 0001, code expects {head}")
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200  # alive all the same
        run(set_revision(pg_url, head))
        assert httpx.get(f"{server.url}/ready", timeout=10).status_code == 200
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def test_migrate_names_a_database_it_cannot_reach() -> None:
    failed = parley("migrate", "--storage", f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    assert failed.returncode == 1
    assert failed.stderr.startswith("parley migrate: postgresql://") and "nowhere" in failed.stderr


def test_ready_names_the_bus_when_its_redis_is_gone() -> None:
    server_bin = shutil.which("redis-server")
    assert server_bin, "redis-server is not installed"
    port = free_port()
    redis = subprocess.Popen([server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                              "no"], stdout=subprocess.DEVNULL)
    server = None
    try:
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False).returncode == 0:
                break
        server = start_server(["--bus", f"redis://127.0.0.1:{port}/0", "--demo"])
        assert httpx.get(f"{server.url}/ready", timeout=10).status_code == 200
        redis.kill()
        redis.wait()
        gone = httpx.get(f"{server.url}/ready", timeout=10)
        assert gone.status_code == 503
        assert gone.json()["checks"] == {"storage": "ok", "bus": "failed", "migrations": "ok"}
        assert gone.json()["status"] == "not ready" and gone.json()["failed"]["bus"]
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    finally:
        redis.kill()
        if server is not None:
            server.stop()
            shutil.rmtree(server.data_dir, ignore_errors=True)


def test_environment_variables_stand_for_flags_and_the_command_line_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_DEMO", "true")
    monkeypatch.setenv("PARLEY_PORT", "1")  # start_server passes --port: the command line wins
    monkeypatch.setenv("PARLEY_REGION", "eu-central-1")
    server = start_server([])
    try:
        # test/test works (--demo came from PARLEY_DEMO), signed for the region PARLEY_REGION set.
        connect = boto3.client("connect", endpoint_url=server.url, region_name="eu-central-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
        instance = next(i for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
        assert ":eu-central-1:" in instance["Arn"]
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def test_environment_arguments_per_kind_of_flag() -> None:
    serve = _subcommand(_parser(), "serve")
    env = {"PARLEY_DEMO": "no", "PARLEY_RATE_LIMIT": "SendMessage=200, GetTranscript=20/40",
           "PARLEY_OFFER_TIMEOUT": "5", "PARLEY_ACCESS_KEY": "a:b", "PARLEY_HOST": "0.0.0.0"}
    assert environment_args(serve, ["serve", "--host=::"], env) == [
        "--rate-limit=SendMessage=200", "--rate-limit=GetTranscript=20/40", "--offer-timeout=5"]
    assert environment_args(serve, [], {"PARLEY_DEMO": "TRUE"}) == ["--demo"]
    with pytest.raises(ValueError, match="PARLEY_DEMO='maybe'"):
        environment_args(serve, [], {"PARLEY_DEMO": "maybe"})

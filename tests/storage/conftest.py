"""Fixtures for the storage contract: every test runs on SQLite (temp dir) and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user ``postgres``). When it does not answer, the
fixtures start it with ``pg_ctlcluster`` and retry; if it still does not answer the tests fail, they never
skip. Each session gets its own uniquely named databases, dropped at the end.

The PostgreSQL databases are created with a linguistic (ICU ``en-US``) collation when the server offers
one, like the ``en_US.UTF-8`` default of most installations: ordering that only happens to work under the
``C`` collation of this machine's cluster must fail here.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from parley.storage.database import SqlStorage, open_storage

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
BACKENDS = ("sqlite", "postgresql")


def postgres_start_command() -> list[str]:
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(n) for n in v.split(".") if n.isdigit()])
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]


async def pg_admin() -> asyncpg.Connection:
    """A connection to the ``postgres`` database, starting the server first when it is down."""
    try:
        return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5)
    except (OSError, asyncpg.PostgresError):
        pass
    command = postgres_start_command()
    started = subprocess.run(command, capture_output=True, text=True, check=False)
    deadline = time.monotonic() + 30
    error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            return await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5
            )
        except (OSError, asyncpg.PostgresError) as exc:
            error = exc
            await asyncio.sleep(0.5)
    pytest.fail(
        f"PostgreSQL on {PG_HOST}:{PG_PORT} is not reachable ({error!r}); "
        f"{' '.join(command)} said: {started.stdout}{started.stderr}"
    )


async def create_pg_database(prefix: str = "parley_test") -> str:
    """Create an empty, uniquely named database and return its ``postgresql://`` URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await pg_admin()
    try:
        try:
            await conn.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
            )
        except asyncpg.PostgresError:  # no ICU (or PostgreSQL < 15): the cluster's default collation
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await pg_admin()
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def new_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """A factory of empty databases: ``await new_database(backend)`` gives the URL of a new one."""
    created: list[str] = []

    async def make(backend: str) -> str:
        if backend == "sqlite":
            path: Path = tmp_path_factory.mktemp("sqlite") / "parley.db"
            return f"sqlite:///{path}"
        url = await create_pg_database()
        created.append(url)
        return url

    yield make
    for url in created:
        await drop_pg_database(url)


@pytest.fixture(
    scope="session",
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def storage(backend: str, new_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[SqlStorage]:
    """One migrated database per backend, shared by the tests (each uses fresh ids and aliases)."""
    store = await open_storage(await new_database(backend))
    yield store
    await store.close()


@pytest.fixture
async def fresh_url(backend: str, new_database: Callable[[str], Awaitable[str]]) -> str:
    """The URL of an empty, unmigrated database of the current backend."""
    return await new_database(backend)

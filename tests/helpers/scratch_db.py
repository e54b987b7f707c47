"""Scratch databases for tests: the one place that makes (and drops) a fresh PostgreSQL database.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user ``postgres``). When it does not answer it is started
with ``pg_ctlcluster`` and retried for a while; when it still does not answer the test fails, it never skips.

- ``await create_database()`` / ``await drop_database(url)``: the building blocks (async code, session fixtures);
- ``scratch_database()``: a context manager for synchronous code (fixtures that start servers);
- ``scratch_database_async()``: the same inside a running event loop;
- ``scratch_url(backend, folder)``: a fresh SQLite file or PostgreSQL database, for suites run on both.

The ``pg_url`` fixture of ``tests/conftest.py`` is ``scratch_database()`` for one test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
# How long to wait for a PostgreSQL that was down to accept connections after ``pg_ctlcluster start``.
START_WAIT = 30.0
# Connection time-out of each attempt (seconds): a stuck server fails the attempt instead of the whole run.
CONNECT_TIMEOUT = 5
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a private loop (the session loop of the async tests is left alone)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def postgres_start_command() -> list[str]:
    """``pg_ctlcluster`` for the newest PostgreSQL installed (versions compared as numbers)."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(n) for n in v.split(".") if n.isdigit()])
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]


async def _connect() -> asyncpg.Connection:
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres",
                                 timeout=CONNECT_TIMEOUT)


async def pg_admin() -> asyncpg.Connection:
    """A connection to the ``postgres`` database, starting the server first when it is down (fails, never skips,
    when it cannot be had)."""
    try:
        return await _connect()
    except (OSError, asyncpg.PostgresError):
        pass
    command = postgres_start_command()
    started = subprocess.run(command, capture_output=True, text=True, check=False)
    deadline = time.monotonic() + START_WAIT
    while True:
        try:
            return await _connect()
        except (OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL on {PG_HOST}:{PG_PORT} is not reachable ({exc!r}); "
                            f"{' '.join(command)} said: {started.stdout}{started.stderr}")
            await asyncio.sleep(0.5)


async def execute(sql: str) -> None:
    """Run one statement in the ``postgres`` database."""
    conn = await pg_admin()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database(prefix: str = "parley_test", *, icu: bool = False) -> str:
    """Create an empty, uniquely named database and return its ``postgresql://`` URL.

    ``icu``: with a linguistic (ICU ``en-US``) collation when the server offers one, like the ``en_US.UTF-8``
    default of most installations, so that ordering which only works under the ``C`` collation fails.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await pg_admin()
    try:
        if icu:
            try:
                await conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
            except asyncpg.PostgresError:  # no ICU (or PostgreSQL < 15): the cluster's default collation
                await conn.execute(f"CREATE DATABASE {name}")
        else:
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def drop_database(url: str) -> None:
    """Drop the database of ``url`` (made by :func:`create_database`), closing its connections."""
    await execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


@contextmanager
def scratch_database(prefix: str = "parley_test", *, icu: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database for synchronous code (no event loop running), dropped afterwards."""
    url = run(create_database(prefix, icu=icu))
    try:
        yield url
    finally:
        run(drop_database(url))


@asynccontextmanager
async def scratch_database_async(prefix: str = "parley_test", *, icu: bool = False) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for code running in an event loop, dropped afterwards."""
    url = await create_database(prefix, icu=icu)
    try:
        yield url
    finally:
        await drop_database(url)


@asynccontextmanager
async def scratch_url(backend: str, folder: Path, prefix: str = "parley_test") -> AsyncIterator[str]:
    """A new, empty database of ``backend`` ("sqlite": ``parley.db`` in ``folder``; "postgresql": a scratch
    database, dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'parley.db'}"
        return
    async with scratch_database_async(prefix) as url:
        yield url

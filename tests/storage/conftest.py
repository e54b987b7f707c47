"""Fixtures for the storage contract: every test of the ``storage`` fixture runs on SQLite (temp dir), on PostgreSQL
and on the in-memory fake of the services' tests (``tests.fakes.memory``); the tests that look at the database itself
(its schema, its migrations) take ``sql_storage`` or ``fresh_url`` instead, which are SQLite and PostgreSQL only.

PostgreSQL databases are scratch databases of ``tests/helpers/scratch_db.py`` (the server on 127.0.0.1:5432 is
started when it is down; the tests fail, never skip, when it cannot be had). Each session gets its own uniquely
named databases, dropped at the end.

The PostgreSQL databases are created with a linguistic (ICU ``en-US``) collation when the server offers
one, like the ``en_US.UTF-8`` default of most installations: ordering that only happens to work under the
``C`` collation of this machine's cluster must fail here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from parley.service.ports import Storage
from parley.storage.database import SqlStorage, open_storage
from tests.fakes.memory import MemoryStorage
from tests.helpers.scratch_db import create_database, drop_database

BACKENDS = ("sqlite", "postgresql", "memory")


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
        url = await create_database(icu=True)
        created.append(url)
        return url

    yield make
    for url in created:
        await drop_database(url)


@pytest.fixture(scope="session")
async def sql_stores(
    new_database: Callable[[str], Awaitable[str]],
) -> AsyncIterator[Callable[[str], Awaitable[SqlStorage]]]:
    """``await sql_stores(backend)``: the one migrated database of a SQL backend that the session's tests share
    (through ``storage`` and ``sql_storage`` alike), opened when first asked for."""
    opened: dict[str, SqlStorage] = {}

    async def get(backend: str) -> SqlStorage:
        if backend not in opened:
            opened[backend] = await open_storage(await new_database(backend))
        return opened[backend]

    yield get
    for store in opened.values():
        await store.close()


@pytest.fixture(
    scope="session",
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("memory")],
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(
    scope="session",
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def sql_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def storage(backend: str, sql_stores: Callable[[str], Awaitable[SqlStorage]]) -> AsyncIterator[Storage]:
    """One database per backend, shared by the tests (each uses fresh ids and aliases)."""
    if backend == "memory":
        memory = MemoryStorage()
        yield memory
        await memory.close()
    else:
        yield await sql_stores(backend)


@pytest.fixture(scope="session")
async def sql_storage(sql_backend: str, sql_stores: Callable[[str], Awaitable[SqlStorage]]) -> SqlStorage:
    """The database of ``storage`` on the SQL backends only: for tests that look at the database itself."""
    return await sql_stores(sql_backend)


@pytest.fixture
async def fresh_url(sql_backend: str, new_database: Callable[[str], Awaitable[str]]) -> str:
    """The URL of an empty, unmigrated database of the current SQL backend."""
    return await new_database(sql_backend)

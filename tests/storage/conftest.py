"""Fixtures for the storage contract: every test runs on SQLite (temp dir) and on PostgreSQL.

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

from parley.storage.database import SqlStorage, open_storage
from tests.helpers.scratch_db import create_database, drop_database

BACKENDS = ("sqlite", "postgresql")


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

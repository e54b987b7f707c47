"""Schema revisions: which migration the code expects, which one a database is at, and ``parley migrate``.

``parley serve`` migrates at start-up (:func:`parley.storage.database.open_storage`, under an advisory lock on
PostgreSQL); :func:`migrate` does the same and nothing else, so an operator (or a Kubernetes Job) can migrate once
before starting nodes. ``/ready`` uses :func:`check_current` to refuse traffic while a node's code and its
database disagree (e.g. a node of a newer release started before the migration ran).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine

from parley.storage.database import SqlStorage, open_storage
from parley.storage.urls import async_url, sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic's table holding the revision a database is at (its default name; env.py keeps it).
VERSION_QUERY = "SELECT version_num FROM alembic_version"


class SchemaOutOfDate(RuntimeError):
    """The database's revision is not the code's head (not migrated yet, or migrated by a newer release)."""


@dataclass(frozen=True)
class Migrated:
    """What :func:`migrate` did: the revision before (None: an empty database) and after."""

    before: str | None
    after: str | None


def head_revision() -> str:
    """The newest migration shipped with this code."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _sqlite_revision(path: str) -> str | None:
    """Read the revision without a write lock (a WAL reader never waits for the writer)."""
    if not path or path == ":memory:" or not Path(path).exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(VERSION_QUERY).fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: never migrated
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


async def revision_of(url: str) -> str | None:
    """The revision the database at ``url`` is at; None when it was never migrated."""
    path = sqlite_path(url)
    if path is not None:
        return await asyncio.to_thread(_sqlite_revision, path)
    engine = create_async_engine(async_url(url), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            try:
                return (await conn.execute(sa.text(VERSION_QUERY))).scalar_one_or_none()
            except ProgrammingError:  # no alembic_version table
                return None
    finally:
        await engine.dispose()


async def stored_revision(storage: SqlStorage) -> str | None:
    """The revision of an open storage's database (reuses its connection pool on PostgreSQL)."""
    if storage.postgres is None:
        return await revision_of(storage.url)
    async with storage.postgres.connect() as conn:
        try:
            return (await conn.execute(sa.text(VERSION_QUERY))).scalar_one_or_none()
        except (ProgrammingError, DBAPIError) as exc:
            if "alembic_version" in str(exc):
                return None
            raise


async def check_current(storage: SqlStorage, head: str) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at ``head``."""
    current = await stored_revision(storage)
    if current != head:
        raise SchemaOutOfDate(f"database at revision {current or 'none'}, code expects {head}")


async def migrate(url: str) -> Migrated:
    """Bring the database at ``url`` to the head revision and close it (what ``parley migrate`` runs)."""
    before = await revision_of(url)
    storage = await open_storage(url)
    try:
        after = await stored_revision(storage)
    finally:
        await storage.close()
    return Migrated(before, after)

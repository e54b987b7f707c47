"""Opens the database named by a URL, applies migrations and hands out transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parley.storage.repos import SqlTx

log = logging.getLogger(__name__)


def async_url(url: str) -> str:
    """Map the URLs users write (``sqlite:///``, ``postgresql://``) to SQLAlchemy's async drivers."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise ValueError(f"unsupported storage URL {url!r}: use sqlite:///PATH or postgresql://HOST/DB")


def _run_migrations(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class SqlStorage:
    """The :class:`parley.service.ports.Storage` over an async SQLAlchemy engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # SQLite allows one writer at a time; serializing transactions in-process avoids "database is
        # locked" retries. PostgreSQL relies on row locks instead.
        self._sqlite_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        lock = self._sqlite_lock or contextlib.nullcontext()
        async with lock, self.engine.connect() as conn, conn.begin():
            tx = SqlTx(conn, for_update=not self.is_sqlite)
            yield tx
        for callback in tx.callbacks:
            try:
                await callback()
            except Exception:
                log.exception("after-commit callback failed")

    async def close(self) -> None:
        await self.engine.dispose()


async def open_storage(url: str) -> SqlStorage:
    """Connect to ``url``, bring the schema to the latest migration and return the storage."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}
    engine = create_async_engine(async_url(url), **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN IMMEDIATE control transactions instead of the driver's implicit BEGIN.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Connection) -> None:
            # Take the write lock at the start so a transaction never fails half-way on upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several nodes may start at once: one migrates, the others wait for it.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(74201)"))
        await conn.run_sync(_run_migrations)
    return SqlStorage(engine)

"""Opens the database named by a URL, applies migrations and hands out units of work (one transaction each).

The repositories speak SQLAlchemy Core to a :class:`parley.storage.statements.Statements`; two adapters provide it:

* **SQLite** (the embedded default): statements run right on the event loop thread through SQLAlchemy's
  synchronous pysqlite driver. A statement on a local WAL database takes microseconds, far less than handing
  it to a driver thread and back (several thread switches per statement, which dominated the CPU profile of
  SendMessage). Transactions are serialized by an :class:`asyncio.Lock` per storage and start with
  ``BEGIN IMMEDIATE``; when another process (or another storage on the same file) holds the write lock, the
  start is retried asynchronously, so the event loop never blocks waiting for a lock (``storage/sqlite.py``).
* **PostgreSQL**: asyncpg through SQLAlchemy's asyncio extension, with row locks instead of the process lock. While
  the server cannot be reached (down, restarting, a connection cut), transactions raise
  :class:`parley.service.ports.StorageUnavailable` (answered 503, which clients retry); a transaction that finds its
  pooled connection closed by the server drops the pool and starts on a fresh connection, so once the server is
  back the next transaction works. The group commit's plain SQL goes to asyncpg directly, in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from parley.domain.errors import Duplicate
from parley.service.ports import StorageUnavailable
from parley.storage.decoded import Decoded
from parley.storage.sqlite import Checkpointer, begin_sqlite, connect_sqlite, dumps, sqlite_engine
from parley.storage.statements import AsyncStatements, LoopStatements
from parley.storage.unit_of_work import SqlUnitOfWork
from parley.storage.urls import async_url, sqlite_path

log = logging.getLogger(__name__)

# SQLSTATEs (or their class) saying the server cannot serve now, not that the request was wrong: class 08 (connection
# exceptions), 57P01-57P03 (shut down by an administrator, crashed, starting up or shutting down), 53300 (too many
# connections).
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _run_migrations(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps: SQLAlchemy's ``orig``, the driver's ``__cause__``) says the database cannot
    be reached or is restarting, rather than that the statement failed."""
    for current in _wrapped(exc):
        if isinstance(current, ConnectionError):
            return True
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
            return True
    return False


def _wrapped(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps, outermost first: SQLAlchemy's error, the adapted driver error, the driver's own,
    the socket's (SQLAlchemy's ``orig``, else ``__cause__``; five at most)."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return
        yield current
        orig = current.orig if isinstance(current, sa.exc.DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__


# PostgreSQL's SQLSTATE for a unique (or primary key) violation; SQLite's extended result codes for the same.
UNIQUE_SQLSTATE = "23505"
SQLITE_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
# What a request that lost a race for a unique name or key is told (a service checks names before it writes; two
# requests checking at once on PostgreSQL both find none, and the second one's insert waits for the first one's
# commit, then breaks the unique index).
CONCURRENT_DUPLICATE = "Another request created the same resource at the same moment; it exists now."


def unique_violation(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a statement that broke a unique constraint or a primary key."""
    return any(UNIQUE_SQLSTATE in (getattr(current, "sqlstate", None), getattr(current, "pgcode", None))
               or getattr(current, "sqlite_errorname", None) in SQLITE_UNIQUE for current in _wrapped(exc))


class _DeadConnection(Exception):
    """A pooled PostgreSQL connection found closed before anything was done on it."""


class SqlStorage:
    """The :class:`parley.service.ports.Storage` over SQLite (on the loop) or PostgreSQL (asyncpg)."""

    def __init__(self, url: str, *, sqlite: Engine | None = None, postgres: AsyncEngine | None = None,
                 checkpointer: Checkpointer | None = None) -> None:
        self.url = url
        self.checkpointer = checkpointer
        self.sqlite = sqlite
        self.postgres = postgres
        self.is_sqlite = sqlite is not None
        # SQLite allows one writer at a time; serializing transactions in-process avoids lock retries. They all
        # run on one connection, kept open.
        self._sqlite_lock = asyncio.Lock()
        self._sqlite_conn: Connection | None = None
        # Documents decoded from their stored text, shared by this storage's transactions.
        self.decoded = Decoded()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work; a statement that breaks a unique constraint raises :class:`Duplicate` (the whole
        transaction rolled back), never the driver's error."""
        try:
            async with self._transaction() as uow:
                yield uow
        except sa.exc.IntegrityError as exc:
            if not unique_violation(exc):
                raise
            raise Duplicate(CONCURRENT_DUPLICATE) from exc
        for callback in uow.callbacks:
            try:
                await callback()
            except Exception:
                log.exception("after-commit callback failed")

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        if self.sqlite is not None:
            async with self._sqlite_lock:
                if self._sqlite_conn is None or self._sqlite_conn.closed:
                    self._sqlite_conn = self.sqlite.connect()
                conn = self._sqlite_conn
                await begin_sqlite(conn)
                try:
                    uow = SqlUnitOfWork(LoopStatements(conn), row_locks=False, decoded=self.decoded)
                    yield uow
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        else:
            assert self.postgres is not None
            for attempt in (1, 2):
                try:
                    async with self.postgres.connect() as aconn, aconn.begin():
                        uow = SqlUnitOfWork(await self._pg_statements(aconn), row_locks=True, decoded=self.decoded)
                        yield uow
                    break
                except _DeadConnection as exc:
                    # Nothing was done yet: drop every pooled connection (the server restarted since they were
                    # pooled) and begin once more on a fresh one; a second dead one means the server is away.
                    await self.postgres.dispose(close=False)
                    if attempt == 2:
                        raise StorageUnavailable(f"the database cannot be reached: {exc}") from exc
                except Exception as exc:
                    if unavailable(exc):
                        raise StorageUnavailable(
                            f"the database cannot be reached: {type(exc).__name__}: {exc}") from exc
                    raise

    async def _pg_statements(self, aconn: AsyncConnection) -> AsyncStatements:
        """Begin the transaction on ``aconn``'s asyncpg connection now (SQLAlchemy would at its first statement),
        so that plain SQL sent to asyncpg directly runs inside it.

        A connection the server closed (PostgreSQL restarted) is seen here without a round trip: it is dropped
        with the rest of the pool, and the transaction starts on a fresh connection. Checking each connection
        with a ping instead (``pool_pre_ping``) cost three round trips per transaction.
        """
        assert self.postgres is not None
        dialect = self.postgres.dialect
        fairy = await aconn.get_raw_connection()
        adapted: Any = fairy.dbapi_connection
        driver = fairy.driver_connection
        try:
            if driver is None or driver.is_closed():
                raise ConnectionResetError("the pooled connection was closed by the server")
            await adapted._start_transaction()  # SQLAlchemy's own BEGIN (its isolation settings)
        except Exception as exc:
            raised: Any = exc
            if (driver is None or driver.is_closed() or isinstance(exc, ConnectionError)
                    or (isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(raised, adapted, None))):
                await aconn.invalidate()  # never back into the pool
                raise _DeadConnection(f"the pooled connection was dead at BEGIN: {exc}") from exc
            raise

        def translate(sql: str, parameters: Any, exc: Exception) -> NoReturn:
            try:
                adapted._handle_exception(exc)  # the driver's error as SQLAlchemy's DB-API adapter names it
            except dialect.loaded_dbapi.Error as dbapi_error:
                raise sa.exc.DBAPIError.instance(
                    sql, parameters, dbapi_error, dialect.loaded_dbapi.Error,
                    connection_invalidated=dialect.is_disconnect(dbapi_error, adapted, None),
                ) from exc
            raise AssertionError("unreachable: _handle_exception always raises")

        return AsyncStatements(aconn, driver, translate)

    async def close(self) -> None:
        if self._sqlite_conn is not None:
            self._sqlite_conn.close()
            self._sqlite_conn = None
        if self.checkpointer is not None:
            await self.checkpointer.close()
            self.checkpointer = None
        if self.sqlite is not None:
            self.sqlite.dispose()
        if self.postgres is not None:
            await self.postgres.dispose()


async def open_storage(url: str) -> SqlStorage:
    """Connect to ``url``, bring the schema to the latest migration and return the storage."""
    path = sqlite_path(url)
    if path is not None:
        engine = sqlite_engine(path)
        await connect_sqlite(engine)
        with engine.connect() as conn:
            await begin_sqlite(conn)
            _run_migrations(conn)
            conn.commit()
        checkpointer = Checkpointer(path) if path and path != ":memory:" else None
        if checkpointer is not None:
            checkpointer.start()
        return SqlStorage(url, sqlite=engine, checkpointer=checkpointer)
    # Connections are kept (20) rather than opened per burst: a new one costs a server process, authentication and a
    # cold statement cache. 30 at most per node: three nodes fit PostgreSQL's default max_connections of 100.
    postgres = create_async_engine(async_url(url), pool_size=20, max_overflow=10,
                                   json_serializer=dumps, json_deserializer=orjson.loads)
    async with postgres.begin() as aconn:
        # Several nodes may start at once: one migrates, the others wait for it.
        await aconn.execute(sa.text("SELECT pg_advisory_xact_lock(74201)"))
        await aconn.run_sync(_run_migrations)
    return SqlStorage(url, postgres=postgres)

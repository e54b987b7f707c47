"""Opens the database named by a URL, applies migrations and hands out transactions.

The repositories speak SQLAlchemy Core to a :class:`parley.storage.statements.Statements`; two adapters provide it:

* **SQLite** (the embedded default): statements run right on the event loop thread through SQLAlchemy's
  synchronous pysqlite driver. A statement on a local WAL database takes microseconds, far less than handing
  it to a driver thread and back (several thread switches per statement, which dominated the CPU profile of
  SendMessage). Transactions are serialized by an :class:`asyncio.Lock` per storage and start with
  ``BEGIN IMMEDIATE``; when another process (or another storage on the same file) holds the write lock, the
  start is retried asynchronously, so the event loop never blocks waiting for a lock.
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
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from parley.service.ports import StorageUnavailable
from parley.storage.decoded import Decoded
from parley.storage.repos import SqlTx
from parley.storage.statements import AsyncStatements, LoopStatements

log = logging.getLogger(__name__)

# How long a SQLite transaction (or start-up migration) waits for a write lock held by another process.
SQLITE_LOCK_WAIT_SECONDS = 30.0
# The longest pause between two tries of a SQLite write lock held elsewhere (a checkpoint holds it briefly, another
# process may hold it for seconds): short enough not to add to a commit's wait (docs/benchmarks.md has the trials).
LOCK_RETRY_MAX_PAUSE = 0.01
# How often the WAL is copied back into the database file, off the event loop (see Checkpointer).
CHECKPOINT_SECONDS = 1.0
# A checkpoint that finds more WAL frames (pages) than this makes the next commit start the WAL over.
RESTART_FRAMES = 4096
# The WAL file is truncated to this size after a checkpoint (it is reused, not grown, in between).
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# SQLite's page cache for the connection (KiB; SQLite's default is 2 MiB). Big enough to hold the indexes each
# SendMessage touches at 1,000 chats; not bigger, because a COMMIT after a B-tree page split walks the whole cache
# (SQLite moves the page past the end of the file first), so its cost grows with the pages cached. The
# measurements are in docs/benchmarks.md.
CACHE_KIB = 16 * 1024
# Prepared statements the driver keeps per connection (sqlite3's default: 128).
CACHED_STATEMENTS = 512
# SQLSTATEs (or their class) saying the server cannot serve now, not that the request was wrong: class 08 (connection
# exceptions), 57P01-57P03 (shut down by an administrator, crashed, starting up or shutting down), 53300 (too many
# connections).
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


class Checkpointer:
    """Runs SQLite's WAL checkpoints in a thread of its own, with a connection of its own.

    SQLite's automatic checkpoint runs inside a commit once the WAL passes 1,000 pages: it copies the log into
    the database file and syncs it, milliseconds during which the event loop (where Parley's statements run)
    would stand still. With automatic checkpoints off on the loop's connection, commits only append to the WAL;
    this thread copies it back every second (``PASSIVE``: never blocks a writer) and truncates it on close.

    SQLite starts the WAL over from its beginning only at a write that finds every frame already copied back.
    Under steady writes a ``PASSIVE`` pass never leaves it so (frames arrive while it copies and syncs), so the
    WAL grew by hundreds of MB until the writes paused, and the first commit after the pause then cut the file
    back to WAL_SIZE_LIMIT: 20 to 140 ms with the event loop standing still (measured at 2,800 SendMessage/s). So
    when a pass finds more than RESTART_FRAMES in the WAL, a ``RESTART`` checkpoint follows: it holds writers
    off while it copies what came during the pass (the loop's ``BEGIN IMMEDIATE`` waits for it asynchronously),
    and the next commit reuses the WAL from its start, which costs nothing.

    What the ``RESTART`` holds writers off for is mostly syncing the database file: the pages the ``PASSIVE``
    pass wrote are still only in the OS's cache. So before it this thread syncs the file itself and copies
    again (another ``PASSIVE`` pass, then another sync), all without holding anyone, and the ``RESTART`` is left
    with the frames of the last few milliseconds, so writers are held off for about a millisecond instead of tens
    (measured in docs/benchmarks.md). It only adds syncs: SQLite still syncs what it copies before it starts the
    WAL over.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-checkpoint")
        self._conn: sqlite3.Connection | None = None
        self._file: int | None = None  # a descriptor of the database file, for os.fsync
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                frames = await loop.run_in_executor(self._executor, self._checkpoint, "PASSIVE")
                if frames > RESTART_FRAMES:
                    await loop.run_in_executor(self._executor, self._restart)
            except (sqlite3.Error, OSError) as exc:
                log.warning("WAL checkpoint failed: %s", exc)

    def _restart(self) -> None:
        """Sync, copy what came meanwhile and sync again without holding writers; then ``RESTART``."""
        self._sync()
        self._checkpoint("PASSIVE")
        self._sync()
        self._checkpoint("RESTART")

    def _sync(self) -> None:
        if self._file is None:
            self._file = os.open(self.path, os.O_RDONLY)
        os.fsync(self._file)

    def _checkpoint(self, mode: str) -> int:
        """One checkpoint; returns the number of frames the WAL held (0 when not in WAL mode)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout={int(1000 * CHECKPOINT_SECONDS)}")
        row = self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return max(0, int(row[1])) if row is not None else 0

    def _close(self) -> None:
        try:
            self._checkpoint("TRUNCATE")
        except sqlite3.Error as exc:
            log.warning("final WAL checkpoint failed: %s", exc)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._file is not None:
            os.close(self._file)
            self._file = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


def async_url(url: str) -> str:
    """Map the URLs users write (``postgresql://``) to SQLAlchemy's asyncpg driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+asyncpg://"):
        return url
    raise ValueError(f"unsupported storage URL {url!r}: use sqlite:///PATH or postgresql://HOST/DB")


def sqlite_path(url: str) -> str | None:
    """The file of ``sqlite:///PATH`` (also the older ``sqlite+aiosqlite:///PATH``); None if not SQLite."""
    for prefix in ("sqlite:///", "sqlite+aiosqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return None


def _run_migrations(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _dumps(value: Any) -> str:
    """JSON columns: orjson (several times faster than the standard library; same JSON)."""
    return orjson.dumps(value).decode()


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps: SQLAlchemy's ``orig``, the driver's ``__cause__``) says the database cannot
    be reached or is restarting, rather than that the statement failed."""
    current: BaseException | None = exc
    for _ in range(5):  # SQLAlchemy's error, the adapted driver error, asyncpg's own, and the socket's
        if current is None:
            return False
        if isinstance(current, ConnectionError):
            return True
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
            return True
        orig = current.orig if isinstance(current, sa.exc.DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def _locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()


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
    async def transaction(self) -> AsyncIterator[SqlTx]:
        if self.sqlite is not None:
            async with self._sqlite_lock:
                if self._sqlite_conn is None or self._sqlite_conn.closed:
                    self._sqlite_conn = self.sqlite.connect()
                conn = self._sqlite_conn
                await _begin_sqlite(conn)
                try:
                    tx = SqlTx(LoopStatements(conn), row_locks=False, decoded=self.decoded)
                    yield tx
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        else:
            assert self.postgres is not None
            try:
                async with self.postgres.connect() as aconn, aconn.begin():
                    tx = SqlTx(await self._pg_statements(aconn), row_locks=True, decoded=self.decoded)
                    yield tx
            except Exception as exc:
                if unavailable(exc):
                    raise StorageUnavailable(f"the database cannot be reached: {type(exc).__name__}: {exc}") from exc
                raise
        for callback in tx.callbacks:
            try:
                await callback()
            except Exception:
                log.exception("after-commit callback failed")

    async def _pg_statements(self, aconn: AsyncConnection) -> AsyncStatements:
        """Begin the transaction on ``aconn``'s asyncpg connection now (SQLAlchemy would at its first statement),
        so that plain SQL sent to asyncpg directly runs inside it.

        A connection the server closed (PostgreSQL restarted) is seen here without a round trip: it is dropped
        with the rest of the pool, and the transaction starts on a fresh connection. Checking each connection
        with a ping instead (``pool_pre_ping``) cost three round trips per transaction.
        """
        assert self.postgres is not None
        dialect = self.postgres.dialect
        for attempt in (1, 2):
            fairy = await aconn.get_raw_connection()  # after invalidate(), a new connection from the new pool
            adapted: Any = fairy.dbapi_connection
            driver = fairy.driver_connection
            try:
                if driver is None or driver.is_closed():
                    raise ConnectionResetError("the pooled connection was closed by the server")
                await adapted._start_transaction()  # SQLAlchemy's own BEGIN (its isolation settings)
                break
            except Exception as exc:
                # Nothing was done on this connection yet: when it was dead (the server restarted since it was
                # pooled, and asyncpg had not noticed), drop it and every pooled one, and begin once more.
                raised: Any = exc
                dead = (driver is None or driver.is_closed() or isinstance(exc, ConnectionError)
                        or (isinstance(exc, dialect.loaded_dbapi.Error)
                            and dialect.is_disconnect(raised, adapted, None)))
                if not dead:
                    raise
                await aconn.invalidate()
                await self.postgres.dispose(close=False)
                if attempt == 2:
                    raise ConnectionResetError(f"the database connection failed at BEGIN: {exc}") from exc

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


async def _while_locked(step: Callable[[], object], undo: Callable[[], None]) -> None:
    """Run ``step``; while SQLite answers that another connection holds the lock, ``undo`` and try again after
    an asynchronous pause (the event loop never waits inside SQLite), for up to SQLITE_LOCK_WAIT_SECONDS."""
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    pause = 0.001
    while True:
        try:
            step()
            return
        except OperationalError as exc:
            undo()
            if not _locked(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, LOCK_RETRY_MAX_PAUSE)


async def _begin_sqlite(conn: Connection) -> None:
    """Start a ``BEGIN IMMEDIATE`` transaction on ``conn``, waiting while another connection holds the lock."""

    def undo() -> None:
        if conn.in_transaction():
            conn.rollback()

    await _while_locked(conn.begin, undo)


def _sqlite_engine(path: str) -> Engine:
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}", pool_reset_on_return=None, json_serializer=_dumps,
                              json_deserializer=orjson.loads, connect_args={"cached_statements": CACHED_STATEMENTS})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN IMMEDIATE control transactions instead of the driver's implicit BEGIN.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # No busy wait inside SQLite: it would block the event loop. Lock waits are retried asynchronously.
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        # Checkpoints run in the Checkpointer's thread, not inside commits on the event loop.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Take the write lock at the start so a transaction never fails half-way on upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def _connect_sqlite(engine: Engine) -> None:
    """First connection: switching to WAL needs a lock another process starting at once may hold."""
    await _while_locked(lambda: engine.connect().close(), engine.dispose)


async def open_storage(url: str) -> SqlStorage:
    """Connect to ``url``, bring the schema to the latest migration and return the storage."""
    path = sqlite_path(url)
    if path is not None:
        engine = _sqlite_engine(path)
        await _connect_sqlite(engine)
        with engine.connect() as conn:
            await _begin_sqlite(conn)
            _run_migrations(conn)
            conn.commit()
        checkpointer = Checkpointer(path) if path and path != ":memory:" else None
        if checkpointer is not None:
            checkpointer.start()
        return SqlStorage(url, sqlite=engine, checkpointer=checkpointer)
    # Connections are kept (20) rather than opened per burst: a new one costs a server process, authentication and a
    # cold statement cache. 30 at most per node: three nodes fit PostgreSQL's default max_connections of 100.
    postgres = create_async_engine(async_url(url), pool_size=20, max_overflow=10,
                                   json_serializer=_dumps, json_deserializer=orjson.loads)
    async with postgres.begin() as aconn:
        # Several nodes may start at once: one migrates, the others wait for it.
        await aconn.execute(sa.text("SELECT pg_advisory_xact_lock(74201)"))
        await aconn.run_sync(_run_migrations)
    return SqlStorage(url, postgres=postgres)

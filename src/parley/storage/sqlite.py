"""SQLite, the embedded default: the engine and its pragmas, taking the write lock without blocking the event loop,
and the checkpointer thread that copies the WAL back off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

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


def dumps(value: Any) -> str:
    """JSON columns: orjson (several times faster than the standard library; same JSON)."""
    return orjson.dumps(value).decode()


def _locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()


async def while_locked(step: Callable[[], object], undo: Callable[[], None]) -> None:
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


async def begin_sqlite(conn: Connection) -> None:
    """Start a ``BEGIN IMMEDIATE`` transaction on ``conn``, waiting while another connection holds the lock."""

    def undo() -> None:
        if conn.in_transaction():
            conn.rollback()

    await while_locked(conn.begin, undo)


def sqlite_engine(path: str) -> Engine:
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}", pool_reset_on_return=None, json_serializer=dumps,
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


async def connect_sqlite(engine: Engine) -> None:
    """First connection: switching to WAL needs a lock another process starting at once may hold."""
    await while_locked(lambda: engine.connect().close(), engine.dispose)



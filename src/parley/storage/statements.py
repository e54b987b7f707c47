"""How the repositories run statements: one protocol, an adapter for SQLite and one for PostgreSQL.

Most statements are SQLAlchemy Core constructs. The few of the group commit (every SendMessage runs them)
are plain SQL with ``?`` placeholders, run by :meth:`Statements.fetch` and :meth:`Statements.run_many`: on
SQLite straight on the DB-API connection, where SQLAlchemy's execution layer cost several times what SQLite
itself took; on PostgreSQL as driver SQL with ``$n`` placeholders. Their JSON values are text going in; coming
out they are text on SQLite and already decoded on PostgreSQL (see :func:`json_value`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, Protocol, TypeVar, cast

import asyncpg
import orjson
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable

T = TypeVar("T")
# Rows of any shape (SQLAlchemy 2.1 types results by the tuple of their columns).
AnyResult = CursorResult[*tuple[Any, ...]]


class Statements(Protocol):
    """What the repositories need of an open transaction's connection."""

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult: ...

    async def run_sync(self, fn: Callable[[Connection], T]) -> T: ...

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Sequence[Any]]:
        """Rows of a plain-SQL query with ``?`` placeholders."""
        ...

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """A plain-SQL statement with ``?`` placeholders, once per row of parameters."""
        ...


class LoopStatements:
    """SQLite: runs each statement at once on the calling (event loop) thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # The driver's own connection, inside the transaction SQLAlchemy began on it.
        self.dbapi = cast(sqlite3.Connection, conn.connection.driver_connection)

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult:
        return self.conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        return fn(self.conn)

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Sequence[Any]]:
        try:
            return self.dbapi.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise _wrapped(sql, parameters, exc) from exc

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.dbapi.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _wrapped(sql, rows, exc) from exc


def _wrapped(sql: str, parameters: Any, exc: sqlite3.Error) -> StatementError:
    """The driver's error as SQLAlchemy raises it for every other statement (IntegrityError, OperationalError...)."""
    return DBAPIError.instance(sql, parameters, exc, sqlite3.Error)


class AsyncStatements:
    """PostgreSQL: SQLAlchemy constructs go through SQLAlchemy's asyncio extension; the plain SQL of
    :meth:`fetch` and :meth:`run_many` goes straight to the asyncpg connection under it, inside the same
    transaction (SQLAlchemy's adapter about doubles the CPU a statement costs; figures in docs/benchmarks.md).
    ``raw`` is that asyncpg connection; ``translate`` raises a driver error as SQLAlchemy would have.
    """

    def __init__(self, conn: AsyncConnection, raw: asyncpg.Connection,
                 translate: Callable[[str, Any, Exception], NoReturn]) -> None:
        self.conn = conn
        self.raw = raw
        self.translate = translate

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult:
        return await self.conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        return await self.conn.run_sync(fn)

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Sequence[Any]]:
        query = dollar(sql)
        try:
            return cast(list[Sequence[Any]], await self.raw.fetch(query, *parameters))
        except Exception as exc:
            self.translate(query, parameters, exc)

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        query = dollar(sql)
        try:
            await self.raw.executemany(query, rows)
        except Exception as exc:
            self.translate(query, rows, exc)


def dollar(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (the plain SQL here has no ``?`` in literals)."""
    parts = sql.split("?")
    return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))


def json_value(value: Any) -> Any:
    """A JSON column's value from :meth:`Statements.fetch`: text on SQLite, already decoded on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def placeholders(n: int) -> str:
    """``?, ?, ?`` for an IN list of ``n`` values."""
    return ", ".join("?" * n)


def padded(values: Sequence[T]) -> list[T]:
    """``values`` (at least one) lengthened to the next power of two by repeating the last one.

    An IN list (or an OR of key probes) of any length is a statement of its own to the database. Padded, a
    query comes in a handful of lengths, so sqlite3's and asyncpg's bounded caches of prepared statements keep
    reusing them instead of preparing a new one for each batch size; a repeated value finds nothing new.
    """
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *([values[-1]] * (size - len(values)))]



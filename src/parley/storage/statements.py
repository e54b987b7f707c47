"""How the repositories run statements: one protocol, an adapter for SQLite and one for PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable

T = TypeVar("T")
# Rows of any shape (SQLAlchemy 2.1 types results by the tuple of their columns).
AnyResult = CursorResult[*tuple[Any, ...]]


class Statements(Protocol):
    """What the repositories need of an open transaction's connection."""

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult: ...

    async def run_sync(self, fn: Callable[[Connection], T]) -> T: ...


class LoopStatements:
    """SQLite: runs each statement at once on the calling (event loop) thread."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult:
        return self.conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        return fn(self.conn)


class AsyncStatements:
    """PostgreSQL: statements go to asyncpg through SQLAlchemy's asyncio extension."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> AnyResult:
        return await self.conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        return await self.conn.run_sync(fn)



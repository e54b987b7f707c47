"""What every SQL repository shares: the unit of work's connection, whether it takes row locks, the decode cache."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from parley.storage.decoded import Decoded
from parley.storage.statements import Statements

D = TypeVar("D")


class SqlRepo:
    """One repository of one unit of work: its statements run on the unit of work's connection."""

    __slots__ = ("conn", "decoded", "row_locks")

    def __init__(self, conn: Statements, row_locks: bool, decoded: Decoded) -> None:
        self.conn = conn
        # True when ``for_update`` reads take row locks (PostgreSQL); SQLite serializes whole transactions.
        self.row_locks = row_locks
        self.decoded = decoded

    async def _one_data(self, query: sa.Select[Any], params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        row = (await self.conn.execute(query, params)).first()
        return None if row is None else dict(row[0])

    async def _decoded(self, kind: type[D], sql: str, parameters: list[Any]) -> list[D]:
        """The documents a plain-SQL query returns as text (one column), decoded through the cache."""
        return [self.decoded.get(kind, row[0]) for row in await self.conn.fetch(sql, parameters)]

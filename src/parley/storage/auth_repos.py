"""SQL for agent sign-in: session cookies and CTI access tokens, stored by the hash of the token."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from parley.domain.agents import AgentSession
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

_FIND_SESSION = sa.select(t.agent_sessions).where(t.agent_sessions.c.token_hash == sa.bindparam("hash"))


class SessionSql(SqlRepo):
    """:class:`parley.service.repositories.Sessions` in SQL."""

    __slots__ = ()

    async def add(self, token_hash: str, session: AgentSession) -> None:
        await self.conn.execute(t.agent_sessions.insert().values(
            token_hash=token_hash, kind=session.kind, instance_id=session.instance_id, user_id=session.user_id,
            created=session.created.isoformat(), expires=session.expires.isoformat(),
        ))

    async def find(self, token_hash: str) -> AgentSession | None:
        row = (await self.conn.execute(_FIND_SESSION, {"hash": token_hash})).first()
        if row is None:
            return None
        return AgentSession(
            row.kind, row.instance_id, row.user_id,
            datetime.fromisoformat(row.created), datetime.fromisoformat(row.expires),
        )

    async def delete(self, token_hash: str) -> None:
        await self.conn.execute(t.agent_sessions.delete().where(t.agent_sessions.c.token_hash == token_hash))

    async def delete_expired(self, now: datetime) -> None:
        # ISO-8601 UTC strings of one format compare in time order, on SQLite and PostgreSQL alike.
        await self.conn.execute(t.agent_sessions.delete().where(t.agent_sessions.c.expires <= now.isoformat()))

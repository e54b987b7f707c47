"""SQL of agents' presence rows: status, routability, and the order routing offers contacts in."""

from __future__ import annotations

import sqlalchemy as sa

from parley.domain.agents import Presence
from parley.domain.codec import from_json, to_json
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

_agents = t.agents.c
_GET_PRESENCE = sa.select(_agents.data).where(_agents.user_id == sa.bindparam("user"))
_GET_PRESENCE_LOCKED = _GET_PRESENCE.with_for_update()
_ROUTABLE_IDS = (sa.select(_agents.user_id)
                 .where(_agents.instance_id == sa.bindparam("instance"), _agents.routable.is_(True))
                 .order_by(_agents.idle_since, _agents.user_id))
# Read as text and decoded through the storage's cache (see parley.storage.decoded).
_PRESENCES = "SELECT CAST(data AS TEXT) FROM agents WHERE instance_id = ?"


class PresenceSql(SqlRepo):
    """:class:`parley.service.repositories.Presences` in SQL."""

    __slots__ = ()

    async def find(self, user_id: str, *, for_update: bool = False) -> Presence | None:
        query = _GET_PRESENCE_LOCKED if for_update and self.row_locks else _GET_PRESENCE
        row = (await self.conn.execute(query, {"user": user_id})).first()
        return None if row is None else from_json(Presence, dict(row[0]))

    async def save(self, presence: Presence) -> None:
        values = {"instance_id": presence.instance_id, "routable": presence.routable,
                  "idle_since": presence.idle_since.isoformat(), "data": to_json(presence)}
        result = await self.conn.execute(
            t.agents.update().where(t.agents.c.user_id == presence.user_id).values(**values)
        )
        if not result.rowcount:
            await self.conn.execute(t.agents.insert().values(user_id=presence.user_id, **values))

    async def routable(self, instance_id: str) -> list[str]:
        # Ids only: no documents to decode.
        return [str(r[0]) for r in (await self.conn.execute(_ROUTABLE_IDS, {"instance": instance_id})).all()]

    async def of_instance(self, instance_id: str) -> list[Presence]:
        rows = await self.conn.fetch(_PRESENCES, [instance_id])
        return sorted((self.decoded.get(Presence, r[0]) for r in rows), key=lambda p: p.user_id)

"""SQL for agents: presence rows and the contact segments assigned to an agent."""

from __future__ import annotations

import sqlalchemy as sa

from parley.domain.agents import Presence
from parley.domain.codec import from_json, to_json
from parley.domain.contact import HOLDS_SLOT, Contact
from parley.storage import schema as t
from parley.storage.decoded import Decoded
from parley.storage.statements import Statements

_agents = t.agents.c
_GET_PRESENCE = sa.select(_agents.data).where(_agents.user_id == sa.bindparam("user"))
_GET_PRESENCE_LOCKED = _GET_PRESENCE.with_for_update()
_ROUTABLE_IDS = (sa.select(_agents.user_id)
                 .where(_agents.instance_id == sa.bindparam("instance"), _agents.routable.is_(True))
                 .order_by(_agents.idle_since, _agents.user_id))
_SLOT_STATES = sorted(HOLDS_SLOT)
# Read as text and decoded through the storage's cache (see parley.storage.decoded).
_SEGMENTS_OF_AGENT = (f"SELECT CAST(data AS TEXT) FROM contacts WHERE agent_user_id = ? "
                      f"AND state IN ({', '.join('?' * len(_SLOT_STATES))})")


class AgentSql:
    """Mixed into :class:`parley.storage.repos.SqlTx`."""

    conn: Statements
    decoded: Decoded
    row_locks: bool

    async def get_presence(self, user_id: str, *, for_update: bool = False) -> Presence | None:
        query = _GET_PRESENCE_LOCKED if for_update and self.row_locks else _GET_PRESENCE
        row = (await self.conn.execute(query, {"user": user_id})).first()
        return None if row is None else from_json(Presence, dict(row[0]))

    async def save_presence(self, presence: Presence) -> None:
        values = {"instance_id": presence.instance_id, "routable": presence.routable,
                  "idle_since": presence.idle_since.isoformat(), "data": to_json(presence)}
        result = await self.conn.execute(
            t.agents.update().where(t.agents.c.user_id == presence.user_id).values(**values)
        )
        if not result.rowcount:
            await self.conn.execute(t.agents.insert().values(user_id=presence.user_id, **values))

    async def routable_agent_ids(self, instance_id: str) -> list[str]:
        """Ids of the instance's routable agents, longest idle first (no documents to decode)."""
        return [str(r[0]) for r in (await self.conn.execute(_ROUTABLE_IDS, {"instance": instance_id})).all()]

    async def segments_of_agent(self, user_id: str) -> list[Contact]:
        """The agent's segments that are offered, connected or in after-contact work."""
        rows = await self.conn.fetch(_SEGMENTS_OF_AGENT, [user_id, *_SLOT_STATES])
        return sorted((self.decoded.get(Contact, r[0]) for r in rows), key=lambda c: (c.initiation_time, c.id))

    async def slots_in_use(self, instance_id: str) -> dict[str, int]:
        """How many chat slots each agent of the instance holds (offered, connected, after-contact work)."""
        query = (sa.select(t.contacts.c.agent_user_id, sa.func.count())
                 .where(t.contacts.c.instance_id == instance_id, t.contacts.c.agent_user_id.is_not(None),
                        t.contacts.c.state.in_(sorted(HOLDS_SLOT)))
                 .group_by(t.contacts.c.agent_user_id))
        return {str(r[0]): int(r[1]) for r in (await self.conn.execute(query)).all()}

    async def contacts_in_state(self, instance_id: str | None, state: str, limit: int) -> list[Contact]:
        """Segments in ``state`` (oldest enqueue first), across instances when ``instance_id`` is None."""
        query = sa.select(t.contacts.c.data).where(t.contacts.c.state == state)
        if instance_id is not None:
            query = query.where(t.contacts.c.instance_id == instance_id)
        query = query.order_by(t.contacts.c.enqueue_time, t.contacts.c.id).limit(limit)
        return [from_json(Contact, dict(r[0])) for r in (await self.conn.execute(query)).all()]

"""SQL for the real-time figures (parley.service.realtime): an instance's agents' presence and its live contact
segments, and the segments and participants of many chats, each in one query."""

from __future__ import annotations

from parley.domain.agents import Presence
from parley.domain.contact import CONNECTED, CONNECTING, ENDED, QUEUED, Contact, Participant
from parley.storage.decoded import Decoded
from parley.storage.statements import Statements, padded, placeholders

# Segments that are waiting, offered, connected or in after-contact work (not closed): what is live now.
LIVE_STATES = (QUEUED, CONNECTING, CONNECTED, ENDED)
_PRESENCES = "SELECT CAST(data AS TEXT) FROM agents WHERE instance_id = ?"
# Served by ix_contacts_state (instance_id, state).
_LIVE_CONTACTS = (f"SELECT CAST(data AS TEXT) FROM contacts WHERE instance_id = ? "
                  f"AND state IN ({placeholders(len(LIVE_STATES))})")
_CONTACTS_OF_CHATS = "SELECT CAST(data AS TEXT) FROM contacts WHERE initial_contact_id IN ({})"
_PARTICIPANTS_OF_CHATS = "SELECT CAST(data AS TEXT) FROM participants WHERE chat_id IN ({})"


class RealtimeSql:
    """Mixed into :class:`parley.storage.repos.SqlTx`."""

    conn: Statements
    decoded: Decoded

    async def presences_of_instance(self, instance_id: str) -> list[Presence]:
        """The presence of every agent of the instance ever seen (an agent never seen has none: Offline)."""
        rows = await self.conn.fetch(_PRESENCES, [instance_id])
        return sorted((self.decoded.get(Presence, r[0]) for r in rows), key=lambda p: p.user_id)

    async def live_contacts(self, instance_id: str) -> list[Contact]:
        """The instance's segments that are waiting, offered, connected or in after-contact work."""
        rows = await self.conn.fetch(_LIVE_CONTACTS, [instance_id, *LIVE_STATES])
        return sorted((self.decoded.get(Contact, r[0]) for r in rows), key=lambda c: (c.initiation_time, c.id))

    async def contacts_of_chats(self, chat_ids: list[str]) -> list[Contact]:
        """Every segment of the chats (closed ones too), oldest first."""
        if not chat_ids:
            return []
        ids = padded(sorted(set(chat_ids)))
        rows = await self.conn.fetch(_CONTACTS_OF_CHATS.format(placeholders(len(ids))), ids)
        return sorted((self.decoded.get(Contact, r[0]) for r in rows), key=lambda c: (c.initiation_time, c.id))

    async def participants_of_chats(self, chat_ids: list[str]) -> list[Participant]:
        """Every participant of the chats (those who left too), in the order they came."""
        if not chat_ids:
            return []
        ids = padded(sorted(set(chat_ids)))
        rows = await self.conn.fetch(_PARTICIPANTS_OF_CHATS.format(placeholders(len(ids))), ids)
        return sorted((self.decoded.get(Participant, r[0]) for r in rows), key=lambda p: (p.created, p.id))

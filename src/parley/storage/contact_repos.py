"""SQL of contact segments and participants: by id, by chat, by agent, by state, and the live ones."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from parley.domain.codec import from_json, to_json
from parley.domain.contact import CONNECTED, CONNECTING, ENDED, HOLDS_SLOT, QUEUED, Contact, Participant
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo
from parley.storage.statements import padded, placeholders

_contacts = t.contacts.c
_GET_CONTACT = sa.select(_contacts.data).where(_contacts.id == sa.bindparam("id"),
                                               _contacts.instance_id == sa.bindparam("instance"))
_GET_CONTACT_LOCKED = _GET_CONTACT.with_for_update()
_participants = t.participants.c
_GET_PARTICIPANT = sa.select(_participants.data).where(_participants.id == sa.bindparam("id"))
_PARTICIPANT_BY_TOKEN = sa.select(_participants.data).where(_participants.token_hash == sa.bindparam("hash"))
# Documents snapshots and routing read again and again come back as text, decoded through Decoded.
_CONTACTS_OF_CHAT = "SELECT CAST(data AS TEXT) FROM contacts WHERE initial_contact_id = ?"
_CONTACTS_OF_CHATS = "SELECT CAST(data AS TEXT) FROM contacts WHERE initial_contact_id IN ({})"
_PARTICIPANTS_OF_CHAT = "SELECT CAST(data AS TEXT) FROM participants WHERE chat_id = ?"
_PARTICIPANTS_OF_CHATS = "SELECT CAST(data AS TEXT) FROM participants WHERE chat_id IN ({})"
_SLOT_STATES = sorted(HOLDS_SLOT)
_SEGMENTS_OF_AGENT = (f"SELECT CAST(data AS TEXT) FROM contacts WHERE agent_user_id = ? "
                      f"AND state IN ({', '.join('?' * len(_SLOT_STATES))})")
# Segments that are waiting, offered, connected or in after-contact work (not closed): what is live now.
LIVE_STATES = (QUEUED, CONNECTING, CONNECTED, ENDED)
# Served by ix_contacts_state (instance_id, state).
_LIVE_CONTACTS = (f"SELECT CAST(data AS TEXT) FROM contacts WHERE instance_id = ? "
                  f"AND state IN ({placeholders(len(LIVE_STATES))})")


def _in_initiation_order(contacts: Any) -> list[Contact]:
    return sorted(contacts, key=lambda c: (c.initiation_time, c.id))  # ties: a stable, backend-free order


class ContactSql(SqlRepo):
    """:class:`parley.service.repositories.Contacts` in SQL."""

    __slots__ = ()

    async def find(self, instance_id: str, contact_id: str, *, for_update: bool = False) -> Contact | None:
        query = _GET_CONTACT_LOCKED if for_update and self.row_locks else _GET_CONTACT
        data = await self._one_data(query, {"id": contact_id, "instance": instance_id})
        return None if data is None else from_json(Contact, data)

    @staticmethod
    def _columns(contact: Contact) -> dict[str, Any]:
        return {
            "instance_id": contact.instance_id, "initial_contact_id": contact.initial_contact_id,
            "state": contact.state, "queue_id": contact.queue_id,
            "enqueue_time": contact.enqueue_time.isoformat() if contact.enqueue_time else None,
            "agent_user_id": contact.agent_user_id,
            "data": to_json(contact),
        }

    async def add(self, contact: Contact) -> None:
        await self.conn.execute(t.contacts.insert().values(id=contact.id, **self._columns(contact)))

    async def update(self, contact: Contact) -> None:
        await self.conn.execute(
            t.contacts.update().where(t.contacts.c.id == contact.id).values(**self._columns(contact))
        )

    async def of_chat(self, initial_contact_id: str) -> list[Contact]:
        return _in_initiation_order(await self._decoded(Contact, _CONTACTS_OF_CHAT, [initial_contact_id]))

    async def of_chats(self, chat_ids: list[str]) -> list[Contact]:
        if not chat_ids:
            return []
        ids = padded(sorted(set(chat_ids)))
        return _in_initiation_order(
            await self._decoded(Contact, _CONTACTS_OF_CHATS.format(placeholders(len(ids))), ids))

    async def of_agent(self, user_id: str) -> list[Contact]:
        return _in_initiation_order(await self._decoded(Contact, _SEGMENTS_OF_AGENT, [user_id, *_SLOT_STATES]))

    async def live(self, instance_id: str) -> list[Contact]:
        return _in_initiation_order(await self._decoded(Contact, _LIVE_CONTACTS, [instance_id, *LIVE_STATES]))

    async def in_state(self, instance_id: str | None, state: str, limit: int) -> list[Contact]:
        query = sa.select(t.contacts.c.data).where(t.contacts.c.state == state)
        if instance_id is not None:
            query = query.where(t.contacts.c.instance_id == instance_id)
        query = query.order_by(t.contacts.c.enqueue_time, t.contacts.c.id).limit(limit)
        return [from_json(Contact, dict(r[0])) for r in (await self.conn.execute(query)).all()]

    async def slots_in_use(self, instance_id: str) -> dict[str, int]:
        query = (sa.select(t.contacts.c.agent_user_id, sa.func.count())
                 .where(t.contacts.c.instance_id == instance_id, t.contacts.c.agent_user_id.is_not(None),
                        t.contacts.c.state.in_(_SLOT_STATES))
                 .group_by(t.contacts.c.agent_user_id))
        return {str(r[0]): int(r[1]) for r in (await self.conn.execute(query)).all()}


class ParticipantSql(SqlRepo):
    """:class:`parley.service.repositories.Participants` in SQL."""

    __slots__ = ()

    async def find(self, participant_id: str) -> Participant | None:
        data = await self._one_data(_GET_PARTICIPANT, {"id": participant_id})
        return None if data is None else from_json(Participant, data)

    async def find_by_token(self, token_hash: str) -> Participant | None:
        data = await self._one_data(_PARTICIPANT_BY_TOKEN, {"hash": token_hash})
        return None if data is None else from_json(Participant, data)

    async def add(self, participant: Participant) -> None:
        await self.conn.execute(
            t.participants.insert().values(
                id=participant.id, chat_id=participant.chat_id, token_hash=participant.token_hash,
                data=to_json(participant),
            )
        )

    async def update(self, participant: Participant) -> None:
        await self.conn.execute(
            t.participants.update()
            .where(t.participants.c.id == participant.id)
            .values(token_hash=participant.token_hash, data=to_json(participant))
        )

    async def of_chat(self, chat_id: str) -> list[Participant]:
        participants = await self._decoded(Participant, _PARTICIPANTS_OF_CHAT, [chat_id])
        return sorted(participants, key=lambda p: (p.created, p.id))

    async def of_chats(self, chat_ids: list[str]) -> list[Participant]:
        if not chat_ids:
            return []
        ids = padded(sorted(set(chat_ids)))
        participants = await self._decoded(Participant, _PARTICIPANTS_OF_CHATS.format(placeholders(len(ids))), ids)
        return sorted(participants, key=lambda p: (p.created, p.id))

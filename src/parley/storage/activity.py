"""Counts of what is going on, for ``/metrics``: active chats and participants, queued contacts, open offers.

Each is one ``COUNT`` over an index (chats by ``ended``, contacts by ``state``, participants by chat), read in one
short transaction when ``/metrics`` is scraped (and cached there for a few seconds), never on a request's path.
"""

from __future__ import annotations

import sqlalchemy as sa

from parley.domain.contact import CONNECTING, QUEUED
from parley.service.telemetry import Activity
from parley.storage import schema as t
from parley.storage.database import SqlStorage

_chats = t.chats.c
_contacts = t.contacts.c
_participants = t.participants.c
_ACTIVE_CHATS = sa.select(sa.func.count()).select_from(t.chats).where(_chats.ended.is_(False))
# A participant is active until it leaves (its document's ``left`` is set); only those of chats not ended count.
_ACTIVE_PARTICIPANTS = (
    sa.select(sa.func.count()).select_from(t.participants.join(t.chats, _chats.id == _participants.chat_id))
    .where(_chats.ended.is_(False), _participants.data["left"].as_string().is_(None))
)
_IN_STATE = sa.select(sa.func.count()).select_from(t.contacts).where(_contacts.state == sa.bindparam("state"))


async def count_activity(storage: SqlStorage) -> Activity:
    """The deployment's activity now (the same from every node: it is the shared database's)."""
    async with storage.transaction() as tx:
        conn = tx.conn
        chats = (await conn.execute(_ACTIVE_CHATS)).scalar_one()
        participants = (await conn.execute(_ACTIVE_PARTICIPANTS)).scalar_one()
        queued = (await conn.execute(_IN_STATE, {"state": QUEUED})).scalar_one()
        offers = (await conn.execute(_IN_STATE, {"state": CONNECTING})).scalar_one()
    return Activity(int(chats), int(participants), int(queued), int(offers))

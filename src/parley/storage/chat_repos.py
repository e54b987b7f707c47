"""SQL of the chat data plane: chats and their transcripts, connection credentials, attachments, and the group
commit's batched reads and writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from parley.domain.clock import utcnow
from parley.domain.codec import from_json, to_json
from parley.domain.contact import Participant
from parley.domain.transcript import Chat, Connection, Item, StoredAttachment
from parley.service.repositories import ConnectionHolder
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo
from parley.storage.statements import json_value, padded, placeholders

# The hot statements are built once: executing a prebuilt statement skips SQLAlchemy's construction and
# cache-key work, most of a statement's cost on SQLite.
_chats_c = t.chats.c
_items_c = t.chat_items.c
# A chat's last seq is not stored: it is its highest item's seq, one seek at the end of the chat's range of the
# items' primary key. Keeping it in the chat's row cost every commit an UPDATE and a page of the chats' table
# per chat it touched (at 1,000 chats, 9 of the 46 pages a commit of ten SendMessages wrote to SQLite's WAL).
_LAST_SEQ_OF = "COALESCE((SELECT MAX(i.seq) FROM chat_items i WHERE i.chat_id = c.id), 0)"
_CHAT_COLUMNS = f"c.id, c.instance_id, {_LAST_SEQ_OF}, c.ended, c.expires_at"
# The group commit's statements are plain SQL (see parley.storage.statements); IN lists are filled in per call.
_GET_CHATS = f"SELECT {_CHAT_COLUMNS} FROM chats c WHERE c.id IN ({{}}) ORDER BY c.id"
# On PostgreSQL the chats' rows are locked first, in id order, and read by a second statement: under READ
# COMMITTED that statement's snapshot sees the items of the transaction that held a lock this one waited for.
_LOCK_CHATS = "SELECT id FROM chats WHERE id IN ({}) ORDER BY id FOR UPDATE"
_INSERT_ITEM = "INSERT INTO chat_items (chat_id, seq, id, absolute_time, data) VALUES (?, ?, ?, ?, ?)"
_CONNECTIONS_IN = ("SELECT c.token_hash, c.kind, c.participant_id, c.expires, CAST(p.data AS TEXT) "
                   "FROM connections c "
                   "JOIN participants p ON p.id = c.participant_id WHERE c.token_hash IN ({})")
_ITEMS_AFTER = (sa.select(_items_c.data)
                .where(_items_c.chat_id == sa.bindparam("chat"), _items_c.seq > sa.bindparam("seq"))
                .order_by(_items_c.seq).limit(sa.bindparam("limit")))
_ITEMS_BEFORE = (sa.select(_items_c.data)
                 .where(_items_c.chat_id == sa.bindparam("chat"), _items_c.seq < sa.bindparam("seq"))
                 .order_by(_items_c.seq.desc()).limit(sa.bindparam("limit")))
_FIND_ITEM = sa.select(_items_c.data).where(_items_c.chat_id == sa.bindparam("chat"),
                                            _items_c.id == sa.bindparam("id"))
_CONNECTIONS = (sa.select(t.connections, t.participants.c.data)
                .join(t.participants, t.participants.c.id == t.connections.c.participant_id))
# The group commit's lookup of ClientTokens, an OR of primary-key probes: ``scope IN (...) AND token IN (...)``
# would probe every scope with every token, and SQLite answers a row-value ``IN (VALUES ...)`` by a scan.
_FIND_IDEMPOTENT_MANY = "SELECT scope, token, result FROM idempotency WHERE "
_IDEMPOTENT_PAIR = "(scope = ? AND token = ?)"
_INSERT_IDEMPOTENT = "INSERT INTO idempotency (scope, token, created, result) VALUES (?, ?, ?, ?)"
_GET_PARTICIPANTS = "SELECT CAST(data AS TEXT) FROM participants WHERE id IN ({})"
_GET_PARTICIPANT = "SELECT CAST(data AS TEXT) FROM participants WHERE id = ?"
_CONNECTION = _CONNECTIONS.where(t.connections.c.token_hash == sa.bindparam("hash"))


def item_text(item: Item) -> str:
    """An item's stored JSON: the text of ``to_json(item)``, which orjson writes straight from the dataclass (it
    writes fields, tuples and datetimes as to_json does, an order of magnitude faster, once per SendMessage)."""
    return orjson.dumps(item).decode()


def _chat(row: Any) -> Chat:
    """A chat from its row: (id, instance_id, last_seq, ended, expires_at)."""
    return Chat(row[0], row[1], int(row[2]), bool(row[3]), datetime.fromisoformat(row[4]))


class ChatSql(SqlRepo):
    """:class:`parley.service.repositories.Chats` in SQL."""

    __slots__ = ()

    async def add(self, chat: Chat) -> None:
        if chat.last_seq:
            raise ValueError("a chat starts with no items: its last_seq is the seq of its last stored item")
        await self.conn.execute(t.chats.insert().values(
            id=chat.id, instance_id=chat.instance_id, ended=chat.ended, expires_at=chat.expires_at.isoformat(),
        ))

    async def find(self, chat_id: str, *, for_update: bool = False) -> Chat | None:
        return (await _chats(self, [chat_id], for_update=for_update)).get(chat_id)

    async def find_many(self, chat_ids: list[str]) -> dict[str, Chat]:
        return await _chats(self, chat_ids, for_update=False)

    async def lock_with(self, participant: Participant) -> tuple[Participant, Chat] | None:
        chat = await self.find(participant.chat_id, for_update=True)
        if chat is None:
            return None
        if self.row_locks:  # the participant may have changed while this transaction waited for the lock
            rows = await self.conn.fetch(_GET_PARTICIPANT, [participant.id])
            if not rows:
                return None
            participant = self.decoded.get(Participant, rows[0][0])
        return participant, chat

    async def end(self, chat_id: str) -> bool:
        result = await self.conn.execute(
            t.chats.update().where(t.chats.c.id == chat_id, t.chats.c.ended.is_(False)).values(ended=True)
        )
        return bool(result.rowcount)

    async def expiring(self, now: datetime, limit: int) -> list[str]:
        query = (sa.select(t.chats.c.id)
                 .where(t.chats.c.ended.is_(False), t.chats.c.expires_at <= now.isoformat())
                 .limit(limit))
        return [r[0] for r in (await self.conn.execute(query)).all()]

    async def append(self, chat_id: str, items: list[Item]) -> list[Item]:
        # The chat's row is locked on PostgreSQL; SQLite's write transaction already excludes every other writer.
        if not items:
            return []
        chat = await self.find(chat_id, for_update=True)
        if chat is None:
            raise LookupError(f"no chat {chat_id} to append items to")
        first = chat.last_seq + 1
        stored = [replace(item, seq=first + i) for i, item in enumerate(items)]
        await _store(self, stored)
        return stored

    async def items_after(self, chat_id: str, after_seq: int, limit: int) -> list[Item]:
        rows = (await self.conn.execute(_ITEMS_AFTER, {"chat": chat_id, "seq": after_seq, "limit": limit})).all()
        return [from_json(Item, dict(r[0])) for r in rows]

    async def items_before(self, chat_id: str, before_seq: int, limit: int) -> list[Item]:
        rows = (await self.conn.execute(_ITEMS_BEFORE, {"chat": chat_id, "seq": before_seq, "limit": limit})).all()
        return [from_json(Item, dict(r[0])) for r in rows]

    async def find_item(self, chat_id: str, item_id: str) -> Item | None:
        row = (await self.conn.execute(_FIND_ITEM, {"chat": chat_id, "id": item_id})).first()
        return None if row is None else from_json(Item, dict(row[0]))

    async def seq_at_time(self, chat_id: str, when: datetime, *, forward: bool) -> int | None:
        col = t.chat_items.c
        if forward:
            query = sa.select(sa.func.min(col.seq)).where(col.chat_id == chat_id, col.absolute_time >= when.isoformat())
        else:
            query = sa.select(sa.func.max(col.seq)).where(col.chat_id == chat_id, col.absolute_time <= when.isoformat())
        value = (await self.conn.execute(query)).scalar()
        return None if value is None else int(value)


async def _chats(repo: SqlRepo, chat_ids: list[str], *, for_update: bool) -> dict[str, Chat]:
    """Several chats in one query; with ``for_update`` their rows are locked in id order (no deadlocks)."""
    if not chat_ids:
        return {}
    ids = padded(sorted(set(chat_ids)))
    marks = placeholders(len(ids))
    if for_update and repo.row_locks:
        await repo.conn.fetch(_LOCK_CHATS.format(marks), ids)
    return {row[0]: _chat(row) for row in await repo.conn.fetch(_GET_CHATS.format(marks), ids)}


async def _store(repo: SqlRepo, items: list[Item]) -> None:
    if not items:
        return
    await repo.conn.run_many(_INSERT_ITEM, [
        (item.chat_id, item.seq, item.id, item.absolute_time.isoformat(), item_text(item))
        for item in items
    ])


class ConnectionSql(SqlRepo):
    """:class:`parley.service.repositories.Connections` in SQL."""

    __slots__ = ()

    async def add(self, token_hash: str, connection: Connection) -> None:
        await self.conn.execute(t.connections.insert().values(
            token_hash=token_hash, kind=connection.kind, participant_id=connection.participant_id,
            expires=connection.expires.isoformat(),
        ))

    async def find(self, token_hash: str) -> Connection | None:
        row = (await self.conn.execute(
            sa.select(t.connections).where(t.connections.c.token_hash == token_hash)
        )).first()
        if row is None:
            return None
        return Connection(row.kind, row.participant_id, datetime.fromisoformat(row.expires))

    async def find_with_participant(self, token_hash: str) -> tuple[Connection, Participant] | None:
        row = (await self.conn.execute(_CONNECTION, {"hash": token_hash})).first()
        if row is None:
            return None
        connection = Connection(row.kind, row.participant_id, datetime.fromisoformat(row.expires))
        return connection, from_json(Participant, dict(row.data))

    async def delete_expired(self, now: datetime) -> None:
        await self.conn.execute(t.connections.delete().where(t.connections.c.expires < now.isoformat()))


class AttachmentSql(SqlRepo):
    """:class:`parley.service.repositories.Attachments` in SQL."""

    __slots__ = ()

    async def add(self, attachment: StoredAttachment) -> None:
        await self.conn.execute(t.attachments.insert().values(
            id=attachment.id, chat_id=attachment.chat_id, data=to_json(attachment)
        ))

    async def update(self, attachment: StoredAttachment) -> None:
        await self.conn.execute(
            t.attachments.update().where(t.attachments.c.id == attachment.id).values(data=to_json(attachment))
        )

    async def find(self, attachment_id: str) -> StoredAttachment | None:
        row = (await self.conn.execute(
            sa.select(t.attachments.c.data).where(t.attachments.c.id == attachment_id)
        )).first()
        return None if row is None else from_json(StoredAttachment, dict(row[0]))

    async def of_chat(self, chat_id: str) -> list[StoredAttachment]:
        rows = (await self.conn.execute(
            sa.select(t.attachments.c.data).where(t.attachments.c.chat_id == chat_id)
        )).all()
        return [from_json(StoredAttachment, dict(r[0])) for r in rows]


class AppendSql(SqlRepo):
    """:class:`parley.service.repositories.Appends` in SQL: each method one statement for the whole batch."""

    __slots__ = ()

    async def lock_writers(self, token_hashes: list[str]) -> dict[str, ConnectionHolder]:
        if not token_hashes:
            return {}
        hashes = padded(sorted(set(token_hashes)))
        rows = await self.conn.fetch(_CONNECTIONS_IN.format(placeholders(len(hashes))), hashes)
        found = {row[0]: (Connection(row[1], row[2], datetime.fromisoformat(row[3])),
                          self.decoded.get(Participant, row[4])) for row in rows}
        chats = await _chats(self, [p.chat_id for _c, p in found.values()], for_update=True)
        participants = {p.id: p for _c, p in found.values()}
        if self.row_locks and participants:  # they may have changed while this waited for the chats' locks
            ids = padded(sorted(participants))
            fresh = await self._decoded(Participant, _GET_PARTICIPANTS.format(placeholders(len(ids))), ids)
            participants = {p.id: p for p in fresh}
        holders: dict[str, ConnectionHolder] = {}
        for token_hash, (connection, participant) in found.items():
            current = participants.get(participant.id)
            if current is not None:
                holders[token_hash] = ConnectionHolder(connection, current, chats.get(current.chat_id))
        return holders

    async def find_answers(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        if not keys:
            return {}
        pairs = padded(sorted(set(keys)))
        rows = await self.conn.fetch(_FIND_IDEMPOTENT_MANY + " OR ".join([_IDEMPOTENT_PAIR] * len(pairs)),
                                     [value for pair in pairs for value in pair])
        return {(r[0], r[1]): dict(json_value(r[2])) for r in rows}

    async def save_answers(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        if not rows:
            return
        created = utcnow().isoformat()
        await self.conn.run_many(_INSERT_IDEMPOTENT, [
            (scope, token, created, orjson.dumps(result).decode()) for scope, token, result in rows
        ])

    async def store(self, items: list[Item]) -> None:
        await _store(self, items)

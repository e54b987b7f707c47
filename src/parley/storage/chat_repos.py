"""SQL for the chat data plane: the per-chat sequence, transcript items, credentials and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from parley.domain.codec import from_json, to_json
from parley.domain.contact import Participant
from parley.domain.transcript import Chat, Connection, Item, StoredAttachment
from parley.storage import schema as t
from parley.storage.decoded import Decoded
from parley.storage.statements import Statements, padded, placeholders

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
_CONNECTION = _CONNECTIONS.where(t.connections.c.token_hash == sa.bindparam("hash"))


def item_text(item: Item) -> str:
    """An item's stored JSON: the text of ``to_json(item)``, which orjson writes straight from the dataclass (it
    writes fields, tuples and datetimes as to_json does, an order of magnitude faster, once per SendMessage)."""
    return orjson.dumps(item).decode()


def _chat(row: Any) -> Chat:
    """A chat from its row: (id, instance_id, last_seq, ended, expires_at)."""
    return Chat(row[0], row[1], int(row[2]), bool(row[3]), datetime.fromisoformat(row[4]))


class ChatSql:
    """Mixed into :class:`parley.storage.repos.SqlTx`."""

    conn: Statements
    row_locks: bool
    decoded: Decoded

    async def create_chat(self, chat: Chat) -> None:
        if chat.last_seq:
            raise ValueError("a chat starts with no items: its last_seq is the seq of its last stored item")
        await self.conn.execute(t.chats.insert().values(
            id=chat.id, instance_id=chat.instance_id, ended=chat.ended, expires_at=chat.expires_at.isoformat(),
        ))

    async def get_chat(self, chat_id: str, *, for_update: bool = False) -> Chat | None:
        return (await self.get_chats([chat_id], for_update=for_update)).get(chat_id)

    async def end_chat_row(self, chat_id: str) -> bool:
        """Mark the chat ended; False when it already was (another node or request got there first)."""
        result = await self.conn.execute(
            t.chats.update().where(t.chats.c.id == chat_id, t.chats.c.ended.is_(False)).values(ended=True)
        )
        return bool(result.rowcount)

    async def expiring_chats(self, now: datetime, limit: int) -> list[str]:
        query = (sa.select(t.chats.c.id)
                 .where(t.chats.c.ended.is_(False), t.chats.c.expires_at <= now.isoformat())
                 .limit(limit))
        return [r[0] for r in (await self.conn.execute(query)).all()]

    async def append_items(self, chat_id: str, items: list[Item]) -> list[Item]:
        """Store ``items`` with the next sequence numbers of the chat (its row locked on PostgreSQL; SQLite's
        write transaction already excludes every other writer)."""
        if not items:
            return []
        chat = await self.get_chat(chat_id, for_update=True)
        if chat is None:
            raise LookupError(f"no chat {chat_id} to append items to")
        first = chat.last_seq + 1
        stored = [_with_seq(item, first + i) for i, item in enumerate(items)]
        await self.store_items(stored)
        return stored

    async def get_chats(self, chat_ids: list[str], *, for_update: bool = False) -> dict[str, Chat]:
        """Several chats in one query; with ``for_update`` their rows are locked in id order (no deadlocks)."""
        if not chat_ids:
            return {}
        ids = padded(sorted(set(chat_ids)))
        marks = placeholders(len(ids))
        if for_update and self.row_locks:
            await self.conn.fetch(_LOCK_CHATS.format(marks), ids)
        return {row[0]: _chat(row) for row in await self.conn.fetch(_GET_CHATS.format(marks), ids)}

    async def store_items(self, items: list[Item]) -> None:
        if not items:
            return
        await self.conn.run_many(_INSERT_ITEM, [
            (item.chat_id, item.seq, item.id, item.absolute_time.isoformat(), item_text(item))
            for item in items
        ])

    async def items_after(self, chat_id: str, after_seq: int, limit: int) -> list[Item]:
        rows = (await self.conn.execute(_ITEMS_AFTER, {"chat": chat_id, "seq": after_seq, "limit": limit})).all()
        return [from_json(Item, dict(r[0])) for r in rows]

    async def items_before(self, chat_id: str, before_seq: int, limit: int) -> list[Item]:
        """Up to ``limit`` items with seq < ``before_seq``, newest first."""
        rows = (await self.conn.execute(_ITEMS_BEFORE, {"chat": chat_id, "seq": before_seq, "limit": limit})).all()
        return [from_json(Item, dict(r[0])) for r in rows]

    async def find_item(self, chat_id: str, item_id: str) -> Item | None:
        row = (await self.conn.execute(_FIND_ITEM, {"chat": chat_id, "id": item_id})).first()
        return None if row is None else from_json(Item, dict(row[0]))

    async def seq_at_time(self, chat_id: str, when: datetime, *, forward: bool) -> int | None:
        """The first item at or after ``when`` (forward) or the last at or before it (backward)."""
        col = t.chat_items.c
        if forward:
            query = sa.select(sa.func.min(col.seq)).where(col.chat_id == chat_id, col.absolute_time >= when.isoformat())
        else:
            query = sa.select(sa.func.max(col.seq)).where(col.chat_id == chat_id, col.absolute_time <= when.isoformat())
        value = (await self.conn.execute(query)).scalar()
        return None if value is None else int(value)

    async def insert_connection(self, token_hash: str, connection: Connection) -> None:
        await self.conn.execute(t.connections.insert().values(
            token_hash=token_hash, kind=connection.kind, participant_id=connection.participant_id,
            expires=connection.expires.isoformat(),
        ))

    async def find_connection(self, token_hash: str) -> Connection | None:
        row = (await self.conn.execute(
            sa.select(t.connections).where(t.connections.c.token_hash == token_hash)
        )).first()
        if row is None:
            return None
        return Connection(row.kind, row.participant_id, datetime.fromisoformat(row.expires))

    async def participant_for_connection(self, token_hash: str) -> tuple[Connection, Participant] | None:
        """A credential and the participant it belongs to, in one query."""
        row = (await self.conn.execute(_CONNECTION, {"hash": token_hash})).first()
        if row is None:
            return None
        connection = Connection(row.kind, row.participant_id, datetime.fromisoformat(row.expires))
        return connection, from_json(Participant, dict(row.data))

    async def participants_for_connections(
        self, token_hashes: list[str]
    ) -> dict[str, tuple[Connection, Participant]]:
        """:meth:`participant_for_connection` for several credentials in one query, keyed by token hash."""
        if not token_hashes:
            return {}
        hashes = padded(sorted(set(token_hashes)))
        rows = await self.conn.fetch(_CONNECTIONS_IN.format(placeholders(len(hashes))), hashes)
        return {
            row[0]: (Connection(row[1], row[2], datetime.fromisoformat(row[3])),
                     self.decoded.get(Participant, row[4]))
            for row in rows
        }

    async def delete_expired_connections(self, now: datetime) -> None:
        await self.conn.execute(t.connections.delete().where(t.connections.c.expires < now.isoformat()))

    async def insert_attachment(self, attachment: StoredAttachment) -> None:
        await self.conn.execute(t.attachments.insert().values(
            id=attachment.id, chat_id=attachment.chat_id, data=to_json(attachment)
        ))

    async def update_attachment(self, attachment: StoredAttachment) -> None:
        await self.conn.execute(
            t.attachments.update().where(t.attachments.c.id == attachment.id).values(data=to_json(attachment))
        )

    async def get_attachment(self, attachment_id: str) -> StoredAttachment | None:
        row = (await self.conn.execute(
            sa.select(t.attachments.c.data).where(t.attachments.c.id == attachment_id)
        )).first()
        return None if row is None else from_json(StoredAttachment, dict(row[0]))

    async def attachments_of_chat(self, chat_id: str) -> list[StoredAttachment]:
        rows = (await self.conn.execute(
            sa.select(t.attachments.c.data).where(t.attachments.c.chat_id == chat_id)
        )).all()
        return [from_json(StoredAttachment, dict(r[0])) for r in rows]


def _with_seq(item: Item, seq: int) -> Item:
    from dataclasses import replace

    return replace(item, seq=seq)

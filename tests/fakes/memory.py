"""In-memory fakes of the storage ports: :class:`MemoryStorage` (``parley.service.ports.Storage``) and its
:class:`MemoryUnitOfWork` (``parley.service.repositories.UnitOfWork``), so services run in tests without a database.

They behave as the SQL adapter (``parley.storage``) does wherever the storage contract suite pins it (``tests/storage``
runs on them as on SQLite and PostgreSQL):

* Rows are kept as the SQL tables keep them: the columns the queries filter and order by, beside the document as JSON
  text (``to_json`` / ``from_json``, the round trip of a JSON column). A column is written by the same statements as
  in SQL (an update of an instance rewrites its document, not its alias), every read decodes a new object, and
  nothing a caller holds is stored: no caller can change what is stored.
* Orders are the SQL ones: string columns compare as Python compares ``str`` (both databases compare them byte-wise),
  ties are broken by id, and an order SQL leaves open (a chat's attachments) is the order the rows were added in.
* Primary keys and unique constraints are the tables' own (an instance's id and alias, a resource's id and its name
  per instance and kind when it has one, a chat's (seq) and an item's id, a (scope, ClientToken), …); breaking one
  raises :class:`parley.domain.errors.Duplicate`, as ``SqlStorage`` does, before the statement writes anything.
* Transactions are serialized by one :class:`asyncio.Lock` per :class:`MemoryDatabase`, as SQLite's are, so
  ``for_update`` needs nothing more. A transaction works on a copy of the tables taken when it begins, which becomes
  the database when it commits and is dropped when it raises (all or nothing). ``after_commit`` callbacks run in
  order once the lock is released; one that fails is logged and does not undo the commit (``SqlStorage``'s rules).
  A unit of work refuses to be used once its transaction is over.

Several :class:`MemoryStorage` objects on one :class:`MemoryDatabase` are several nodes on one database.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from parley.domain.agents import AgentSession, Presence
from parley.domain.audit import AuditEvent
from parley.domain.canned import CannedResponse
from parley.domain.codec import from_json, to_json
from parley.domain.contact import CONNECTED, CONNECTING, ENDED, HOLDS_SLOT, QUEUED, Contact, Participant
from parley.domain.errors import Duplicate
from parley.domain.instance import Instance
from parley.domain.resources import Resource, User
from parley.domain.transcript import Chat, Connection, Item, StoredAttachment
from parley.domain.widgets import Widget
from parley.service.repositories import ConnectionHolder

if TYPE_CHECKING:
    from parley.service.ports import Storage
    from parley.service.repositories import UnitOfWork

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Resource)
T = TypeVar("T")

# Segments that are waiting, offered, connected or in after-contact work: what ``Contacts.live`` reads.
LIVE_STATES = frozenset({QUEUED, CONNECTING, CONNECTED, ENDED})


def _text(value: Any) -> str:
    """A document as a JSON column stores it."""
    return orjson.dumps(to_json(value)).decode()


def _load(kind: type[T], text: str) -> T:
    return from_json(kind, orjson.loads(text))


def _violation(statement: str, constraint: str) -> Duplicate:
    """What storage raises for a statement that breaks a primary key or a unique constraint (the constraint named
    for whoever reads a failing test)."""
    return Duplicate(f"{statement}: UNIQUE constraint failed: {constraint}")


def _page(rows: list[T], limit: int) -> list[T]:
    return rows[:max(limit, 0)]


# rows: the columns of each table, documents as JSON text ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _InstanceRow:
    id: str
    alias: str
    created: str
    data: str


@dataclass(frozen=True, slots=True)
class _ResourceRow:
    id: str
    instance_id: str
    kind: str
    name: str | None
    sort_key: str
    data: str


@dataclass(frozen=True, slots=True)
class _ContactRow:
    id: str
    instance_id: str
    initial_contact_id: str
    state: str
    queue_id: str | None
    enqueue_time: str | None
    agent_user_id: str | None
    data: str

    @classmethod
    def of(cls, contact: Contact) -> _ContactRow:
        enqueued = contact.enqueue_time.isoformat() if contact.enqueue_time else None
        return cls(contact.id, contact.instance_id, contact.initial_contact_id, contact.state, contact.queue_id,
                   enqueued, contact.agent_user_id, _text(contact))


@dataclass(frozen=True, slots=True)
class _ParticipantRow:
    id: str
    chat_id: str
    token_hash: str
    data: str


@dataclass(frozen=True, slots=True)
class _ChatRow:
    id: str
    instance_id: str
    ended: bool
    expires_at: str


@dataclass(frozen=True, slots=True)
class _ItemRow:
    chat_id: str
    seq: int
    id: str
    absolute_time: str
    data: str


@dataclass(frozen=True, slots=True)
class _ConnectionRow:
    token_hash: str
    kind: str
    participant_id: str
    expires: str

    def connection(self) -> Connection:
        return Connection(self.kind, self.participant_id, datetime.fromisoformat(self.expires))


@dataclass(frozen=True, slots=True)
class _AttachmentRow:
    id: str
    chat_id: str
    data: str


@dataclass(frozen=True, slots=True)
class _SessionRow:
    token_hash: str
    kind: str
    instance_id: str
    user_id: str
    created: str
    expires: str


@dataclass(frozen=True, slots=True)
class _PresenceRow:
    user_id: str
    instance_id: str
    routable: bool
    idle_since: str
    data: str


@dataclass(frozen=True, slots=True)
class _WidgetRow:
    id: str
    instance_id: str
    name: str
    data: str


@dataclass(frozen=True, slots=True)
class _CannedRow:
    id: str
    instance_id: str
    owner: str  # '' for the instance's shared list, as in SQL
    name: str
    data: str


@dataclass(frozen=True, slots=True)
class _AuditRow:
    seq: int
    instance_id: str
    resource_type: str
    time: str
    data: str  # the event without its seq, which is the row's own number


@dataclass(slots=True)
class _Tables:
    """The whole database. Rows are immutable, so a copy of each table's dict is a snapshot of the database."""

    instances: dict[str, _InstanceRow] = field(default_factory=dict)
    resources: dict[str, _ResourceRow] = field(default_factory=dict)
    contacts: dict[str, _ContactRow] = field(default_factory=dict)
    participants: dict[str, _ParticipantRow] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], str] = field(default_factory=dict)  # (scope, token) -> result as JSON text
    chats: dict[str, _ChatRow] = field(default_factory=dict)
    items: dict[str, tuple[_ItemRow, ...]] = field(default_factory=dict)  # by chat id, in seq order
    item_ids: dict[str, str] = field(default_factory=dict)  # item id -> chat id: an item's id is unique
    connections: dict[str, _ConnectionRow] = field(default_factory=dict)
    attachments: dict[str, _AttachmentRow] = field(default_factory=dict)
    sessions: dict[str, _SessionRow] = field(default_factory=dict)
    agents: dict[str, _PresenceRow] = field(default_factory=dict)
    widgets: dict[str, _WidgetRow] = field(default_factory=dict)
    canned: dict[str, _CannedRow] = field(default_factory=dict)
    audit: dict[int, _AuditRow] = field(default_factory=dict)
    last_audit_seq: int = 0

    def copy(self) -> _Tables:
        copied: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            copied[f.name] = dict(value) if isinstance(value, dict) else value
        return _Tables(**copied)


# repositories -----------------------------------------------------------------------------------------------------


class _Repo:
    """One repository of one unit of work: it reads and writes the unit of work's copy of the tables."""

    __slots__ = ("_uow",)

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> _Tables:
        return self._uow.tables


class MemoryInstances(_Repo):
    """:class:`parley.service.repositories.Instances` in memory."""

    __slots__ = ()

    async def find(self, instance_id: str, *, for_update: bool = False) -> Instance | None:
        row = self._t.instances.get(instance_id)
        return None if row is None else _load(Instance, row.data)

    async def find_by_alias(self, alias: str) -> Instance | None:
        row = next((r for r in self._t.instances.values() if r.alias == alias), None)
        return None if row is None else _load(Instance, row.data)

    async def add(self, instance: Instance) -> None:
        rows = self._t.instances
        if instance.id in rows:
            raise _violation("INSERT INTO instances", "instances.id")
        if any(r.alias == instance.alias for r in rows.values()):
            raise _violation("INSERT INTO instances", "instances.alias")
        rows[instance.id] = _InstanceRow(instance.id, instance.alias, instance.created_time.isoformat(),
                                         _text(instance))

    async def update(self, instance: Instance) -> None:
        rows = self._t.instances
        row = rows.get(instance.id)
        if row is not None:  # the document only: the alias and creation columns stay as they were added
            rows[instance.id] = replace(row, data=_text(instance))

    async def list(self, after: tuple[str, str] | None, limit: int) -> builtins.list[Instance]:
        rows = sorted(self._t.instances.values(), key=lambda r: (r.created, r.id))
        rows = [r for r in rows if after is None or (r.created, r.id) > after]
        return [_load(Instance, r.data) for r in _page(rows, limit)]


class MemoryResources(_Repo):
    """:class:`parley.service.repositories.Resources` in memory: one table, a resource's id unique across kinds."""

    __slots__ = ()

    def _of(self, kind: type[Resource], instance_id: str) -> builtins.list[_ResourceRow]:
        rows = (r for r in self._t.resources.values() if r.instance_id == instance_id and r.kind == kind.KIND)
        return sorted(rows, key=lambda r: (r.sort_key, r.id))

    def _check_name(self, statement: str, instance_id: str, kind: str, name: str | None, own_id: str) -> None:
        if name is not None and any(
            r.instance_id == instance_id and r.kind == kind and r.name == name and r.id != own_id
            for r in self._t.resources.values()
        ):
            raise _violation(statement, "resources.instance_id, resources.kind, resources.name")

    async def find(self, kind: type[R], instance_id: str, resource_id: str) -> R | None:
        row = self._t.resources.get(resource_id)
        if row is None or row.instance_id != instance_id or row.kind != kind.KIND:
            return None
        return _load(kind, row.data)

    async def find_by_name(self, kind: type[R], instance_id: str, name: str) -> R | None:
        row = next((r for r in self._of(kind, instance_id) if r.name == name), None)
        return None if row is None else _load(kind, row.data)

    async def all(self, kind: type[R], instance_id: str) -> builtins.list[R]:
        return [_load(kind, r.data) for r in self._of(kind, instance_id)]

    async def count_users_of_routing_profile(self, instance_id: str, profile_id: str) -> int:
        return sum(1 for r in self._of(User, instance_id)
                   if orjson.loads(r.data).get("routing_profile_id") == profile_id)

    async def add(self, resource: Resource) -> None:
        rows = self._t.resources
        if resource.id in rows:
            raise _violation("INSERT INTO resources", "resources.id")
        self._check_name("INSERT INTO resources", resource.instance_id, resource.KIND, resource.name, resource.id)
        rows[resource.id] = _ResourceRow(resource.id, resource.instance_id, resource.KIND, resource.name,
                                         resource.sort_key, _text(resource))

    async def update(self, resource: Resource) -> None:
        rows = self._t.resources
        row = rows.get(resource.id)
        if row is None or row.kind != resource.KIND:
            return
        self._check_name("UPDATE resources", row.instance_id, row.kind, resource.name, row.id)
        rows[row.id] = replace(row, name=resource.name, sort_key=resource.sort_key, data=_text(resource))

    async def delete(self, resource: Resource) -> None:
        rows = self._t.resources
        row = rows.get(resource.id)
        if row is not None and row.kind == resource.KIND:
            del rows[row.id]

    async def list(self, kind: type[R], instance_id: str, after: tuple[str, str] | None,
                   limit: int) -> builtins.list[R]:
        rows = [r for r in self._of(kind, instance_id) if after is None or (r.sort_key, r.id) > after]
        return [_load(kind, r.data) for r in _page(rows, limit)]


def _in_initiation_order(rows: Iterable[_ContactRow]) -> list[Contact]:
    return sorted((_load(Contact, r.data) for r in rows), key=lambda c: (c.initiation_time, c.id))


class MemoryContacts(_Repo):
    """:class:`parley.service.repositories.Contacts` in memory."""

    __slots__ = ()

    async def find(self, instance_id: str, contact_id: str, *, for_update: bool = False) -> Contact | None:
        row = self._t.contacts.get(contact_id)
        return None if row is None or row.instance_id != instance_id else _load(Contact, row.data)

    async def add(self, contact: Contact) -> None:
        if contact.id in self._t.contacts:
            raise _violation("INSERT INTO contacts", "contacts.id")
        self._t.contacts[contact.id] = _ContactRow.of(contact)

    async def update(self, contact: Contact) -> None:
        if contact.id in self._t.contacts:
            self._t.contacts[contact.id] = _ContactRow.of(contact)

    async def of_chat(self, initial_contact_id: str) -> list[Contact]:
        return _in_initiation_order(r for r in self._t.contacts.values() if r.initial_contact_id == initial_contact_id)

    async def of_chats(self, chat_ids: list[str]) -> list[Contact]:
        wanted = set(chat_ids)
        return _in_initiation_order(r for r in self._t.contacts.values() if r.initial_contact_id in wanted)

    async def of_agent(self, user_id: str) -> list[Contact]:
        return _in_initiation_order(r for r in self._t.contacts.values()
                                    if r.agent_user_id == user_id and r.state in HOLDS_SLOT)

    async def live(self, instance_id: str) -> list[Contact]:
        return _in_initiation_order(r for r in self._t.contacts.values()
                                    if r.instance_id == instance_id and r.state in LIVE_STATES)

    async def in_state(self, instance_id: str | None, state: str, limit: int) -> list[Contact]:
        rows = [r for r in self._t.contacts.values()
                if r.state == state and (instance_id is None or r.instance_id == instance_id)]
        # ORDER BY enqueue_time, id: a segment without an enqueue time first, as SQLite orders NULL
        rows.sort(key=lambda r: (r.enqueue_time is not None, r.enqueue_time or "", r.id))
        return [_load(Contact, r.data) for r in _page(rows, limit)]

    async def slots_in_use(self, instance_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._t.contacts.values():
            if r.instance_id == instance_id and r.agent_user_id is not None and r.state in HOLDS_SLOT:
                counts[r.agent_user_id] = counts.get(r.agent_user_id, 0) + 1
        return counts


class MemoryParticipants(_Repo):
    """:class:`parley.service.repositories.Participants` in memory; a token hash belongs to one participant."""

    __slots__ = ()

    def _check_token(self, statement: str, token_hash: str, own_id: str) -> None:
        if any(r.token_hash == token_hash and r.id != own_id for r in self._t.participants.values()):
            raise _violation(statement, "participants.token_hash")

    async def find(self, participant_id: str) -> Participant | None:
        row = self._t.participants.get(participant_id)
        return None if row is None else _load(Participant, row.data)

    async def find_by_token(self, token_hash: str) -> Participant | None:
        row = next((r for r in self._t.participants.values() if r.token_hash == token_hash), None)
        return None if row is None else _load(Participant, row.data)

    async def add(self, participant: Participant) -> None:
        if participant.id in self._t.participants:
            raise _violation("INSERT INTO participants", "participants.id")
        self._check_token("INSERT INTO participants", participant.token_hash, participant.id)
        self._t.participants[participant.id] = _ParticipantRow(participant.id, participant.chat_id,
                                                               participant.token_hash, _text(participant))

    async def update(self, participant: Participant) -> None:
        row = self._t.participants.get(participant.id)
        if row is None:
            return
        self._check_token("UPDATE participants", participant.token_hash, row.id)
        self._t.participants[row.id] = replace(row, token_hash=participant.token_hash, data=_text(participant))

    async def of_chat(self, chat_id: str) -> list[Participant]:
        return await self.of_chats([chat_id])

    async def of_chats(self, chat_ids: list[str]) -> list[Participant]:
        wanted = set(chat_ids)
        found = (_load(Participant, r.data) for r in self._t.participants.values() if r.chat_id in wanted)
        return sorted(found, key=lambda p: (p.created, p.id))


def _chat(tables: _Tables, chat_id: str) -> Chat | None:
    """A chat with its last seq: the seq of its last item (0 without any)."""
    row = tables.chats.get(chat_id)
    if row is None:
        return None
    items = tables.items.get(chat_id, ())
    return Chat(row.id, row.instance_id, items[-1].seq if items else 0, row.ended,
                datetime.fromisoformat(row.expires_at))


def _store(tables: _Tables, items: list[Item]) -> None:
    """Insert items with the seqs they carry: a (chat, seq) and an item's id are each stored once."""
    new_ids: set[str] = set()
    new_keys: set[tuple[str, int]] = set()
    for item in items:
        key = (item.chat_id, item.seq)
        if key in new_keys or any(r.seq == item.seq for r in tables.items.get(item.chat_id, ())):
            raise _violation("INSERT INTO chat_items", "chat_items.chat_id, chat_items.seq")
        if item.id in new_ids or item.id in tables.item_ids:
            raise _violation("INSERT INTO chat_items", "chat_items.id")
        new_keys.add(key)
        new_ids.add(item.id)
    for item in items:
        row = _ItemRow(item.chat_id, item.seq, item.id, item.absolute_time.isoformat(), _text(item))
        tables.items[item.chat_id] = tuple(sorted((*tables.items.get(item.chat_id, ()), row), key=lambda r: r.seq))
        tables.item_ids[item.id] = item.chat_id


class MemoryChats(_Repo):
    """:class:`parley.service.repositories.Chats` in memory."""

    __slots__ = ()

    def _items(self, chat_id: str) -> tuple[_ItemRow, ...]:
        return self._t.items.get(chat_id, ())

    async def add(self, chat: Chat) -> None:
        if chat.last_seq:
            raise ValueError("a chat starts with no items: its last_seq is the seq of its last stored item")
        if chat.id in self._t.chats:
            raise _violation("INSERT INTO chats", "chats.id")
        self._t.chats[chat.id] = _ChatRow(chat.id, chat.instance_id, chat.ended, chat.expires_at.isoformat())

    async def find(self, chat_id: str, *, for_update: bool = False) -> Chat | None:
        return _chat(self._t, chat_id)

    async def find_many(self, chat_ids: list[str]) -> dict[str, Chat]:
        found = {chat_id: _chat(self._t, chat_id) for chat_id in sorted(set(chat_ids))}
        return {chat_id: chat for chat_id, chat in found.items() if chat is not None}

    async def lock_with(self, participant: Participant) -> tuple[Participant, Chat] | None:
        chat = _chat(self._t, participant.chat_id)
        row = self._t.participants.get(participant.id)
        if chat is None or row is None:
            return None
        return _load(Participant, row.data), chat

    async def end(self, chat_id: str) -> bool:
        row = self._t.chats.get(chat_id)
        if row is None or row.ended:
            return False
        self._t.chats[chat_id] = replace(row, ended=True)
        return True

    async def expiring(self, now: datetime, limit: int) -> list[str]:
        due = [r for r in self._t.chats.values() if not r.ended and r.expires_at <= now.isoformat()]
        return [r.id for r in _page(sorted(due, key=lambda r: r.expires_at), limit)]

    async def append(self, chat_id: str, items: list[Item]) -> list[Item]:
        if not items:
            return []
        chat = _chat(self._t, chat_id)
        if chat is None:
            raise LookupError(f"no chat {chat_id} to append items to")
        stored = [replace(item, seq=chat.last_seq + 1 + i) for i, item in enumerate(items)]
        _store(self._t, stored)
        return stored

    async def items_after(self, chat_id: str, after_seq: int, limit: int) -> list[Item]:
        rows = [r for r in self._items(chat_id) if r.seq > after_seq]
        return [_load(Item, r.data) for r in _page(rows, limit)]

    async def items_before(self, chat_id: str, before_seq: int, limit: int) -> list[Item]:
        rows = [r for r in reversed(self._items(chat_id)) if r.seq < before_seq]
        return [_load(Item, r.data) for r in _page(rows, limit)]

    async def find_item(self, chat_id: str, item_id: str) -> Item | None:
        if self._t.item_ids.get(item_id) != chat_id:
            return None
        row = next(r for r in self._items(chat_id) if r.id == item_id)
        return _load(Item, row.data)

    async def seq_at_time(self, chat_id: str, when: datetime, *, forward: bool) -> int | None:
        at = when.isoformat()  # compared as the SQL compares the stored ISO-8601 text
        if forward:
            return min((r.seq for r in self._items(chat_id) if r.absolute_time >= at), default=None)
        return max((r.seq for r in self._items(chat_id) if r.absolute_time <= at), default=None)


class MemoryConnections(_Repo):
    """:class:`parley.service.repositories.Connections` in memory."""

    __slots__ = ()

    async def add(self, token_hash: str, connection: Connection) -> None:
        if token_hash in self._t.connections:
            raise _violation("INSERT INTO connections", "connections.token_hash")
        self._t.connections[token_hash] = _ConnectionRow(token_hash, connection.kind, connection.participant_id,
                                                         connection.expires.isoformat())

    async def find(self, token_hash: str) -> Connection | None:
        row = self._t.connections.get(token_hash)
        return None if row is None else row.connection()

    async def find_with_participant(self, token_hash: str) -> tuple[Connection, Participant] | None:
        row = self._t.connections.get(token_hash)
        participant = None if row is None else self._t.participants.get(row.participant_id)
        if row is None or participant is None:  # an inner join
            return None
        return row.connection(), _load(Participant, participant.data)

    async def delete_expired(self, now: datetime) -> None:
        cutoff = now.isoformat()
        for row in [r for r in self._t.connections.values() if r.expires < cutoff]:
            del self._t.connections[row.token_hash]


class MemoryAttachments(_Repo):
    """:class:`parley.service.repositories.Attachments` in memory."""

    __slots__ = ()

    async def find(self, attachment_id: str) -> StoredAttachment | None:
        row = self._t.attachments.get(attachment_id)
        return None if row is None else _load(StoredAttachment, row.data)

    async def add(self, attachment: StoredAttachment) -> None:
        if attachment.id in self._t.attachments:
            raise _violation("INSERT INTO attachments", "attachments.id")
        self._t.attachments[attachment.id] = _AttachmentRow(attachment.id, attachment.chat_id, _text(attachment))

    async def update(self, attachment: StoredAttachment) -> None:
        row = self._t.attachments.get(attachment.id)
        if row is not None:
            self._t.attachments[row.id] = replace(row, data=_text(attachment))

    async def of_chat(self, chat_id: str) -> list[StoredAttachment]:
        return [_load(StoredAttachment, r.data) for r in self._t.attachments.values() if r.chat_id == chat_id]


class MemoryIdempotency(_Repo):
    """:class:`parley.service.repositories.Idempotency` in memory: one answer per (scope, token)."""

    __slots__ = ()

    async def find(self, scope: str, token: str) -> dict[str, Any] | None:
        text = self._t.idempotency.get((scope, token))
        return None if text is None else dict(orjson.loads(text))

    async def save(self, scope: str, token: str, result: dict[str, Any]) -> None:
        if (scope, token) in self._t.idempotency:
            raise _violation("INSERT INTO idempotency", "idempotency.scope, idempotency.token")
        self._t.idempotency[(scope, token)] = orjson.dumps(result).decode()


class MemoryAppends(_Repo):
    """:class:`parley.service.repositories.Appends` in memory (the group commit's batched reads and writes)."""

    __slots__ = ()

    async def lock_writers(self, token_hashes: list[str]) -> dict[str, ConnectionHolder]:
        tables = self._t
        holders: dict[str, ConnectionHolder] = {}
        for token_hash in sorted(set(token_hashes)):
            row = tables.connections.get(token_hash)
            person = None if row is None else tables.participants.get(row.participant_id)
            if row is None or person is None:  # unknown tokens, and tokens whose participant is gone
                continue
            participant = _load(Participant, person.data)
            holders[token_hash] = ConnectionHolder(row.connection(), participant, _chat(tables, participant.chat_id))
        return holders

    async def find_answers(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        answers = self._t.idempotency
        return {key: dict(orjson.loads(answers[key])) for key in sorted(set(keys)) if key in answers}

    async def save_answers(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        answers = self._t.idempotency
        keys = [(scope, token) for scope, token, _result in rows]
        if len(set(keys)) < len(keys) or any(key in answers for key in keys):
            raise _violation("INSERT INTO idempotency", "idempotency.scope, idempotency.token")
        for scope, token, result in rows:
            answers[(scope, token)] = orjson.dumps(result).decode()

    async def store(self, items: list[Item]) -> None:
        _store(self._t, items)


class MemoryPresences(_Repo):
    """:class:`parley.service.repositories.Presences` in memory."""

    __slots__ = ()

    async def find(self, user_id: str, *, for_update: bool = False) -> Presence | None:
        row = self._t.agents.get(user_id)
        return None if row is None else _load(Presence, row.data)

    async def save(self, presence: Presence) -> None:
        self._t.agents[presence.user_id] = _PresenceRow(presence.user_id, presence.instance_id, presence.routable,
                                                        presence.idle_since.isoformat(), _text(presence))

    async def routable(self, instance_id: str) -> list[str]:
        rows = [r for r in self._t.agents.values() if r.instance_id == instance_id and r.routable]
        return [r.user_id for r in sorted(rows, key=lambda r: (r.idle_since, r.user_id))]

    async def of_instance(self, instance_id: str) -> list[Presence]:
        found = (_load(Presence, r.data) for r in self._t.agents.values() if r.instance_id == instance_id)
        return sorted(found, key=lambda p: p.user_id)


class MemorySessions(_Repo):
    """:class:`parley.service.repositories.Sessions` in memory."""

    __slots__ = ()

    async def add(self, token_hash: str, session: AgentSession) -> None:
        if token_hash in self._t.sessions:
            raise _violation("INSERT INTO agent_sessions", "agent_sessions.token_hash")
        self._t.sessions[token_hash] = _SessionRow(token_hash, session.kind, session.instance_id, session.user_id,
                                                   session.created.isoformat(), session.expires.isoformat())

    async def find(self, token_hash: str) -> AgentSession | None:
        row = self._t.sessions.get(token_hash)
        if row is None:
            return None
        return AgentSession(row.kind, row.instance_id, row.user_id, datetime.fromisoformat(row.created),
                            datetime.fromisoformat(row.expires))

    async def delete(self, token_hash: str) -> None:
        self._t.sessions.pop(token_hash, None)

    async def delete_expired(self, now: datetime) -> None:
        cutoff = now.isoformat()
        for row in [r for r in self._t.sessions.values() if r.expires <= cutoff]:
            del self._t.sessions[row.token_hash]


class MemoryWidgets(_Repo):
    """:class:`parley.service.repositories.Widgets` in memory; a widget's name is unique in its instance."""

    __slots__ = ()

    def _check_name(self, statement: str, instance_id: str, name: str, own_id: str) -> None:
        if any(r.instance_id == instance_id and r.name == name and r.id != own_id for r in self._t.widgets.values()):
            raise _violation(statement, "widgets.instance_id, widgets.name")

    async def find(self, widget_id: str) -> Widget | None:
        row = self._t.widgets.get(widget_id)
        return None if row is None else _load(Widget, row.data)

    async def find_by_name(self, instance_id: str, name: str) -> Widget | None:
        row = next((r for r in self._t.widgets.values() if r.instance_id == instance_id and r.name == name), None)
        return None if row is None else _load(Widget, row.data)

    async def all(self, instance_id: str) -> list[Widget]:
        rows = sorted((r for r in self._t.widgets.values() if r.instance_id == instance_id),
                      key=lambda r: (r.name, r.id))
        return [_load(Widget, r.data) for r in rows]

    async def add(self, widget: Widget) -> None:
        if widget.id in self._t.widgets:
            raise _violation("INSERT INTO widgets", "widgets.id")
        self._check_name("INSERT INTO widgets", widget.instance_id, widget.name, widget.id)
        self._t.widgets[widget.id] = _WidgetRow(widget.id, widget.instance_id, widget.name, _text(widget))

    async def update(self, widget: Widget) -> None:
        row = self._t.widgets.get(widget.id)
        if row is None:
            return
        self._check_name("UPDATE widgets", row.instance_id, widget.name, row.id)
        self._t.widgets[row.id] = replace(row, name=widget.name, data=_text(widget))

    async def delete(self, widget_id: str) -> bool:
        return self._t.widgets.pop(widget_id, None) is not None


class MemoryCanned(_Repo):
    """:class:`parley.service.repositories.CannedResponses` in memory; a name is unique in its list."""

    __slots__ = ()

    def _list(self, instance_id: str, owner_user_id: str | None) -> list[_CannedRow]:
        owner = owner_user_id or ""
        rows = (r for r in self._t.canned.values() if r.instance_id == instance_id and r.owner == owner)
        return sorted(rows, key=lambda r: (r.name, r.id))

    def _check_name(self, statement: str, instance_id: str, owner: str, name: str, own_id: str) -> None:
        if any(r.instance_id == instance_id and r.owner == owner and r.name == name and r.id != own_id
               for r in self._t.canned.values()):
            raise _violation(statement, "canned_responses.instance_id, canned_responses.owner, canned_responses.name")

    async def find(self, response_id: str) -> CannedResponse | None:
        row = self._t.canned.get(response_id)
        return None if row is None else _load(CannedResponse, row.data)

    async def find_by_name(self, instance_id: str, owner_user_id: str | None, name: str) -> CannedResponse | None:
        row = next((r for r in self._list(instance_id, owner_user_id) if r.name == name), None)
        return None if row is None else _load(CannedResponse, row.data)

    async def all(self, instance_id: str, owner_user_id: str | None) -> list[CannedResponse]:
        return [_load(CannedResponse, r.data) for r in self._list(instance_id, owner_user_id)]

    async def count(self, instance_id: str, owner_user_id: str | None) -> int:
        return len(self._list(instance_id, owner_user_id))

    async def add(self, response: CannedResponse) -> None:
        if response.id in self._t.canned:
            raise _violation("INSERT INTO canned_responses", "canned_responses.id")
        owner = response.owner_user_id or ""
        self._check_name("INSERT INTO canned_responses", response.instance_id, owner, response.name, response.id)
        self._t.canned[response.id] = _CannedRow(response.id, response.instance_id, owner, response.name,
                                                 _text(response))

    async def update(self, response: CannedResponse) -> None:
        row = self._t.canned.get(response.id)
        if row is None:
            return
        self._check_name("UPDATE canned_responses", row.instance_id, row.owner, response.name, row.id)
        self._t.canned[row.id] = replace(row, name=response.name, data=_text(response))

    async def delete(self, response_id: str) -> bool:
        return self._t.canned.pop(response_id, None) is not None


class MemoryAudit(_Repo):
    """:class:`parley.service.repositories.AuditTrail` in memory: events numbered 1, 2, … as they are added."""

    __slots__ = ()

    async def add(self, event: AuditEvent) -> None:
        tables = self._t
        data = to_json(event)
        del data["seq"]  # the row's own number
        tables.last_audit_seq += 1
        tables.audit[tables.last_audit_seq] = _AuditRow(tables.last_audit_seq, event.instance_id, event.resource_type,
                                                        event.time.isoformat(), orjson.dumps(data).decode())

    async def list(self, instance_id: str, resource_type: str | None, before_seq: int | None,
                   limit: int) -> builtins.list[AuditEvent]:
        rows = [r for r in self._t.audit.values()
                if r.instance_id == instance_id and (resource_type is None or r.resource_type == resource_type)
                and (before_seq is None or r.seq < before_seq)]
        rows.sort(key=lambda r: r.seq, reverse=True)
        return [replace(_load(AuditEvent, r.data), seq=r.seq) for r in _page(rows, limit)]


# the unit of work and the storage ---------------------------------------------------------------------------------


class MemoryUnitOfWork:
    """Implements :class:`parley.service.repositories.UnitOfWork` over a copy of the tables, which the storage
    makes the database's when the transaction commits."""

    def __init__(self, tables: _Tables) -> None:
        self._tables = tables
        self._open = True
        self.callbacks: list[Callable[[], Awaitable[None]]] = []
        self.instances = MemoryInstances(self)
        self.resources = MemoryResources(self)
        self.contacts = MemoryContacts(self)
        self.participants = MemoryParticipants(self)
        self.chats = MemoryChats(self)
        self.connections = MemoryConnections(self)
        self.attachments = MemoryAttachments(self)
        self.idempotency = MemoryIdempotency(self)
        self.appends = MemoryAppends(self)
        self.presences = MemoryPresences(self)
        self.sessions = MemorySessions(self)
        self.widgets = MemoryWidgets(self)
        self.canned = MemoryCanned(self)
        self.audit = MemoryAudit(self)

    @property
    def tables(self) -> _Tables:
        if not self._open:
            raise RuntimeError("a unit of work was used after its transaction ended")
        return self._tables

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callbacks.append(callback)

    def close(self) -> _Tables:
        """End the unit of work (its repositories refuse to work from now on); the tables as it left them."""
        self._open = False
        return self._tables


class MemoryDatabase:
    """The committed tables and the lock that serializes the transactions of every storage (node) on them."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.lock = asyncio.Lock()


class MemoryStorage:
    """Implements :class:`parley.service.ports.Storage` in memory; ``MemoryStorage(other.database)`` is another
    node on the same database."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.database = database if database is not None else MemoryDatabase()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryUnitOfWork]:
        async with self.database.lock:
            uow = MemoryUnitOfWork(self.database.tables.copy())
            try:
                yield uow
            except BaseException:
                uow.close()  # rolled back: its copy of the tables is dropped
                raise
            self.database.tables = uow.close()  # committed
        for callback in uow.callbacks:
            try:
                await callback()
            except Exception:
                log.exception("after-commit callback failed")

    async def close(self) -> None:
        """Nothing to release: the tables stay, for the other storages on the same database."""


if TYPE_CHECKING:

    def _implements_the_ports(storage: MemoryStorage, uow: MemoryUnitOfWork) -> tuple[Storage, UnitOfWork]:
        """Where mypy checks that the fakes are what the services take."""
        return storage, uow

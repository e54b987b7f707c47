"""SQL for every port method of :class:`parley.service.ports.Tx`, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa

from parley.domain.clock import utcnow
from parley.domain.codec import from_json, to_json
from parley.domain.contact import Contact, Participant
from parley.domain.instance import Instance
from parley.domain.resources import Resource
from parley.storage import schema as t
from parley.storage.agent_repos import AgentSql
from parley.storage.audit_repos import AuditSql
from parley.storage.auth_repos import AuthSql
from parley.storage.canned_repos import CannedSql
from parley.storage.chat_repos import ChatSql
from parley.storage.decoded import Decoded
from parley.storage.realtime_repos import RealtimeSql
from parley.storage.statements import Statements, json_value, padded, placeholders
from parley.storage.widget_repos import WidgetSql

R = TypeVar("R", bound=Resource)
D = TypeVar("D")

# Statements of the hot paths, built once (see chat_repos).
_idem = t.idempotency.c
_FIND_IDEMPOTENT = sa.select(_idem.result).where(_idem.scope == sa.bindparam("scope"),
                                                 _idem.token == sa.bindparam("token"))
# The group commit's lookup of ClientTokens, an OR of primary-key probes (plain SQL, see statements.py).
# ``scope IN (...) AND token IN (...)`` probes every scope with every token (100 pairs: 10,000 probes, 6 ms on
# SQLite, the largest statement of a group commit), and SQLite answers a row-value ``IN (VALUES ...)`` by a scan.
_FIND_IDEMPOTENT_MANY = "SELECT scope, token, result FROM idempotency WHERE "
_IDEMPOTENT_PAIR = "(scope = ? AND token = ?)"
_INSERT_IDEMPOTENT = "INSERT INTO idempotency (scope, token, created, result) VALUES (?, ?, ?, ?)"
_GET_PARTICIPANTS_SQL = "SELECT CAST(data AS TEXT) FROM participants WHERE id IN ({})"
_participants = t.participants.c
_GET_PARTICIPANT = sa.select(_participants.data).where(_participants.id == sa.bindparam("id"))
_PARTICIPANT_BY_TOKEN = sa.select(_participants.data).where(_participants.token_hash == sa.bindparam("hash"))
_instances = t.instances.c
_GET_INSTANCE_LOCKED = sa.select(_instances.data).where(_instances.id == sa.bindparam("id")).with_for_update()
_res = t.resources.c
_RESOURCES = sa.select(_res.data).where(_res.instance_id == sa.bindparam("instance"), _res.kind == sa.bindparam("kind"))
_RESOURCE_BY_NAME = _RESOURCES.where(_res.name == sa.bindparam("name"))
_ALL_RESOURCES = _RESOURCES.order_by(_res.sort_key, _res.id)
_USERS_OF_PROFILE = sa.select(sa.func.count()).select_from(t.resources).where(
    _res.instance_id == sa.bindparam("instance"), _res.kind == "user",
    _res.data["routing_profile_id"].as_string() == sa.bindparam("profile"),
)
_contacts = t.contacts.c
_GET_CONTACT = sa.select(_contacts.data).where(_contacts.id == sa.bindparam("id"),
                                               _contacts.instance_id == sa.bindparam("instance"))
_GET_CONTACT_LOCKED = _GET_CONTACT.with_for_update()
# Documents snapshots and routing read again and again come back as text, decoded through Decoded.
_CONTACTS_OF_CHAT = "SELECT CAST(data AS TEXT) FROM contacts WHERE initial_contact_id = ?"
_PARTICIPANTS_OF_CHAT = "SELECT CAST(data AS TEXT) FROM participants WHERE chat_id = ?"
_GET_RESOURCE = "SELECT CAST(data AS TEXT) FROM resources WHERE instance_id = ? AND kind = ? AND id = ?"
_GET_INSTANCE = "SELECT CAST(data AS TEXT) FROM instances WHERE id = ?"


class SqlTx(ChatSql, AuthSql, AgentSql, WidgetSql, CannedSql, RealtimeSql, AuditSql):
    """One open transaction: the repositories' statements on one connection."""

    def __init__(self, conn: Statements, *, row_locks: bool, decoded: Decoded | None = None) -> None:
        self.conn = conn
        self.row_locks = row_locks
        self.decoded = decoded or Decoded(0)
        self.callbacks: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callbacks.append(callback)

    async def _one_data(self, query: sa.Select[Any], params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        row = (await self.conn.execute(query, params)).first()
        return None if row is None else dict(row[0])

    # instances -------------------------------------------------------------------------------------
    async def get_instance(self, instance_id: str) -> Instance | None:
        rows = await self.conn.fetch(_GET_INSTANCE, [instance_id])
        return self.decoded.get(Instance, rows[0][0]) if rows else None

    async def _decoded(self, kind: type[D], sql: str, parameters: list[Any]) -> list[D]:
        """The documents a plain-SQL query returns as text (one column), decoded through the cache."""
        return [self.decoded.get(kind, row[0]) for row in await self.conn.fetch(sql, parameters)]

    async def get_instance_for_update(self, instance_id: str) -> Instance | None:
        if not self.row_locks:
            return await self.get_instance(instance_id)
        data = await self._one_data(_GET_INSTANCE_LOCKED, {"id": instance_id})
        return None if data is None else from_json(Instance, data)

    async def find_instance_by_alias(self, alias: str) -> Instance | None:
        data = await self._one_data(sa.select(t.instances.c.data).where(t.instances.c.alias == alias))
        return None if data is None else from_json(Instance, data)

    async def list_instances(self, after: tuple[str, str] | None, limit: int) -> list[Instance]:
        query = sa.select(t.instances.c.data).order_by(t.instances.c.created, t.instances.c.id).limit(limit)
        if after is not None:
            query = query.where(sa.tuple_(t.instances.c.created, t.instances.c.id) > sa.tuple_(*after))
        rows = (await self.conn.execute(query)).all()
        return [from_json(Instance, dict(r[0])) for r in rows]

    async def insert_instance(self, instance: Instance) -> None:
        await self.conn.execute(
            t.instances.insert().values(
                id=instance.id, alias=instance.alias, created=instance.created_time.isoformat(),
                data=to_json(instance),
            )
        )

    async def update_instance(self, instance: Instance) -> None:
        await self.conn.execute(
            t.instances.update().where(t.instances.c.id == instance.id).values(data=to_json(instance))
        )

    # configuration resources -----------------------------------------------------------------------
    async def get_resource(self, kind: type[R], instance_id: str, resource_id: str) -> R | None:
        found = await self._decoded(kind, _GET_RESOURCE, [instance_id, kind.KIND, resource_id])
        return found[0] if found else None

    async def find_resource_by_name(self, kind: type[R], instance_id: str, name: str) -> R | None:
        data = await self._one_data(_RESOURCE_BY_NAME, {"instance": instance_id, "kind": kind.KIND, "name": name})
        return None if data is None else from_json(kind, data)

    async def list_resources(
        self, kind: type[R], instance_id: str, after: tuple[str, str] | None, limit: int
    ) -> list[R]:
        query = _ALL_RESOURCES
        if after is not None:
            query = query.where(sa.tuple_(_res.sort_key, _res.id) > sa.tuple_(*after))
        rows = (await self.conn.execute(query.limit(limit), {"instance": instance_id, "kind": kind.KIND})).all()
        return [from_json(kind, dict(r[0])) for r in rows]

    async def all_resources(self, kind: type[R], instance_id: str) -> list[R]:
        rows = (await self.conn.execute(_ALL_RESOURCES, {"instance": instance_id, "kind": kind.KIND})).all()
        return [from_json(kind, dict(r[0])) for r in rows]

    async def count_users_of_routing_profile(self, instance_id: str, profile_id: str) -> int:
        # Counted in the database from the users' documents: no user is read into Python.
        row = (await self.conn.execute(_USERS_OF_PROFILE, {"instance": instance_id, "profile": profile_id})).first()
        return int(row[0]) if row is not None else 0

    async def insert_resource(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.insert().values(
                id=resource.id, instance_id=resource.instance_id, kind=resource.KIND, name=resource.name,
                sort_key=resource.sort_key, data=to_json(resource),
            )
        )

    async def update_resource(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.update()
            .where(t.resources.c.id == resource.id, t.resources.c.kind == resource.KIND)
            .values(name=resource.name, sort_key=resource.sort_key, data=to_json(resource))
        )

    async def delete_resource(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.delete().where(t.resources.c.id == resource.id, t.resources.c.kind == resource.KIND)
        )

    # contacts and participants ---------------------------------------------------------------------
    async def get_contact(self, instance_id: str, contact_id: str) -> Contact | None:
        data = await self._one_data(_GET_CONTACT, {"id": contact_id, "instance": instance_id})
        return None if data is None else from_json(Contact, data)

    async def get_contact_for_update(self, instance_id: str, contact_id: str) -> Contact | None:
        query = _GET_CONTACT_LOCKED if self.row_locks else _GET_CONTACT
        data = await self._one_data(query, {"id": contact_id, "instance": instance_id})
        return None if data is None else from_json(Contact, data)

    def _contact_columns(self, contact: Contact) -> dict[str, Any]:
        return {
            "instance_id": contact.instance_id, "initial_contact_id": contact.initial_contact_id,
            "state": contact.state, "queue_id": contact.queue_id,
            "enqueue_time": contact.enqueue_time.isoformat() if contact.enqueue_time else None,
            "agent_user_id": contact.agent_user_id,
            "data": to_json(contact),
        }

    async def insert_contact(self, contact: Contact) -> None:
        await self.conn.execute(t.contacts.insert().values(id=contact.id, **self._contact_columns(contact)))

    async def update_contact(self, contact: Contact) -> None:
        await self.conn.execute(
            t.contacts.update().where(t.contacts.c.id == contact.id).values(**self._contact_columns(contact))
        )

    async def contacts_of_chat(self, initial_contact_id: str) -> list[Contact]:
        contacts = await self._decoded(Contact, _CONTACTS_OF_CHAT, [initial_contact_id])
        return sorted(contacts, key=lambda c: (c.initiation_time, c.id))  # ties: a stable, backend-free order

    async def insert_participant(self, participant: Participant) -> None:
        await self.conn.execute(
            t.participants.insert().values(
                id=participant.id, chat_id=participant.chat_id, token_hash=participant.token_hash,
                data=to_json(participant),
            )
        )

    async def update_participant(self, participant: Participant) -> None:
        await self.conn.execute(
            t.participants.update()
            .where(t.participants.c.id == participant.id)
            .values(token_hash=participant.token_hash, data=to_json(participant))
        )

    async def participants_of_chat(self, chat_id: str) -> list[Participant]:
        participants = await self._decoded(Participant, _PARTICIPANTS_OF_CHAT, [chat_id])
        return sorted(participants, key=lambda p: (p.created, p.id))

    async def get_participant(self, participant_id: str) -> Participant | None:
        data = await self._one_data(_GET_PARTICIPANT, {"id": participant_id})
        return None if data is None else from_json(Participant, data)

    async def get_participants(self, participant_ids: list[str]) -> dict[str, Participant]:
        if not participant_ids:
            return {}
        ids = padded(sorted(set(participant_ids)))
        found = await self._decoded(Participant, _GET_PARTICIPANTS_SQL.format(placeholders(len(ids))), ids)
        return {p.id: p for p in found}

    async def find_participant_by_token(self, token_hash: str) -> Participant | None:
        data = await self._one_data(_PARTICIPANT_BY_TOKEN, {"hash": token_hash})
        return None if data is None else from_json(Participant, data)

    # idempotency -----------------------------------------------------------------------------------
    async def find_idempotent(self, scope: str, token: str) -> dict[str, Any] | None:
        return await self._one_data(_FIND_IDEMPOTENT, {"scope": scope, "token": token})

    async def find_idempotent_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Several (scope, token) lookups in one query, each pair a primary-key probe."""
        if not keys:
            return {}
        pairs = padded(sorted(set(keys)))
        rows = await self.conn.fetch(_FIND_IDEMPOTENT_MANY + " OR ".join([_IDEMPOTENT_PAIR] * len(pairs)),
                                     [value for pair in pairs for value in pair])
        return {(r[0], r[1]): dict(json_value(r[2])) for r in rows}

    async def save_idempotent_many(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        if not rows:
            return
        created = utcnow().isoformat()
        await self.conn.run_many(_INSERT_IDEMPOTENT, [
            (scope, token, created, orjson.dumps(result).decode()) for scope, token, result in rows
        ])

    async def save_idempotent(self, scope: str, token: str, result: dict[str, Any]) -> None:
        await self.conn.execute(
            t.idempotency.insert().values(
                scope=scope, token=token, created=utcnow().isoformat(), result=result
            )
        )

"""SQL of the configuration repositories: instances, their resources, and the idempotency record."""

from __future__ import annotations

import builtins
from typing import Any, TypeVar

import sqlalchemy as sa

from parley.domain.clock import utcnow
from parley.domain.codec import from_json, to_json
from parley.domain.instance import Instance
from parley.domain.resources import Resource
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

R = TypeVar("R", bound=Resource)

# Statements of the hot paths, built once (see chat_repos).
_idem = t.idempotency.c
_FIND_IDEMPOTENT = sa.select(_idem.result).where(_idem.scope == sa.bindparam("scope"),
                                                 _idem.token == sa.bindparam("token"))
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
# Documents read again and again come back as text, decoded through Decoded.
_GET_RESOURCE = "SELECT CAST(data AS TEXT) FROM resources WHERE instance_id = ? AND kind = ? AND id = ?"
_GET_INSTANCE = "SELECT CAST(data AS TEXT) FROM instances WHERE id = ?"


class InstanceSql(SqlRepo):
    """:class:`parley.service.repositories.Instances` in SQL."""

    __slots__ = ()

    async def find(self, instance_id: str, *, for_update: bool = False) -> Instance | None:
        if for_update and self.row_locks:
            data = await self._one_data(_GET_INSTANCE_LOCKED, {"id": instance_id})
            return None if data is None else from_json(Instance, data)
        rows = await self.conn.fetch(_GET_INSTANCE, [instance_id])
        return self.decoded.get(Instance, rows[0][0]) if rows else None

    async def find_by_alias(self, alias: str) -> Instance | None:
        data = await self._one_data(sa.select(t.instances.c.data).where(t.instances.c.alias == alias))
        return None if data is None else from_json(Instance, data)

    async def list(self, after: tuple[str, str] | None, limit: int) -> list[Instance]:
        query = sa.select(t.instances.c.data).order_by(t.instances.c.created, t.instances.c.id).limit(limit)
        if after is not None:
            query = query.where(sa.tuple_(t.instances.c.created, t.instances.c.id) > sa.tuple_(*after))
        rows = (await self.conn.execute(query)).all()
        return [from_json(Instance, dict(r[0])) for r in rows]

    async def add(self, instance: Instance) -> None:
        await self.conn.execute(
            t.instances.insert().values(
                id=instance.id, alias=instance.alias, created=instance.created_time.isoformat(),
                data=to_json(instance),
            )
        )

    async def update(self, instance: Instance) -> None:
        await self.conn.execute(
            t.instances.update().where(t.instances.c.id == instance.id).values(data=to_json(instance))
        )


class ResourceSql(SqlRepo):
    """:class:`parley.service.repositories.Resources` in SQL: one table, keyed by (instance, kind, id)."""

    __slots__ = ()

    async def find(self, kind: type[R], instance_id: str, resource_id: str) -> R | None:
        found = await self._decoded(kind, _GET_RESOURCE, [instance_id, kind.KIND, resource_id])
        return found[0] if found else None

    async def find_by_name(self, kind: type[R], instance_id: str, name: str) -> R | None:
        data = await self._one_data(_RESOURCE_BY_NAME, {"instance": instance_id, "kind": kind.KIND, "name": name})
        return None if data is None else from_json(kind, data)

    async def list(self, kind: type[R], instance_id: str, after: tuple[str, str] | None, limit: int) -> list[R]:
        query = _ALL_RESOURCES
        if after is not None:
            query = query.where(sa.tuple_(_res.sort_key, _res.id) > sa.tuple_(*after))
        rows = (await self.conn.execute(query.limit(limit), {"instance": instance_id, "kind": kind.KIND})).all()
        return [from_json(kind, dict(r[0])) for r in rows]

    async def all(self, kind: type[R], instance_id: str) -> builtins.list[R]:
        rows = (await self.conn.execute(_ALL_RESOURCES, {"instance": instance_id, "kind": kind.KIND})).all()
        return [from_json(kind, dict(r[0])) for r in rows]

    async def count_users_of_routing_profile(self, instance_id: str, profile_id: str) -> int:
        # Counted in the database from the users' documents: no user is read into Python.
        row = (await self.conn.execute(_USERS_OF_PROFILE, {"instance": instance_id, "profile": profile_id})).first()
        return int(row[0]) if row is not None else 0

    async def add(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.insert().values(
                id=resource.id, instance_id=resource.instance_id, kind=resource.KIND, name=resource.name,
                sort_key=resource.sort_key, data=to_json(resource),
            )
        )

    async def update(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.update()
            .where(t.resources.c.id == resource.id, t.resources.c.kind == resource.KIND)
            .values(name=resource.name, sort_key=resource.sort_key, data=to_json(resource))
        )

    async def delete(self, resource: Resource) -> None:
        await self.conn.execute(
            t.resources.delete().where(t.resources.c.id == resource.id, t.resources.c.kind == resource.KIND)
        )


class IdempotencySql(SqlRepo):
    """:class:`parley.service.repositories.Idempotency` in SQL (the group commit's batched twin is
    :class:`parley.storage.chat_repos.AppendSql`)."""

    __slots__ = ()

    async def find(self, scope: str, token: str) -> dict[str, Any] | None:
        return await self._one_data(_FIND_IDEMPOTENT, {"scope": scope, "token": token})

    async def save(self, scope: str, token: str, result: dict[str, Any]) -> None:
        await self.conn.execute(
            t.idempotency.insert().values(
                scope=scope, token=token, created=utcnow().isoformat(), result=result
            )
        )

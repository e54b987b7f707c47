"""SQL for canned responses: one row each, the reply as a JSON document, its name unique in its list (the
instance's shared list has the empty ``owner``, an agent's own list the agent's user id)."""

from __future__ import annotations

import sqlalchemy as sa

from parley.domain.canned import CannedResponse
from parley.domain.codec import from_json, to_json
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

_canned = t.canned_responses.c
_GET = sa.select(_canned.data).where(_canned.id == sa.bindparam("id"))
_OF_LIST = sa.select(_canned.data).where(_canned.instance_id == sa.bindparam("instance"),
                                         _canned.owner == sa.bindparam("owner"))
_BY_NAME = _OF_LIST.where(_canned.name == sa.bindparam("name"))
_LIST = _OF_LIST.order_by(_canned.name, _canned.id)
_COUNT = sa.select(sa.func.count()).select_from(t.canned_responses).where(
    _canned.instance_id == sa.bindparam("instance"), _canned.owner == sa.bindparam("owner"))


def _owner(owner_user_id: str | None) -> str:
    return owner_user_id or ""


class CannedSql(SqlRepo):
    """:class:`parley.service.repositories.CannedResponses` in SQL."""

    __slots__ = ()

    async def find(self, response_id: str) -> CannedResponse | None:
        row = (await self.conn.execute(_GET, {"id": response_id})).first()
        return None if row is None else from_json(CannedResponse, dict(row[0]))

    async def find_by_name(self, instance_id: str, owner_user_id: str | None,
                                   name: str) -> CannedResponse | None:
        """The response named ``name`` (exactly) in the instance's list (``owner_user_id`` None) or an agent's."""
        params = {"instance": instance_id, "owner": _owner(owner_user_id), "name": name}
        row = (await self.conn.execute(_BY_NAME, params)).first()
        return None if row is None else from_json(CannedResponse, dict(row[0]))

    async def all(self, instance_id: str, owner_user_id: str | None) -> list[CannedResponse]:
        """One list by name (byte-wise, as Python sorts ``str``): the instance's, or the agent's own."""
        params = {"instance": instance_id, "owner": _owner(owner_user_id)}
        rows = (await self.conn.execute(_LIST, params)).all()
        return [from_json(CannedResponse, dict(r[0])) for r in rows]

    async def count(self, instance_id: str, owner_user_id: str | None) -> int:
        params = {"instance": instance_id, "owner": _owner(owner_user_id)}
        return int((await self.conn.execute(_COUNT, params)).scalar_one())

    async def add(self, response: CannedResponse) -> None:
        await self.conn.execute(t.canned_responses.insert().values(
            id=response.id, instance_id=response.instance_id, owner=_owner(response.owner_user_id),
            name=response.name, data=to_json(response),
        ))

    async def update(self, response: CannedResponse) -> None:
        """Its name and text (a response never moves to another list)."""
        await self.conn.execute(t.canned_responses.update().where(_canned.id == response.id)
                                .values(name=response.name, data=to_json(response)))

    async def delete(self, response_id: str) -> bool:
        """Delete the response; False when there was none."""
        result = await self.conn.execute(t.canned_responses.delete().where(_canned.id == response_id))
        return bool(result.rowcount)

"""SQL for the audit trail: events appended in the transaction of the change they record, read newest first."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from parley.domain.audit import AuditEvent
from parley.domain.codec import from_json, to_json
from parley.storage import schema as t
from parley.storage.repo_base import SqlRepo

_audit = t.audit_events.c


class AuditSql(SqlRepo):
    """:class:`parley.service.repositories.AuditTrail` in SQL."""

    __slots__ = ()

    async def add(self, event: AuditEvent) -> None:
        data = to_json(event)
        del data["seq"]  # the row's own number
        await self.conn.execute(t.audit_events.insert().values(
            instance_id=event.instance_id, resource_type=event.resource_type, time=event.time.isoformat(), data=data))

    async def list(self, instance_id: str, resource_type: str | None, before_seq: int | None,
                                limit: int) -> list[AuditEvent]:
        """The instance's events (of one kind of resource when ``resource_type``), newest first, older than
        ``before_seq`` when given."""
        query = sa.select(_audit.seq, _audit.data).where(_audit.instance_id == instance_id)
        if resource_type is not None:
            query = query.where(_audit.resource_type == resource_type)
        if before_seq is not None:
            query = query.where(_audit.seq < before_seq)
        rows = (await self.conn.execute(query.order_by(_audit.seq.desc()).limit(limit))).all()
        return [replace(from_json(AuditEvent, dict(r[1])), seq=int(r[0])) for r in rows]

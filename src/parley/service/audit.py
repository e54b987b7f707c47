"""The audit trail of configuration changes: every administrative use case records who made its change, what it
was and when, in the transaction that makes it (:func:`record_txn`), and :class:`AuditService` lists them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parley.domain.audit import RESOURCE_TYPES, AuditEvent, Subject, event_of
from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.errors import InvalidParameter
from parley.domain.resources import Resource
from parley.service.access import allow
from parley.service.lookups import get_instance
from parley.service.paging import INVALID_TOKEN, decode_payload, encode_payload
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# The longest page of the trail one request reads.
MAX_PAGE = 100


async def record_txn(uow: UnitOfWork, caller: Caller, action: str, about: Resource | Subject,
                     detail: str | None = None) -> None:
    """Record that ``caller`` did ``action`` (a use case's name) to ``about``, in the unit of work ``uow`` of the
    change (a change that rolls back leaves no event)."""
    subject = about if isinstance(about, Subject) else Subject(about.instance_id, about.KIND, about.id, about.name)
    await uow.audit.add(event_of(caller, action, subject, utcnow(), detail))


async def names_of(uow: UnitOfWork, kind: type[Resource], instance_id: str, ids: Iterable[str]) -> str:
    """The resources' names for an event's detail (a resource without a name, or gone, by its id)."""
    names = []
    for resource_id in ids:
        found = await uow.resources.find(kind, instance_id, resource_id) if resource_id else None
        names.append(found.name if found is not None and found.name else resource_id)
    return ", ".join(names)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_token: str | None


class AuditService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def list_events(self, caller: Caller, instance_id: str, resource_type: str | None, token: str | None,
                          limit: int = 50) -> AuditPage:
        """A page of the instance's trail, newest first, of one kind of resource when ``resource_type``."""
        allow(caller, instance_id, "ListAuditEvents")
        if resource_type is not None and resource_type not in RESOURCE_TYPES:
            raise InvalidParameter(f"The audit trail has no resource type {resource_type[:40]!r}: choose one of "
                                   f"{', '.join(RESOURCE_TYPES)}.")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidParameter(f"A page of the audit trail holds 1 to {MAX_PAGE} events.")
        before = _position(token)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            events = await uow.audit.list(instance.id, resource_type, before, limit + 1)
        more = len(events) > limit
        events = events[:limit]
        return AuditPage(events, encode_payload([events[-1].seq]) if more else None)


def _position(token: str | None) -> int | None:
    if token is None:
        return None
    value = decode_payload(token)
    if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], int) and 0 < value[0] < 2**62):
        raise InvalidParameter(INVALID_TOKEN)
    return int(value[0])

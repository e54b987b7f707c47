"""The audit trail: who changed which configuration of an instance, and when (one :class:`AuditEvent` per change,
stored in the transaction that makes it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.domain.callers import Caller, Member, Operator

# What the trail records changes of: each kind of resource, as the console's filter names it.
RESOURCE_TYPES: dict[str, str] = {
    "instance": "Instance settings",
    "approved_origin": "Approved origins",
    "user": "Users",
    "security_profile": "Security profiles",
    "routing_profile": "Routing profiles",
    "queue": "Queues",
    "quick_connect": "Quick connects",
    "widget": "Chat widgets",
    "canned_response": "Canned responses",
}
# Longest detail kept (an origin, an attribute's value, a list of ids).
MAX_DETAIL = 500


@dataclass(frozen=True)
class Subject:
    """What a change was made to: a resource of an instance (its kind is a key of :data:`RESOURCE_TYPES`)."""

    instance_id: str
    kind: str
    id: str
    name: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One configuration change. ``caller_kind`` is ``operator`` (an access key of the Connect API), ``user`` (a
    signed-in user of the instance) or ``system`` (Parley itself); ``action`` is the use case's name, as in
    :data:`parley.domain.permissions.NEEDS`. ``seq`` orders the trail (assigned by storage; 0 before)."""

    instance_id: str
    time: datetime
    caller_kind: str
    caller: str
    action: str
    resource_type: str
    resource_id: str
    resource_name: str | None = None
    detail: str | None = None
    caller_user_id: str | None = None
    seq: int = 0


def event_of(caller: Caller, action: str, subject: Subject, when: datetime, detail: str | None = None) -> AuditEvent:
    """The event of ``caller`` doing ``action`` to ``subject`` at ``when``."""
    if isinstance(caller, Operator):
        kind, who, user_id = "operator", caller.access_key_id, None
    elif isinstance(caller, Member):
        kind, who, user_id = "user", caller.name, caller.user.id
    else:
        kind, who, user_id = "system", "Parley", None
    if detail is not None and len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL - 1] + "…"
    return AuditEvent(subject.instance_id, when, kind, who, action, subject.kind, subject.id, subject.name, detail,
                      user_id)

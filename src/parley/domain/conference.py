"""Conference rules of a multi-party chat: who counts toward the cap, and when inviting is allowed."""

from __future__ import annotations

from collections.abc import Iterable

from parley.domain.contact import (
    AGENT,
    CUSTOMER,
    CUSTOMER_SEGMENT,
    Contact,
    Participant,
)
from parley.domain.errors import InvalidRequest, LimitExceeded

# Roles that take a conference seat; custom bots and monitoring supervisors are outside the cap.
SEATED_ROLES = frozenset({CUSTOMER, AGENT})


def pending_invitations(segments: Iterable[Contact]) -> list[Contact]:
    """Segments that will bring an agent in once accepted (not the customer's own queued contact)."""
    return [s for s in segments if s.pending and s.segment_kind != CUSTOMER_SEGMENT]


def conference_size(participants: Iterable[Participant], segments: Iterable[Contact]) -> int:
    """Seats taken: active customer and agents plus invitations still pending (so races cannot exceed)."""
    seated = sum(1 for p in participants if p.active and p.role in SEATED_ROLES)
    return seated + len(pending_invitations(segments))


def check_invite(multi_party: bool, size: int, cap: int) -> None:
    """Refuse an invitation the instance's switches or the cap do not allow."""
    if not multi_party:
        raise InvalidRequest(
            "Multi-party chat is not enabled on this instance (instance attribute MULTI_PARTY_CHAT_CONFERENCE), "
            "so a chat holds two parties; transfer the contact instead."
        )
    if size >= cap:
        raise LimitExceeded(
            f"This chat already has {size} of its {cap} participants (counting pending invitations); "
            "nobody else can be added until someone leaves."
        )


def active_agents(participants: Iterable[Participant]) -> list[Participant]:
    return [p for p in participants if p.active and p.role == AGENT]

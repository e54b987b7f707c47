from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.conference import check_invite, conference_size, pending_invitations
from parley.domain.contact import (
    AGENT,
    CONNECTED,
    CONNECTING,
    CUSTOM_BOT,
    CUSTOMER,
    INVITE_SEGMENT,
    QUEUED,
    Contact,
    Participant,
)
from parley.domain.errors import InvalidRequest, LimitExceeded

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def party(pid: str, role: str, *, left: bool = False) -> Participant:
    return Participant(pid, "chat", "c", role, pid, "h" + pid, NOW, NOW, left=NOW if left else None)


def segment(sid: str, state: str, kind: str = INVITE_SEGMENT) -> Contact:
    return Contact("i", sid, "chat", "CHAT", "TRANSFER", NOW, NOW, state=state, segment_kind=kind)


def test_size_counts_seated_parties_and_pending_invitations() -> None:
    parties = [party("cust", CUSTOMER), party("a1", AGENT), party("a2", AGENT, left=True), party("bot", CUSTOM_BOT)]
    segments = [segment("s1", QUEUED), segment("s2", CONNECTING), segment("s3", CONNECTED)]
    assert len(pending_invitations(segments)) == 2
    assert conference_size(parties, segments) == 4, "customer + agent1 + two pending; bots and leavers are outside"


def test_the_customer_queued_segment_is_not_an_invitation() -> None:
    assert pending_invitations([segment("root", QUEUED, kind="customer")]) == []


def test_cap_and_switch() -> None:
    check_invite(True, 5, 6)
    with pytest.raises(LimitExceeded, match="6 of its 6"):
        check_invite(True, 6, 6)
    with pytest.raises(InvalidRequest, match="MULTI_PARTY_CHAT_CONFERENCE"):
        check_invite(False, 2, 6)

"""Time: every timestamp is an aware UTC datetime with the millisecond precision Connect reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.domain.clock import utcnow


def test_now_is_utc_to_the_millisecond() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0
    assert before - timedelta(milliseconds=1) <= now <= after

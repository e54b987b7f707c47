"""Agent presence: only a ROUTABLE state takes chats, and each Connect status type maps to the StreamsJS state type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.agents import ERROR, MISSED, NOT_ROUTABLE, OFFER_SECONDS, OFFLINE, ROUTABLE, STATUS_TYPES, Presence

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("state_type", "routable"), [(ROUTABLE, True), (NOT_ROUTABLE, False), (OFFLINE, False),
                                                      (ERROR, False)])
def test_only_a_routable_state_takes_chats(state_type: str, routable: bool) -> None:
    assert Presence("i", "u", "Some state", state_type, WHEN, WHEN).routable is routable


def test_connect_status_types_map_to_streams_state_types() -> None:
    assert STATUS_TYPES == {"ROUTABLE": "routable", "CUSTOM": "not_routable", "OFFLINE": "offline"}


def test_a_missed_offer_puts_the_agent_in_streams_missed_state_after_connects_20_seconds() -> None:
    assert (MISSED, ERROR, OFFER_SECONDS) == ("MissedCallAgent", "error", 20)

"""Contacts and participants: which segment states are active, pending, or hold an agent's chat slot; when a chat
expires; and the checks on StartChatContact's content types."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from parley.domain.contact import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    DEFAULT_CHAT_MINUTES,
    ENDED,
    HOLDS_SLOT,
    QUEUED,
    Contact,
    Participant,
    check_supported_content_types,
)
from parley.domain.errors import InvalidParameter

WHEN = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
CONTACT = Contact("i", "c", "c", "CHAT", "API", WHEN, WHEN)


@pytest.mark.parametrize(("state", "active", "pending", "slot"), [
    (QUEUED, True, True, False),
    (CONNECTING, True, True, True),
    (CONNECTED, True, False, True),
    (ENDED, False, False, True),  # after-contact work: over for the customer, still the agent's
    (CLOSED, False, False, False),
])
def test_segment_states(state: str, active: bool, pending: bool, slot: bool) -> None:
    segment = replace(CONTACT, state=state)
    assert (segment.is_active, segment.pending, state in HOLDS_SLOT) == (active, pending, slot)


def test_a_chat_expires_its_duration_after_it_started() -> None:
    assert CONTACT.state == QUEUED and CONTACT.chat_duration_minutes == DEFAULT_CHAT_MINUTES == 25 * 60
    assert CONTACT.expires_at == WHEN + timedelta(hours=25)
    assert replace(CONTACT, chat_duration_minutes=60).expires_at == WHEN + timedelta(hours=1)


def test_a_participant_is_active_until_it_leaves() -> None:
    here = Participant("p", "c", "c", "CUSTOMER", "Jane", "hash", WHEN, WHEN)
    assert here.active
    assert not replace(here, left=WHEN).active


def test_supported_content_types_keep_their_order_without_duplicates() -> None:
    assert check_supported_content_types(None) == ("text/plain",)
    assert check_supported_content_types([]) == ("text/plain",)
    assert check_supported_content_types(["text/markdown", "text/plain", "text/markdown"]) == (
        "text/markdown", "text/plain")


def test_unknown_content_types_are_named_in_the_refusal() -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_supported_content_types(["text/plain", "image/png", "text/html"])
    assert caught.value.message == "Unsupported messaging content type(s): image/png, text/html."

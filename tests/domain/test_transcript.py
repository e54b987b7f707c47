"""Transcript items: Connect's event content types, which of them a participant may send, and typing, which is
pushed but never stored."""

from __future__ import annotations

from datetime import UTC, datetime

from parley.domain.transcript import (
    CONNECTION_ACK,
    DELIVERED,
    EVENT_PREFIX,
    JOINED,
    MAX_CONTENT_BYTES,
    READ,
    RECEIPTS,
    SENDABLE_EVENTS,
    TYPING,
    Item,
)

WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def item(content_type: str) -> Item:
    return Item("chat", "item", "EVENT", content_type, WHEN, "contact")


def test_event_content_types_are_connects() -> None:
    assert EVENT_PREFIX == "application/vnd.amazonaws.connect.event."
    assert JOINED == "application/vnd.amazonaws.connect.event.participant.joined"
    assert TYPING == "application/vnd.amazonaws.connect.event.typing"


def test_participants_send_typing_receipts_and_acknowledgements_only() -> None:
    assert {TYPING, DELIVERED, READ, CONNECTION_ACK} == SENDABLE_EVENTS
    assert {DELIVERED, READ} == RECEIPTS and RECEIPTS <= SENDABLE_EVENTS
    assert JOINED not in SENDABLE_EVENTS


def test_typing_is_the_only_ephemeral_item() -> None:
    assert item(TYPING).ephemeral
    assert not any(item(t).ephemeral for t in (DELIVERED, READ, CONNECTION_ACK, JOINED, "text/plain"))


def test_a_new_item_is_not_stored_yet_and_carries_nothing_else() -> None:
    fresh = item("text/plain")
    assert (fresh.seq, fresh.content, fresh.attachments, fresh.receipts, fresh.client_token) == (0, None, (), (), None)
    assert MAX_CONTENT_BYTES == 16384

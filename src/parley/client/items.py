"""Transcript items as the client sees them (plain dicts with Connect's fields) and their content types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Item = dict[str, Any]
"""One transcript item: ``Id``, ``Type``, ``ContentType``, ``Content``, ``ParticipantId``, ``DisplayName``, …"""

ItemPredicate = Callable[[Item], bool]

EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
TYPING = EVENT_PREFIX + "typing"
JOINED = EVENT_PREFIX + "participant.joined"
LEFT = EVENT_PREFIX + "participant.left"
CHAT_ENDED = EVENT_PREFIX + "chat.ended"
DELIVERED = EVENT_PREFIX + "message.delivered"
READ = EVENT_PREFIX + "message.read"
METADATA = EVENT_PREFIX + "message.metadata"


def is_message(item: Item) -> bool:
    """A chat message (not an event, receipt or attachment)."""
    return item.get("Type") == "MESSAGE"


def is_typing(item: Item) -> bool:
    return item.get("ContentType") == TYPING


def is_stored(item: Item) -> bool:
    """Whether the item is kept in the transcript: everything but typing, which is only pushed."""
    return item.get("ContentType") != TYPING and isinstance(item.get("Id"), str)


def message_with(content: str) -> ItemPredicate:
    """A predicate for :meth:`ChatParticipant.wait_for`: a message whose content is ``content``."""
    return lambda item: is_message(item) and item.get("Content") == content


def content_type_is(content_type: str) -> ItemPredicate:
    """A predicate for :meth:`ChatParticipant.wait_for`: any item of ``content_type``."""
    return lambda item: item.get("ContentType") == content_type

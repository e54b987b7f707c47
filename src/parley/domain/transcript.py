"""Transcript items: messages, events and receipts of a chat, with Connect's item fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
TYPING = EVENT_PREFIX + "typing"
JOINED = EVENT_PREFIX + "participant.joined"
LEFT = EVENT_PREFIX + "participant.left"
INVITED = EVENT_PREFIX + "participant.invited"
CHAT_ENDED = EVENT_PREFIX + "chat.ended"
TRANSFER_SUCCEEDED = EVENT_PREFIX + "transfer.succeeded"
TRANSFER_FAILED = EVENT_PREFIX + "transfer.failed"
DELIVERED = EVENT_PREFIX + "message.delivered"
READ = EVENT_PREFIX + "message.read"
CONNECTION_ACK = EVENT_PREFIX + "connection.acknowledged"
METADATA = EVENT_PREFIX + "message.metadata"

# Event content types a participant may send with SendEvent.
SENDABLE_EVENTS = frozenset({TYPING, DELIVERED, READ, CONNECTION_ACK})
RECEIPTS = frozenset({DELIVERED, READ})

# Connect's limit on message and event content: 16,384 bytes for every content type.
MAX_CONTENT_BYTES = 16384


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    name: str
    content_type: str
    status: str = "APPROVED"


@dataclass(frozen=True)
class Receipt:
    recipient_participant_id: str
    delivered: datetime | None = None
    read: datetime | None = None


@dataclass(frozen=True)
class Item:
    """One transcript item. ``seq`` is its place in the chat, assigned when it commits (0 = not stored)."""

    chat_id: str
    id: str
    type: str
    content_type: str
    absolute_time: datetime
    contact_id: str
    seq: int = 0
    content: str | None = None
    participant_id: str | None = None
    display_name: str | None = None
    role: str | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None
    receipts: tuple[Receipt, ...] = field(default_factory=tuple)
    client_token: str | None = None

    @property
    def ephemeral(self) -> bool:
        """Typing is pushed to sockets but never stored."""
        return self.content_type == TYPING


@dataclass(frozen=True)
class Chat:
    """The conversation a customer started: its segments share ``id`` as InitialContactId."""

    id: str
    instance_id: str
    last_seq: int
    ended: bool
    expires_at: datetime


@dataclass(frozen=True)
class Connection:
    """A bearer credential: a connection token or websocket ticket of a participant (kind ``conn`` / ``ws``),
    or an upload / download ticket of an attachment (kind ``upload`` / ``download``; ``participant_id`` then
    holds the attachment id)."""

    kind: str
    participant_id: str
    expires: datetime


@dataclass(frozen=True)
class StoredAttachment:
    id: str
    chat_id: str
    participant_id: str
    name: str
    content_type: str
    size: int
    status: str
    created: datetime
    client_token: str

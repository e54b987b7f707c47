"""Contacts (segments of a customer conversation) and chat participants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from parley.domain.errors import InvalidParameter

# Connect's limits on StartChatContact.ChatDurationInMinutes and its default of 25 hours.
MIN_CHAT_MINUTES = 60
MAX_CHAT_MINUTES = 10080
DEFAULT_CHAT_MINUTES = 25 * 60

# Connect's limit on the total size of a contact's user-defined attributes.
MAX_ATTRIBUTES_BYTES = 32768

# Content types a participant may send with SendMessage (and StartChatContact's InitialMessage).
SENDABLE_MESSAGE_TYPES = frozenset({
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive.response",
})
# An interactive message (ListPicker, QuickReply, TimePicker...). On Connect only a flow's Lex bot sends one; in
# Parley a CUSTOM_BOT participant may (it stands in for the flow's bot), where the customer's client accepts it.
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
# Content types a chat can declare its customer's client supports (SupportedMessagingContentTypes).
MESSAGE_CONTENT_TYPES = SENDABLE_MESSAGE_TYPES | {INTERACTIVE}

# Contact segment states: waiting in a queue, offered to an agent, with an agent, ended with its agent in
# after-contact work, closed (ACW cleared, or ended without ever reaching an agent).
QUEUED = "QUEUED"
CONNECTING = "CONNECTING"
CONNECTED = "CONNECTED"
ENDED = "ENDED"
CLOSED = "CLOSED"
# Segments that hold one of their agent's chat slots.
HOLDS_SLOT = frozenset({CONNECTING, CONNECTED, ENDED})

# Why a segment exists: the customer's own contact, an invitation to a conference, or a transfer.
CUSTOMER_SEGMENT = "customer"
INVITE_SEGMENT = "invite"
TRANSFER_SEGMENT = "transfer"
# A supervisor's monitoring contact (MonitorContact; parley.domain.monitoring).
MONITOR_SEGMENT = "monitor"


@dataclass(frozen=True)
class NextContact:
    """A quick-connect leg a segment spawned (DescribeContact ``NextContacts``)."""

    contact_id: str
    initiation_time: datetime
    quick_connect_id: str
    quick_connect_name: str
    quick_connect_type: str


@dataclass(frozen=True)
class Contact:
    KIND: ClassVar[str] = "contact"

    instance_id: str
    id: str
    initial_contact_id: str
    channel: str
    initiation_method: str
    initiation_time: datetime
    last_update_time: datetime
    state: str = QUEUED
    previous_contact_id: str | None = None
    related_contact_id: str | None = None
    queue_id: str | None = None
    enqueue_time: datetime | None = None
    flow_id: str | None = None
    agent_user_id: str | None = None
    connected_to_agent_time: datetime | None = None
    after_contact_work_start: datetime | None = None
    after_contact_work_end: datetime | None = None
    disconnect_time: datetime | None = None
    disconnect_reason: str | None = None
    chat_duration_minutes: int = DEFAULT_CHAT_MINUTES
    customer_display_name: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    multi_party: bool = False
    name: str | None = None
    description: str | None = None
    supported_content_types: tuple[str, ...] = ("text/plain",)
    segment_kind: str = CUSTOMER_SEGMENT
    agent_participant_id: str | None = None
    offer_expires: datetime | None = None
    skip_user_ids: tuple[str, ...] = ()
    quick_connect_id: str | None = None
    quick_connect_name: str | None = None
    invited_by: str | None = None
    target_name: str | None = None
    next_contacts: tuple[NextContact, ...] = ()
    # A monitoring contact's AllowedMonitorCapabilities (SILENT_MONITOR, BARGE); empty for every other segment.
    monitor_capabilities: tuple[str, ...] = ()

    @property
    def is_active(self) -> bool:
        """Waiting, offered or with an agent (not ended, not closed)."""
        return self.state not in (ENDED, CLOSED)

    @property
    def pending(self) -> bool:
        """Waiting for an agent to accept: in a queue or offered."""
        return self.state in (QUEUED, CONNECTING)

    @property
    def expires_at(self) -> datetime:
        return self.initiation_time + timedelta(minutes=self.chat_duration_minutes)


def check_chat_duration(minutes: int | None) -> int:
    if minutes is None:
        return DEFAULT_CHAT_MINUTES
    if not MIN_CHAT_MINUTES <= minutes <= MAX_CHAT_MINUTES:
        raise InvalidParameter(
            f"ChatDurationInMinutes must be between {MIN_CHAT_MINUTES} and {MAX_CHAT_MINUTES}, got {minutes}."
        )
    return minutes


def check_attributes(attributes: dict[str, str]) -> None:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidParameter(
            f"Contact attributes take {size} bytes; the total size is limited to {MAX_ATTRIBUTES_BYTES} bytes."
        )


def check_supported_content_types(types: list[str] | None) -> tuple[str, ...]:
    if not types:
        return ("text/plain",)
    unknown = [t for t in types if t not in MESSAGE_CONTENT_TYPES]
    if unknown:
        raise InvalidParameter(f"Unsupported messaging content type(s): {', '.join(unknown)}.")
    if "text/plain" not in types:
        raise InvalidParameter("SupportedMessagingContentTypes must include text/plain.")
    return tuple(dict.fromkeys(types))


# Participant roles (the Participant Service's ParticipantRole enum).
CUSTOMER = "CUSTOMER"
AGENT = "AGENT"
CUSTOM_BOT = "CUSTOM_BOT"
SUPERVISOR = "SUPERVISOR"
SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class Participant:
    KIND: ClassVar[str] = "participant"

    id: str
    chat_id: str
    contact_id: str
    role: str
    display_name: str
    token_hash: str
    token_expiry: datetime
    created: datetime
    user_id: str | None = None
    left: datetime | None = None
    connected: datetime | None = None
    # A supervisor's monitoring mode (SILENT_MONITOR or BARGE, the last one it had); None for everyone else.
    monitor: str | None = None

    @property
    def active(self) -> bool:
        return self.left is None

"""Configuration resources of an instance: profiles, queues, users, quick connects, flows, hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from parley.domain.errors import InvalidParameter, InvalidRequest

# Connect's limits on chat concurrency in a routing profile ("Valid Range for CHAT: 1 to 10").
CHAT_CONCURRENCY_RANGE = (1, 10)
CONCURRENCY_RANGES: dict[str, tuple[int, int]] = {
    "VOICE": (1, 1), "CHAT": CHAT_CONCURRENCY_RANGE, "TASK": (1, 10), "EMAIL": (1, 10),
}


@dataclass(frozen=True)
class Resource:
    """Common fields of everything stored per instance."""

    KIND: ClassVar[str] = ""

    instance_id: str
    id: str
    name: str | None
    modified: datetime

    @property
    def sort_key(self) -> str:
        """Listings go by name; unnamed resources (agent queues) come after the named ones."""
        return self.name.lower() if self.name else "~" + self.id


@dataclass(frozen=True)
class HoursOfOperation(Resource):
    KIND: ClassVar[str] = "hours_of_operation"

    description: str = ""
    time_zone: str = "UTC"


@dataclass(frozen=True)
class SecurityProfile(Resource):
    KIND: ClassVar[str] = "security_profile"

    description: str = ""
    permissions: tuple[str, ...] = ()
    builtin: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaConcurrency:
    channel: str
    concurrency: int
    cross_channel_behavior: str = "ROUTE_CURRENT_CHANNEL_ONLY"


@dataclass(frozen=True)
class RoutingQueueConfig:
    queue_id: str
    channel: str
    priority: int
    delay: int


@dataclass(frozen=True)
class RoutingProfile(Resource):
    KIND: ClassVar[str] = "routing_profile"

    description: str = ""
    default_outbound_queue_id: str = ""
    media_concurrencies: tuple[MediaConcurrency, ...] = ()
    queue_configs: tuple[RoutingQueueConfig, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    # The profile the instance was created with (Connect's default routing profile); migration 0008 marked it in
    # databases that predate the flag.
    builtin: bool = False

    @property
    def is_default(self) -> bool:
        """Connect's ``IsDefault``: the instance's default routing profile is the one it was created with."""
        return self.builtin

    @property
    def queue_ids(self) -> list[str]:
        """The queues the profile routes from, each once, sorted (a queue may have a config per channel)."""
        return sorted({c.queue_id for c in self.queue_configs})

    def concurrency(self, channel: str) -> int:
        for media in self.media_concurrencies:
            if media.channel == channel:
                return media.concurrency
        return 0


def check_media_concurrencies(items: tuple[MediaConcurrency, ...]) -> None:
    seen: set[str] = set()
    for media in items:
        if media.channel in seen:
            raise InvalidParameter(f"MediaConcurrencies lists channel {media.channel} more than once.")
        seen.add(media.channel)
        low, high = CONCURRENCY_RANGES.get(media.channel, (1, 10))
        if not low <= media.concurrency <= high:
            raise InvalidParameter(
                f"Concurrency for {media.channel} must be between {low} and {high}, got {media.concurrency}."
            )


def merge_queue_configs(
    current: tuple[RoutingQueueConfig, ...], added: tuple[RoutingQueueConfig, ...]
) -> tuple[RoutingQueueConfig, ...]:
    """Add queue configs to a routing profile; a (queue, channel) pair may appear only once."""
    keys = {(c.queue_id, c.channel) for c in current}
    merged = list(current)
    for config in added:
        key = (config.queue_id, config.channel)
        if key in keys:
            raise InvalidRequest(
                f"Queue {config.queue_id} is already associated with the routing profile for {config.channel}."
            )
        keys.add(key)
        merged.append(config)
    return tuple(merged)


@dataclass(frozen=True)
class Queue(Resource):
    KIND: ClassVar[str] = "queue"

    queue_type: str = "STANDARD"
    description: str = ""
    hours_of_operation_id: str = ""
    max_contacts: int | None = None
    status: str = "ENABLED"
    quick_connect_ids: tuple[str, ...] = ()
    owner_user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityInfo:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    secondary_email: str | None = None
    mobile: str | None = None


@dataclass(frozen=True)
class PhoneConfig:
    phone_type: str = "SOFT_PHONE"
    auto_accept: bool = False
    after_contact_work_time_limit: int = 0
    desk_phone_number: str | None = None


@dataclass(frozen=True)
class User(Resource):
    KIND: ClassVar[str] = "user"

    password_hash: str = ""
    identity: IdentityInfo = IdentityInfo()
    phone: PhoneConfig = PhoneConfig()
    security_profile_ids: tuple[str, ...] = ()
    routing_profile_id: str = ""
    hierarchy_group_id: str | None = None
    agent_queue_id: str = ""
    auto_accept_chat: bool = False
    chat_acw_limit: int = 0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def username(self) -> str:
        return self.name or ""

    @property
    def display_name(self) -> str:
        """How other parties see this user in a chat: the first name, else the username."""
        return self.identity.first_name or self.username


# Quick connect types and the flow type each must use (CloudFormation's quick connect docs).
QUICK_CONNECT_FLOW_TYPES: dict[str, str] = {"USER": "AGENT_TRANSFER", "QUEUE": "QUEUE_TRANSFER"}


@dataclass(frozen=True)
class QuickConnect(Resource):
    KIND: ClassVar[str] = "quick_connect"

    description: str | None = None
    quick_connect_type: str = "USER"
    user_id: str | None = None
    queue_id: str | None = None
    contact_flow_id: str | None = None
    phone_number: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactFlow(Resource):
    KIND: ClassVar[str] = "contact_flow"

    flow_type: str = "CONTACT_FLOW"
    description: str = ""
    state: str = "ACTIVE"
    status: str = "PUBLISHED"
    content: str = "{}"
    target_queue_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentStatus(Resource):
    KIND: ClassVar[str] = "agent_status"

    description: str = ""
    status_type: str = "ROUTABLE"
    display_order: int = 1
    state: str = "ENABLED"


# Every resource class, by kind, for storage codecs.
RESOURCE_TYPES: tuple[type[Resource], ...] = (
    HoursOfOperation, SecurityProfile, RoutingProfile, Queue, User, QuickConnect, ContactFlow, AgentStatus,
)

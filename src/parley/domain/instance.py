"""Instances and their attributes: the switches (multi-party chat, enhanced monitoring) and allow-lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from parley.domain.errors import Duplicate, InvalidParameter, LimitExceeded

# Every InstanceAttributeType of the Connect model with the value a new instance starts with.
ATTRIBUTE_DEFAULTS: dict[str, str] = {
    "INBOUND_CALLS": "true",
    "OUTBOUND_CALLS": "true",
    "CONTACTFLOW_LOGS": "false",
    "CONTACT_LENS": "false",
    "AUTO_RESOLVE_BEST_VOICES": "false",
    "USE_CUSTOM_TTS_VOICES": "false",
    "EARLY_MEDIA": "true",
    "MULTI_PARTY_CONFERENCE": "false",
    "AUTO_MUTE_AGENT_ON_HOLD": "false",
    "HIGH_VOLUME_OUTBOUND": "false",
    "ENHANCED_CONTACT_MONITORING": "false",
    "ENHANCED_CHAT_MONITORING": "false",
    "MULTI_PARTY_CHAT_CONFERENCE": "false",
    "MESSAGE_STREAMING": "false",
}

# Attributes whose value is a boolean switch; Connect accepts only "true" / "false" for them.
BOOLEAN_ATTRIBUTES = frozenset(ATTRIBUTE_DEFAULTS)

# Connect's quota of approved origins per instance.
MAX_APPROVED_ORIGINS = 100

# Connect's hard limit of conference participants in one chat (customer, primary agent, 4 more agents).
DEFAULT_CONFERENCE_CAP = 6

_ALIAS = re.compile(r"^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$")


@dataclass(frozen=True)
class Instance:
    KIND: ClassVar[str] = "instance"

    id: str
    alias: str
    identity_management_type: str
    created_time: datetime
    inbound_calls_enabled: bool
    outbound_calls_enabled: bool
    status: str = "ACTIVE"
    attributes: dict[str, str] = field(default_factory=dict)
    approved_origins: tuple[str, ...] = ()
    conference_cap: int = DEFAULT_CONFERENCE_CAP
    tags: dict[str, str] = field(default_factory=dict)
    # Signs agents' participant tokens so a snapshot can hand them out without storing them in clear.
    secret: str = ""

    def attribute(self, name: str) -> str:
        return self.attributes.get(name, ATTRIBUTE_DEFAULTS.get(name, "false"))

    def flag(self, name: str) -> bool:
        return self.attribute(name).lower() == "true"

    @property
    def multi_party_chat(self) -> bool:
        return self.flag("MULTI_PARTY_CHAT_CONFERENCE")

    def all_attributes(self) -> list[tuple[str, str]]:
        return [(name, self.attribute(name)) for name in ATTRIBUTE_DEFAULTS]

    def with_attribute(self, name: str, value: str) -> Instance:
        if name in BOOLEAN_ATTRIBUTES and value.lower() not in ("true", "false"):
            raise InvalidParameter(f"Invalid value '{value}' for attribute {name}: use true or false.")
        attributes = dict(self.attributes)
        attributes[name] = value.lower() if name in BOOLEAN_ATTRIBUTES else value
        changed = replace(self, attributes=attributes)
        if name == "INBOUND_CALLS":
            changed = replace(changed, inbound_calls_enabled=changed.flag(name))
        if name == "OUTBOUND_CALLS":
            changed = replace(changed, outbound_calls_enabled=changed.flag(name))
        return changed

    def with_origin(self, origin: str) -> Instance:
        if origin in self.approved_origins:
            raise Duplicate(f"The origin {origin} is already approved for this instance.")
        if len(self.approved_origins) >= MAX_APPROVED_ORIGINS:
            raise LimitExceeded(f"An instance can have at most {MAX_APPROVED_ORIGINS} approved origins.")
        return replace(self, approved_origins=(*self.approved_origins, origin))

    def without_origin(self, origin: str) -> Instance:
        return replace(self, approved_origins=tuple(o for o in self.approved_origins if o != origin))


def check_alias(alias: str) -> None:
    if not _ALIAS.match(alias):
        raise InvalidParameter(
            f"Invalid instance alias '{alias}': use letters, digits and hyphens, not starting with 'd-'."
        )


def normalize_origin(origin: str) -> str:
    """An origin as browsers send it: ``scheme://host[:port]`` with no path and a lower-case host."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(f"Invalid origin '{origin}': expected http(s)://host[:port].")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidParameter(f"Invalid origin '{origin}': an origin has no path, query or user info.")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidParameter(f"Invalid origin '{origin}': bad port.") from exc
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")

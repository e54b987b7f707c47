"""Instances and their attributes: the switches (multi-party chat, enhanced monitoring) and allow-lists."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

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
# Connect's limit of supervisors monitoring one chat at a time ("people who can monitor the same agent chat").
DEFAULT_MONITOR_CAP = 5

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
    # How many supervisors may monitor one chat at a time (parley.domain.monitoring).
    monitor_cap: int = DEFAULT_MONITOR_CAP

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


# What an approved origin may look like before its host is checked: scheme, "://", host, optional port and at
# most one trailing "/". Everything else (paths, queries, user info, whitespace, ";", ",", quotes) is refused.
_ORIGIN = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>\[[0-9A-Fa-f:.]+\]|[^/:\[\]]+)"
                     r"(?::(?P<port>[0-9]{1,5}))?/?")
# One DNS label as browsers serialize hosts: letters, digits and inner hyphens, at most 63 characters (RFC 1035).
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Longest DNS name (RFC 1035): 253 characters without the root dot.
MAX_HOST = 253
# The port browsers leave out of an origin for each scheme.
DEFAULT_PORTS = {"http": 80, "https": 443}
# What a rendered origin is made of, checked again before it goes into a CSP header (defence in depth).
_SAFE_ORIGIN = re.compile(r"https?://(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::[0-9]{1,5})?")

HostToAscii = Callable[[str], str]


def _origin_error(origin: str, why: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid origin '{origin}': {why}. An approved origin is scheme://host[:port] with scheme http or https "
        "and a host name, IPv4 address or [IPv6] address, without path, wildcard or anything else."
    )


def _dns_host(origin: str, host: str, to_ascii: HostToAscii | None) -> str:
    if not host.isascii():
        if to_ascii is None:
            raise _origin_error(origin, "write an internationalized host name in its punycode (xn--) form")
        try:
            host = to_ascii(host)
        except ValueError as exc:
            raise _origin_error(origin, "the host is not a valid internationalized domain name") from exc
    host = host.lower()
    labels = host.split(".")
    if len(host) > MAX_HOST or not all(_LABEL.fullmatch(label) for label in labels):
        raise _origin_error(origin, "the host is not a valid DNS name")
    if labels[-1].isdigit():
        # Browsers read a host ending in a number as an IPv4 address (1.2.3 is 1.2.0.3): only a dotted quad is kept.
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError as exc:
            raise _origin_error(origin, "the host is not a valid IPv4 address") from exc
    return host


def normalize_origin(origin: str, to_ascii: HostToAscii | None = None) -> str:
    """An origin as browsers send it: ``scheme://host[:port]``, lower case, default port left out.

    Strict: http or https only; the host is a DNS name (``localhost`` included), a dotted-quad IPv4 address or a
    bracketed IPv6 address; no path (one trailing ``/`` is dropped), query, fragment, user info, wildcard,
    whitespace or separator. A non-ASCII host is turned into its punycode form by ``to_ascii`` (UTS #46, as
    browsers do) or, without it, refused. Raises :class:`InvalidParameter`.
    """
    found = _ORIGIN.fullmatch(origin)
    if found is None:
        raise _origin_error(origin, "it is not of the form scheme://host[:port]")
    scheme = found["scheme"].lower()
    if scheme not in DEFAULT_PORTS:
        raise _origin_error(origin, "the scheme must be http or https")
    raw_host = found["host"]
    if raw_host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(raw_host[1:-1]).compressed}]"
        except ValueError as exc:
            raise _origin_error(origin, "the host is not a valid IPv6 address") from exc
    else:
        host = _dns_host(origin, raw_host, to_ascii)
    port = int(found["port"]) if found["port"] is not None else DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise _origin_error(origin, "the port must be between 1 and 65535")
    normalized = f"{scheme}://{host}" + ("" if port == DEFAULT_PORTS[scheme] else f":{port}")
    if not _SAFE_ORIGIN.fullmatch(normalized):  # unreachable by construction; never let a CSP be widened
        raise _origin_error(origin, "it is not of the form scheme://host[:port]")
    return normalized


def frame_sources(origins: Iterable[str], to_ascii: HostToAscii | None = None) -> list[str]:
    """The CSP ``frame-ancestors`` sources for stored approved origins: each re-validated, invalid ones skipped.

    Values stored by older versions (an IDN host, ``https://*``, text with ``;``) can neither break the header
    (a 500) nor widen it (another directive, a wildcard).
    """
    sources: set[str] = set()
    for origin in origins:
        try:
            sources.add(normalize_origin(origin, to_ascii))
        except InvalidParameter:
            continue
    return sorted(sources)

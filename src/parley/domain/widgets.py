"""Chat widgets: what a website's embedded chat starts (instance, contact flow), where it may run (allowed
origins), how it looks (title, greeting, colours), and its optional security key.

A widget with a security key starts chats only for a host page that passes a JSON web token signed with that key
(HS256), as Amazon Connect's communications widget security does; :mod:`parley.domain.widget_tokens` holds its
rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from parley.domain.contact import check_attributes
from parley.domain.errors import AccessDenied, InvalidParameter
from parley.domain.instance import HostToAscii, normalize_origin

# Lengths a person can read at a glance in a list, a title bar and a first bubble.
MAX_NAME = 100
MAX_TITLE = 60
MAX_GREETING = 500
# Enough for a site's production, staging and local origins; Connect's own widget allows a handful per widget.
MAX_ALLOWED_ORIGINS = 20
DEFAULT_TITLE = "Chat with us"
# A blue with white text at 6.5:1 contrast (WCAG AA asks 4.5:1 for text).
DEFAULT_PRIMARY_COLOR = "#2457c5"
DEFAULT_ON_PRIMARY_COLOR = "#ffffff"
# WCAG 2.2 AA's contrast for normal text: the title and buttons are drawn in on_primary over primary.
MIN_CONTRAST = 4.5
# A security key is 33 random bytes in url-safe base64 (264 bits): 44 characters, no padding.
SECURITY_KEY_LENGTH = 44
# Connect's limit on ParticipantDetails.DisplayName.
MAX_DISPLAY_NAME = 256
# What a widget's customer can send and receive: text, Markdown, bots' interactive messages (ListPicker,
# QuickReply, TimePicker) and the customer's answers to them.
WIDGET_CONTENT_TYPES = (
    "text/plain",
    "text/markdown",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
)

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the text shown after them.
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# How much of a refused Origin header a message repeats.
MAX_SHOWN_ORIGIN = 200

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_KEY = re.compile(rf"[A-Za-z0-9_-]{{{SECURITY_KEY_LENGTH}}}")


class OriginNotAllowed(AccessDenied):
    """The page asking is on a website the widget does not allow."""

    def __init__(self, origin: str | None) -> None:
        shown = "no Origin" if not origin else origin[:MAX_SHOWN_ORIGIN]
        super().__init__(f"This website ({shown}) is not allowed to start chats with this widget.")


@dataclass(frozen=True)
class Widget:
    """One embeddable chat widget of an instance."""

    KIND: ClassVar[str] = "widget"

    id: str
    instance_id: str
    name: str
    contact_flow_id: str
    created_time: datetime
    last_modified_time: datetime
    allowed_origins: tuple[str, ...] = ()
    title: str = DEFAULT_TITLE
    greeting: str | None = None
    primary_color: str = DEFAULT_PRIMARY_COLOR
    on_primary_color: str = DEFAULT_ON_PRIMARY_COLOR
    security_key: str | None = None

    @property
    def needs_token(self) -> bool:
        return self.security_key is not None


def _has_control(text: str, allow_newlines: bool = False) -> bool:
    """True when ``text`` holds a control character (other than, optionally, line breaks and tabs), a lone surrogate
    (no UTF-8 text holds one) or a bidirectional override that could make a name read as another. Other format
    characters stay allowed: emoji sequences are joined with U+200D."""
    for char in text:
        if allow_newlines and char in "\n\t":
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            return True
    return False


def check_name(name: str) -> str:
    """A widget name as stored: trimmed, 1 to 100 characters, no control characters."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidParameter(f"A widget name must be 1 to {MAX_NAME} characters long.")
    if _has_control(name):
        raise InvalidParameter("A widget name cannot contain control characters.")
    return name


def _check_title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidParameter(f"A widget title must be 1 to {MAX_TITLE} characters long.")
    if _has_control(title):
        raise InvalidParameter("A widget title cannot contain control characters.")
    return title


def _check_greeting(greeting: str | None) -> str | None:
    if greeting is None or not greeting.strip():
        return None
    greeting = greeting.strip()
    if len(greeting) > MAX_GREETING:
        raise InvalidParameter(f"A widget greeting can be at most {MAX_GREETING} characters long.")
    if _has_control(greeting, allow_newlines=True):
        raise InvalidParameter("A widget greeting cannot contain control characters other than line breaks.")
    return greeting


def _check_color(label: str, color: str) -> str:
    if not _COLOR.fullmatch(color):
        raise InvalidParameter(f"The {label} must be a colour written #rrggbb (for example #2457c5), not '{color}'.")
    return color.lower()


def _luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb``."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    a, b = _luminance(first), _luminance(second)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def check_origins(origins: tuple[str, ...] | list[str], to_ascii: HostToAscii | None) -> tuple[str, ...]:
    """Allowed origins as browsers send them (each checked as an approved origin is), without repeats."""
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise InvalidParameter(f"A widget can have at most {MAX_ALLOWED_ORIGINS} allowed origins.")
    return tuple(dict.fromkeys(normalize_origin(origin, to_ascii) for origin in origins))


def check_security_key(key: str | None) -> str | None:
    if key is not None and not _KEY.fullmatch(key):
        raise InvalidParameter(f"A widget security key is {SECURITY_KEY_LENGTH} url-safe base64 characters.")
    return key


def validated(widget: Widget, to_ascii: HostToAscii | None = None) -> Widget:
    """``widget`` with every setting checked and written as stored (trimmed, lower-case colours, punycode
    origins); raises :class:`InvalidParameter` saying what is wrong."""
    if not widget.contact_flow_id or len(widget.contact_flow_id) > 500:
        raise InvalidParameter("A widget needs the id of the contact flow its chats start in.")
    primary = _check_color("primary colour", widget.primary_color)
    on_primary = _check_color("text colour on the primary colour", widget.on_primary_color)
    ratio = contrast(primary, on_primary)
    if ratio < MIN_CONTRAST:
        raise InvalidParameter(
            f"The text colour {on_primary} on the primary colour {primary} has a contrast of {ratio:.1f}:1; "
            f"pick colours with at least {MIN_CONTRAST}:1 so every customer can read the widget "
            "(white on a darker shade, or black on a lighter one)."
        )
    return replace(
        widget, name=check_name(widget.name), title=_check_title(widget.title),
        greeting=_check_greeting(widget.greeting), primary_color=primary, on_primary_color=on_primary,
        allowed_origins=check_origins(widget.allowed_origins, to_ascii),
        security_key=check_security_key(widget.security_key),
    )


def check_display_name(name: str) -> str:
    """A customer's display name as a chat gets it: trimmed, 1 to 256 characters, no control characters."""
    name = name.strip()
    if not name:
        raise InvalidParameter("Enter your name to start the chat.")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidParameter(f"A display name can be at most {MAX_DISPLAY_NAME} characters long.")
    if _has_control(name):
        raise InvalidParameter("A display name cannot contain control characters.")
    return name


def check_customer_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """Contact attributes sent from a browser: non-empty names, no NUL character, within Connect's total size."""
    for name, value in attributes.items():
        if not name or "\x00" in name or not _is_utf8(name):
            raise InvalidParameter("A contact attribute needs a name of text without NUL characters.")
        if "\x00" in value or not _is_utf8(value):
            raise InvalidParameter(f"The contact attribute '{name[:100]}' holds a NUL character or a lone surrogate.")
    check_attributes(attributes)
    return dict(attributes)


def _is_utf8(text: str) -> bool:
    """False for text holding a lone surrogate (which no UTF-8 encoder, nor the database, accepts)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

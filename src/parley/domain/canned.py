"""Canned responses: saved replies an agent inserts into a chat from the workspace's composer (typing ``/``).

Each belongs to one instance: either to the instance's shared list (``owner_user_id`` None, managed by its
administrators) or to one agent (``owner_user_id`` that user's id, managed by that agent). A name is unique in its
list; the text is what is inserted into the message box, as the agent could have typed it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from parley.domain.errors import InvalidParameter

# A name reads at a glance in the composer's list; a text is one chat message (far below a message's limit).
MAX_NAME = 100
MAX_TEXT = 4000
# How many responses a list may hold: enough for a team's playbook, few enough to search in the browser.
MAX_INSTANCE_RESPONSES = 500
MAX_OWN_RESPONSES = 100
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the text shown after them.
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


@dataclass(frozen=True)
class CannedResponse:
    """One saved reply: the instance's (``owner_user_id`` None) or one agent's own."""

    KIND: ClassVar[str] = "canned_response"

    id: str
    instance_id: str
    name: str
    text: str
    created_time: datetime
    last_modified_time: datetime
    owner_user_id: str | None = None

    @property
    def shared(self) -> bool:
        """True for the instance's list, False for an agent's own."""
        return self.owner_user_id is None


def _bad_char(text: str, allow_newlines: bool) -> bool:
    """A control character (line breaks and tabs aside when allowed), a lone surrogate or a bidirectional override
    (which could make one text read as another)."""
    for char in text:
        if allow_newlines and char in "\n\t":
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            return True
    return False


def check_name(name: str) -> str:
    """A name as stored: trimmed, 1 to 100 characters, on one line, no control characters."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidParameter(f"A canned response needs a name of 1 to {MAX_NAME} characters.")
    if _bad_char(name, allow_newlines=False):
        raise InvalidParameter("A canned response's name must be one line without control characters.")
    return name


def check_text(text: str) -> str:
    """A text as stored: trimmed (inner line breaks kept), 1 to 4,000 characters, no control characters."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidParameter("A canned response needs a text: what it inserts into the message box.")
    if len(text) > MAX_TEXT:
        raise InvalidParameter(f"A canned response's text can be at most {MAX_TEXT} characters long "
                               f"(this one has {len(text)}).")
    if _bad_char(text, allow_newlines=True):
        raise InvalidParameter("A canned response's text cannot contain control characters other than line breaks.")
    return text


def validated(response: CannedResponse) -> CannedResponse:
    """``response`` with its name and text checked and written as stored."""
    return replace(response, name=check_name(response.name), text=check_text(response.text))


def list_limit(shared: bool) -> int:
    return MAX_INSTANCE_RESPONSES if shared else MAX_OWN_RESPONSES

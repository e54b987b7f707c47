"""Domain objects decoded from their stored JSON, kept by that JSON text.

Agents' snapshots and the router read the same documents over and over: every contact and participant of
each of an agent's chats, its user, queues and instance, each time anything in those chats changes. Decoding
them (JSON, then the dataclass codec) was the largest share of the server's CPU while chats were being set
up. The text a row holds determines the object it decodes to, so the object is reused for as long as the row
holds the same text; an update writes new text, which is a miss. Domain objects are frozen and never changed
in place, so sharing one between readers is safe.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson

from parley.domain.codec import from_json

T = TypeVar("T")

# How many decoded documents one storage keeps (the oldest go first): a thousand six-party chats hold about
# 6,000 contacts and 6,000 participants.
DECODED_ENTRIES = 20_000


class Decoded:
    """A bounded map from (type, stored JSON text) to the decoded object."""

    def __init__(self, size: int = DECODED_ENTRIES) -> None:
        self.size = size
        self._objects: dict[tuple[type[Any], str], Any] = {}

    def get(self, kind: type[T], text: str) -> T:
        key = (kind, text)
        found = self._objects.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        obj = from_json(kind, orjson.loads(text))
        if self.size > 0:
            if len(self._objects) >= self.size:
                del self._objects[next(iter(self._objects))]  # dicts keep insertion order: the oldest
            self._objects[key] = obj
        return obj

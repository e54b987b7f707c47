"""Identifiers: random UUIDs for resources, time-ordered UUIDs for transcript items, url-safe secrets for
tokens."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid

# UUID version 7 (RFC 9562): the version nibble and the variant bits, and the masks that clear them.
_V7 = (0x7 << 76) | (0x2 << 62)
_V7_CLEAR = ~((0xF << 76) | (0x3 << 62))


def new_id() -> str:
    """A new resource id in the UUID form Connect uses."""
    return str(uuid.uuid4())


def new_item_id() -> str:
    """A new transcript item id: a UUID of version 7 (RFC 9562), 48 bits of Unix milliseconds then 74 random.

    Items are looked up by id, so their ids are indexed; random ids land on a random page of that index with
    every message, time-ordered ids on its last pages (a commit writes a handful of pages instead of one more
    per message). To clients it is an opaque UUID like any other.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    return str(uuid.UUID(int=value & _V7_CLEAR | _V7))


def new_token() -> str:
    """A new bearer secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a bearer token: tokens are never stored in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_uuid(value: str) -> bool:
    """True when ``value`` is a canonical UUID string."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False

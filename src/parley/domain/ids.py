"""Identifiers: random UUIDs for resources, time-ordered UUIDs for transcript items, url-safe secrets (never
starting with ``-``) for tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
import time
import uuid

# UUID versions 7 and 4 (RFC 9562): the version nibble and the variant bits, and the mask that clears them.
_V7 = (0x7 << 76) | (0x2 << 62)
_V4 = (0x4 << 76) | (0x2 << 62)
_VERSION_CLEAR = ~((0xF << 76) | (0x3 << 62))


def _uuid_text(value: int) -> str:
    """A 128-bit value in the canonical 8-4-4-4-12 form, formatted directly (cheaper than ``uuid.UUID``)."""
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def new_id() -> str:
    """A new resource id in the UUID form Connect uses."""
    return str(uuid.uuid4())


def new_item_id() -> str:
    """A new transcript item id: a UUID of version 7 (RFC 9562), 48 bits of Unix milliseconds then 74 random.

    Items are looked up by id, so their ids are indexed; random ids land on a random page of that index with
    every message, time-ordered ids on its last pages (a commit writes a handful of pages instead of one more
    per message). To clients it is an opaque UUID like any other. Item ids are not secrets (every participant of
    the chat sees them), so the random bits come from Python's generator (seeded by the OS, and again in a
    forked child), which costs no system call, and the text is formatted directly (one is made per message).
    """
    return _uuid_text(((time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)) & _VERSION_CLEAR | _V7)


def new_request_id() -> str:
    """A request id (``x-amzn-RequestId``): a version 4 UUID, from Python's generator for the reasons above (one
    is made per request, and it identifies the request in logs, nothing more)."""
    return _uuid_text(random.getrandbits(128) & _VERSION_CLEAR | _V4)


# The one character a token may not start with: command-line parsers (the AWS CLI's argparse among them) read
# ``--connection-token -xyz`` as a missing value followed by an option.
_NOT_FIRST = "-"


def _token_text(raw: bytes) -> str:
    """``raw`` in url-safe base64 without padding (safe in headers, query strings and paths, as is)."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def new_token(nbytes: int = 32) -> str:
    """A new bearer secret: ``nbytes`` random bytes (default 32) in url-safe base64, never starting with ``-``.

    A draw whose text would start with ``-`` (1 in 64) is thrown away and drawn again, so every allowed token
    stays equally likely: 32 bytes keep log2(2^256 * 63/64) ~ 255.98 bits of entropy.
    """
    while True:
        text = _token_text(secrets.token_bytes(nbytes))
        if not text.startswith(_NOT_FIRST):
            return text


def derived_token(key: bytes, label: str) -> str:
    """A bearer secret derived (not stored) from ``key`` and ``label``: HMAC-SHA256 in url-safe base64, never
    starting with ``-``. Like :func:`new_token`, a digest whose text would start with ``-`` is replaced by the
    HMAC of the next counter value, so the result stays deterministic and uniform (and is unchanged from a
    plain HMAC of ``label`` for the 63 in 64 labels whose text never started with ``-``)."""
    counter = 0
    while True:
        message = label if counter == 0 else f"{label}#{counter}"
        text = _token_text(hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest())
        if not text.startswith(_NOT_FIRST):
            return text
        counter += 1


def hash_token(token: str) -> str:
    """The stored form of a bearer token: tokens are never stored in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_uuid(value: str) -> bool:
    """True when ``value`` is a canonical UUID string."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False

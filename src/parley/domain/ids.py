"""Identifiers: random UUIDs for resources and url-safe secrets for tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_id() -> str:
    """A new resource id in the UUID form Connect uses."""
    return str(uuid.uuid4())


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

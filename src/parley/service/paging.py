"""Opaque NextToken values for keyset-paged listings."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from parley.domain.errors import InvalidParameter

T = TypeVar("T")


def encode_token(sort_key: str, last_id: str) -> str:
    raw = json.dumps([sort_key, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> tuple[str, str] | None:
    """The position a NextToken stands for; a token Parley did not hand out is refused."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameter("The NextToken is not valid: pass the NextToken of the previous page.") from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidParameter("The NextToken is not valid: pass the NextToken of the previous page.")
    return value[0], value[1]


def paginate(
    items: Sequence[T], token: str | None, limit: int, key: Callable[[T], tuple[str, str]]
) -> tuple[list[T], str | None]:
    """One page of ``items`` in ``key`` order after the position in ``token``, and the next token."""
    after = decode_token(token)
    # Sorted here, not trusted to come sorted: a database collation may order names differently from Python.
    rows = sorted((item for item in items if after is None or key(item) > after), key=key)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_token(*key(rows[-1]))

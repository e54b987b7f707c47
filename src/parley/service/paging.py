"""Opaque NextToken values: keyset positions of paged listings, written as url-safe base64 of compact JSON.

A token comes back from the client, so it is read as untrusted input: anything Parley could not have handed
out (a wrong alphabet, a length no token reaches, JSON that is not the expected shape, numbers past any
position) is refused with one :class:`InvalidParameter`, which the edges turn into the service's own
validation error, before it reaches storage.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from parley.domain.errors import InvalidParameter

T = TypeVar("T")

# The error for every token Parley did not hand out; one message, so a refusal tells nothing about why.
INVALID_TOKEN = "The NextToken is not valid: pass the NextToken of the previous page."
# Longest token accepted. Parley's own are far shorter (a sort key of at most a few hundred characters, an
# id, JSON escapes, base64's 4/3); the cap bounds the decoding work spent on a crafted one.
MAX_TOKEN_CHARS = 4096
# The url-safe base64 alphabet without padding, which is all Parley writes (strict: the stdlib decoder
# silently drops characters outside the alphabet, so "!!!!<token>" would otherwise pass for "<token>").
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+")


def encode_payload(value: object) -> str:
    """A token carrying ``value`` (any JSON value)."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_payload(token: str) -> object:
    """The JSON value a token carries; raises InvalidParameter for anything that is not such a token."""
    if len(token) > MAX_TOKEN_CHARS or len(token) % 4 == 1 or not _TOKEN_TEXT.fullmatch(token):
        raise InvalidParameter(INVALID_TOKEN)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        # No NaN/Infinity: Parley never writes them, and they compare unlike numbers.
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (binascii.Error, ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8, bad JSON and integer literals past Python's digit limit; RecursionError
        # a deeply nested array.
        raise InvalidParameter(INVALID_TOKEN) from exc


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a position")


def encode_token(sort_key: str, last_id: str) -> str:
    return encode_payload([sort_key, last_id])


def decode_token(token: str | None) -> tuple[str, str] | None:
    """The position a NextToken stands for; a token Parley did not hand out is refused."""
    if token is None:
        return None
    value = decode_payload(token)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and _storable(v) for v in value)):
        raise InvalidParameter(INVALID_TOKEN)
    return value[0], value[1]


def _storable(text: str) -> bool:
    """False for text no stored name or id can hold (a lone surrogate, which JSON's escapes can spell)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def paginate(
    items: Sequence[T], token: str | None, limit: int, key: Callable[[T], tuple[str, str]]
) -> tuple[list[T], str | None]:
    """One page of ``items`` in ``key`` order after the position in ``token``, and the next token."""
    after = decode_token(token)
    # Sorted here, not trusted to come sorted: a database collation may order names differently from Python.
    rows = sorted((item for item in items if after is None or key(item) > after), key=key)
    return page_of(rows, limit, key)


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], tuple[str, str]]) -> tuple[list[T], str | None]:
    """The page of ``rows`` read in ``key`` order after a position, ``limit + 1`` of them (the extra one says
    whether another page follows), and the next token: the same page and token :func:`paginate` gives."""
    if len(rows) <= limit:
        return list(rows), None
    page = list(rows[:limit])
    return page, encode_token(*key(page[-1]))

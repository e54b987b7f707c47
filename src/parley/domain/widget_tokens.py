"""The widget security token: a JSON web token a host page passes to start a chat on a widget with a security key.

Amazon Connect's communications widget security: the website's server signs ``{"sub": <widget id>, "iat": ...,
"exp": ..., "attributes": {...}}`` with the widget's security key (HMAC-SHA256, the key's text as the secret), and
the browser hands the token over when the chat starts. Parley checks it with these rules, each failure saying
which rule failed:

- the token is three base64url parts; its header's ``alg`` is ``HS256`` (``none`` and every other algorithm are
  refused, so a token can never choose how it is checked) and it names no critical extension (``crit``);
- the signature is the HMAC-SHA256 of the first two parts under the widget's key (checked before any claim is
  trusted);
- ``sub`` is the widget's id; ``iat`` and ``exp`` are numbers, ``exp`` after ``iat`` by at most 10 minutes
  (Connect's rule), the token not expired and not issued (nor ``nbf``) in the future, give or take a minute of
  clock difference;
- an optional ``attributes`` object of strings, which becomes contact attributes (and wins over those the browser
  sent).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from datetime import datetime
from typing import Any

from parley.domain.contact import check_attributes
from parley.domain.errors import AccessDenied, InvalidParameter

# Longer than any token a page would send (a few claims and attributes), short enough to check cheaply.
MAX_TOKEN = 8192
# Clock difference tolerated between the website's server and Parley.
LEEWAY_SECONDS = 60
# Connect's rule: a widget token is valid for at most 10 minutes after it was issued.
MAX_LIFETIME_SECONDS = 600
ALGORITHM = "HS256"

_PART = re.compile(r"[A-Za-z0-9_-]*")


class WidgetTokenInvalid(AccessDenied):
    """The widget token is missing, malformed, not signed with the widget's key, or breaks a claim rule."""


def _decode_part(part: str, what: str) -> bytes:
    if not _PART.fullmatch(part):
        raise WidgetTokenInvalid(f"The widget token's {what} is not base64url text.")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise WidgetTokenInvalid(f"The widget token's {what} is not base64url text.") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a member is repeated")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        # A "\ud800" escape decodes to a lone surrogate, which no UTF-8 text (nor the database) can hold.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise WidgetTokenInvalid(f"The widget token's {what} is not a JSON object.") from exc
    if not isinstance(value, dict):
        raise WidgetTokenInvalid(f"The widget token's {what} is not a JSON object.")
    return value


def _time_claim(claims: dict[str, Any], name: str, meaning: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WidgetTokenInvalid(f"The widget token needs an {name} claim ({meaning}, in seconds since 1970).")
    return float(value)


def _check_header(header: dict[str, Any]) -> None:
    alg = header.get("alg")
    if alg == ALGORITHM:
        if "crit" in header:
            raise WidgetTokenInvalid("The widget token names critical header extensions (crit); Parley supports none.")
        return
    if isinstance(alg, str) and alg.lower() == "none":
        raise WidgetTokenInvalid("The widget token is not signed (alg none); it must be signed with HS256.")
    shown = alg[:20] if isinstance(alg, str) else "missing"
    raise WidgetTokenInvalid(f"The widget token must be signed with HS256, not {shown}.")


def _check_times(claims: dict[str, Any], now: float) -> None:
    issued = _time_claim(claims, "iat", "issued at")
    expires = _time_claim(claims, "exp", "expiry")
    if expires <= issued:
        raise WidgetTokenInvalid("The widget token expires before it was issued (exp is not after iat).")
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise WidgetTokenInvalid(
            f"The widget token is valid for {int(expires - issued)} seconds (exp - iat); at most "
            f"{MAX_LIFETIME_SECONDS} (10 minutes) are allowed."
        )
    if issued > now + LEEWAY_SECONDS:
        raise WidgetTokenInvalid("The widget token is issued in the future (iat); check the signing server's clock.")
    if "nbf" in claims and _time_claim(claims, "nbf", "not before") > now + LEEWAY_SECONDS:
        raise WidgetTokenInvalid("The widget token is not valid yet (nbf).")
    if expires <= now - LEEWAY_SECONDS:
        raise WidgetTokenInvalid("The widget token has expired.")


def _attributes(claims: dict[str, Any]) -> dict[str, str]:
    value = claims.get("attributes")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise WidgetTokenInvalid("The widget token's attributes claim must be an object of string values.")
    attributes = {str(k): v for k, v in value.items()}
    try:
        check_attributes(attributes)
    except InvalidParameter as exc:
        raise WidgetTokenInvalid(f"The widget token's attributes claim is too large: {exc.message}") from exc
    return attributes


def check_widget_token(token: str | None, widget_id: str, key: str, now: datetime) -> dict[str, str]:
    """The contact attributes a valid widget token carries; :class:`WidgetTokenInvalid` saying which rule failed."""
    if not token:
        raise WidgetTokenInvalid(
            "This widget has a security key: the website must pass a token signed with it (none was sent)."
        )
    if len(token) > MAX_TOKEN:
        raise WidgetTokenInvalid(f"The widget token is longer than {MAX_TOKEN} characters.")
    parts = token.split(".")
    if len(parts) != 3:
        raise WidgetTokenInvalid("The widget token is not a JSON web token (three base64url parts joined by dots).")
    _check_header(_json_object(_decode_part(parts[0], "header"), "header"))
    payload = _decode_part(parts[1], "payload")
    signature = _decode_part(parts[2], "signature")
    expected = hmac.new(key.encode("utf-8"), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise WidgetTokenInvalid("The widget token is not signed with this widget's key.")
    claims = _json_object(payload, "payload")
    subject = claims.get("sub")
    if not isinstance(subject, str):
        raise WidgetTokenInvalid("The widget token needs a sub claim: the widget's id.")
    if not hmac.compare_digest(subject.encode("utf-8"), widget_id.encode("utf-8")):
        raise WidgetTokenInvalid("The widget token is for another widget (its sub claim is not this widget's id).")
    _check_times(claims, now.timestamp())
    return _attributes(claims)

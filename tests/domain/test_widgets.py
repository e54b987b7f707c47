"""Widget settings and the widget security token (JWT) rules, on plain values (tokens made with PyJWT, as a
website's server would make them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from parley.domain.errors import AccessDenied, InvalidParameter
from parley.domain.ids import new_token
from parley.domain.widget_tokens import MAX_TOKEN, WidgetTokenInvalid, check_widget_token
from parley.domain.widgets import (
    MAX_ALLOWED_ORIGINS,
    OriginNotAllowed,
    Widget,
    check_customer_attributes,
    check_display_name,
    contrast,
    validated,
)
from parley.service.instances import idna_host

T0 = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
WIDGET_ID = "0b5f3c1e-1111-4222-8333-444455556666"
KEY = new_token(33)


def make(**changes: Any) -> Widget:
    values: dict[str, Any] = {"id": WIDGET_ID, "instance_id": "i-1", "name": "Support", "contact_flow_id": "f-1",
                              "created_time": T0, "last_modified_time": T0, **changes}
    return Widget(**values)


# settings ------------------------------------------------------------------------------------------------


def test_defaults_are_valid_and_readable() -> None:
    widget = validated(make())
    assert (widget.title, widget.greeting, widget.primary_color, widget.on_primary_color) == (
        "Chat with us", None, "#2457c5", "#ffffff")
    assert contrast(widget.primary_color, widget.on_primary_color) >= 4.5
    assert not widget.needs_token


def test_settings_are_stored_trimmed_and_lower_case() -> None:
    widget = validated(make(name="  Support  ", title=" Hi ", greeting="  Hello\nthere ", primary_color="#0B6E4F",
                            on_primary_color="#FFFFFF"))
    assert (widget.name, widget.title, widget.greeting) == ("Support", "Hi", "Hello\nthere")
    assert (widget.primary_color, widget.on_primary_color) == ("#0b6e4f", "#ffffff")
    assert validated(make(greeting="   ")).greeting is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "name must be 1 to 100"),
    ({"name": "x" * 101}, "name must be 1 to 100"),
    ({"name": "a\x00b"}, "control characters"),
    ({"title": ""}, "title must be 1 to 60"),
    ({"title": "t" * 61}, "title must be 1 to 60"),
    ({"greeting": "g" * 501}, "at most 500"),
    ({"greeting": "hi\x1b[31m"}, "control characters"),
    ({"primary_color": "blue"}, "#rrggbb"),
    ({"primary_color": "#12345"}, "#rrggbb"),
    ({"on_primary_color": "#fff"}, "#rrggbb"),
    ({"primary_color": "#ff9900", "on_primary_color": "#ffffff"}, "contrast of 2.1:1"),
    ({"contact_flow_id": ""}, "contact flow"),
    ({"security_key": "short"}, "44 url-safe"),
    ({"allowed_origins": ("https://example.com/path",)}, "Invalid origin"),
    ({"allowed_origins": ("https://*.example.com",)}, "Invalid origin"),
    ({"allowed_origins": ("ftp://example.com",)}, "scheme must be http or https"),
])
def test_bad_settings_are_refused_with_the_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace("*", r"\*")):
        validated(make(**changes), idna_host)


def test_origins_are_checked_like_approved_origins() -> None:
    widget = validated(make(allowed_origins=("https://Example.com:443/", "https://bücher.example",
                                             "https://example.com", "http://localhost:8000")), idna_host)
    assert widget.allowed_origins == ("https://example.com", "https://xn--bcher-kva.example", "http://localhost:8000")
    with pytest.raises(InvalidParameter, match="punycode"):
        validated(make(allowed_origins=("https://bücher.example",)))  # without an IDNA encoder


def test_at_most_twenty_origins() -> None:
    origins = tuple(f"https://site{n}.example" for n in range(MAX_ALLOWED_ORIGINS))
    assert len(validated(make(allowed_origins=origins)).allowed_origins) == MAX_ALLOWED_ORIGINS
    with pytest.raises(InvalidParameter, match="at most 20 allowed origins"):
        validated(make(allowed_origins=(*origins, "https://one-more.example")))


def test_a_security_key_is_44_urlsafe_characters() -> None:
    assert len(KEY) == 44
    assert validated(make(security_key=KEY)).needs_token


def test_display_names_and_attributes_from_browsers() -> None:
    assert check_display_name("  Jane ") == "Jane"
    for bad, why in [("", "Enter your name"), ("   ", "Enter your name"), ("x" * 257, "at most 256"),
                     ("Ja\nne", "control")]:
        with pytest.raises(InvalidParameter, match=why):
            check_display_name(bad)
    assert check_display_name("é" * 256) == "é" * 256
    family = "Jane \U0001F468\u200D\U0001F469\u200D\U0001F467"  # an emoji sequence joined with U+200D
    assert check_display_name(family) == family
    for spoof in ("Jane\u202Egnp.exe", "Jane\u2066x", "Jane\ud800"):
        with pytest.raises(InvalidParameter, match="control"):
            check_display_name(spoof)
    assert check_customer_attributes({"plan": "gold"}) == {"plan": "gold"}
    for attrs, why in [({"": "x"}, "needs a name"), ({"a": "b\x00"}, "NUL"), ({"big": "x" * 40000}, "32768"),
                       ({"a": "\udc80"}, "lone surrogate"), ({"\udc80": "a"}, "needs a name")]:
        with pytest.raises(InvalidParameter, match=why):
            check_customer_attributes(attrs)


def test_origin_refusal_says_which_website() -> None:
    assert OriginNotAllowed("https://x.example").message == (
        "This website (https://x.example) is not allowed to start chats with this widget.")
    assert "no Origin" in OriginNotAllowed(None).message
    assert isinstance(OriginNotAllowed(None), AccessDenied)


# the widget token ------------------------------------------------------------------------------------------


def sign(claims: dict[str, Any], key: str = KEY, algorithm: str = "HS256", **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers or None)


def claims(now: float, **changes: Any) -> dict[str, Any]:
    return {"sub": WIDGET_ID, "iat": int(now), "exp": int(now) + 300, **changes}


def check(token: str | None, now: float | None = None) -> dict[str, str]:
    moment = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return check_widget_token(token, WIDGET_ID, KEY, moment)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_valid_token_gives_its_attributes() -> None:
    now = time.time()
    assert check(sign(claims(now))) == {}
    token = sign(claims(now, attributes={"customerId": "c-42", "tier": "gold"}), typ="JWT")
    assert check(token) == {"customerId": "c-42", "tier": "gold"}


def test_a_forged_signature_is_refused() -> None:
    now = time.time()
    with pytest.raises(WidgetTokenInvalid, match="not signed with this widget's key"):
        check(sign(claims(now), key=new_token(33)))
    # The claims of a real token changed after signing (a bigger customer tier).
    header, _, signature = sign(claims(now, attributes={"tier": "basic"})).split(".")
    payload = b64(json.dumps(claims(now, attributes={"tier": "gold"})).encode())
    with pytest.raises(WidgetTokenInvalid, match="not signed with this widget's key"):
        check(f"{header}.{payload}.{signature}")


def test_alg_none_and_other_algorithms_are_refused() -> None:
    now = time.time()
    unsigned = b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(json.dumps(claims(now)).encode()) + "."
    with pytest.raises(WidgetTokenInvalid, match="not signed \\(alg none\\)"):
        check(unsigned)
    with pytest.raises(WidgetTokenInvalid, match="must be signed with HS256, not HS512"):
        check(sign(claims(now), key=KEY * 2, algorithm="HS512"))
    no_alg = b64(b'{"typ":"JWT"}') + "." + b64(json.dumps(claims(now)).encode()) + ".abc"
    with pytest.raises(WidgetTokenInvalid, match="not missing"):
        check(no_alg)
    with pytest.raises(WidgetTokenInvalid, match="crit"):
        check(sign(claims(now), crit=["exp"]))


def test_expired_tokens_are_refused_after_the_leeway() -> None:
    now = time.time()
    token = sign(claims(now - 400))  # expired 100 s ago
    with pytest.raises(WidgetTokenInvalid, match="has expired"):
        check(token, now)
    assert check(sign(claims(now - 330)), now) == {}  # 30 s past exp: within the minute of leeway


def test_exp_at_most_ten_minutes_after_iat() -> None:
    now = time.time()
    assert check(sign(claims(now, exp=int(now) + 600)), now) == {}
    with pytest.raises(WidgetTokenInvalid, match="valid for 601 seconds"):
        check(sign(claims(now, exp=int(now) + 601)), now)
    with pytest.raises(WidgetTokenInvalid, match="expires before it was issued"):
        check(sign(claims(now, exp=int(now) - 1)), now)


def test_wrong_or_missing_claims_are_named() -> None:
    now = time.time()
    with pytest.raises(WidgetTokenInvalid, match="for another widget"):
        check(sign(claims(now, sub="another-widget")), now)
    cases = [("sub", "needs a sub claim"), ("iat", "needs an iat claim"), ("exp", "needs an exp claim")]
    for missing, why in cases:
        body = {k: v for k, v in claims(now).items() if k != missing}
        with pytest.raises(WidgetTokenInvalid, match=why):
            check(sign(body), now)
    with pytest.raises(WidgetTokenInvalid, match="needs an iat claim"):
        check(sign(claims(now, iat=True)), now)
    with pytest.raises(WidgetTokenInvalid, match="issued in the future"):
        check(sign(claims(now + 3600)), now)
    with pytest.raises(WidgetTokenInvalid, match="not valid yet"):
        check(sign(claims(now, nbf=int(now) + 200)), now)


def test_attribute_claims_must_be_strings() -> None:
    now = time.time()
    for bad in [{"n": 1}, ["a"], "text", {"a": None}]:
        with pytest.raises(WidgetTokenInvalid, match="attributes claim must be an object of string"):
            check(sign(claims(now, attributes=bad)), now)
    # Attributes that fit in a token are within Connect's total size of contact attributes.
    assert check(sign(claims(now, attributes={"big": "x" * 5000})), now) == {"big": "x" * 5000}


@pytest.mark.parametrize(("token", "why"), [
    (None, "none was sent"),
    ("", "none was sent"),
    ("a.b", "three base64url parts"),
    ("a.b.c.d", "three base64url parts"),
    ("###.e30.abc", "header is not base64url"),
    (b64(b"[1]") + ".e30.abc", "header is not a JSON object"),
    (b64(b'{"alg":"HS256","alg":"none"}') + ".e30.abc", "header is not a JSON object"),
    (b64(b"\xff\xfe") + ".e30.abc", "header is not a JSON object"),
    ("x" * (MAX_TOKEN + 1), "longer than"),
])
def test_malformed_tokens_are_refused(token: str | None, why: str) -> None:
    with pytest.raises(WidgetTokenInvalid, match=why):
        check(token)


def test_payload_must_be_json_even_when_signed() -> None:
    header = b64(b'{"alg":"HS256"}')
    for payload in [b"not json", b'{"exp": NaN}', b"[]", b'{"sub": "\\ud800"}', b"\xff"]:
        part = b64(payload)
        signature = b64(hmac.new(KEY.encode(), f"{header}.{part}".encode(), hashlib.sha256).digest())
        with pytest.raises(WidgetTokenInvalid, match="payload is not a JSON object"):
            check(f"{header}.{part}.{signature}")

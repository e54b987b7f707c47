"""The codec that stores domain dataclasses as JSON: every kind of field survives the round trip (nested
dataclasses, optional values, tuples, lists, dicts, aware datetimes), unknown keys from newer versions are ignored,
and missing keys take the field's default."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from parley.domain.codec import from_json, to_json
from parley.domain.contact import Contact, NextContact
from parley.domain.resources import IdentityInfo, PhoneConfig, RoutingProfile, RoutingQueueConfig, User
from parley.domain.transcript import Attachment, Item, Receipt

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


@dataclass(frozen=True)
class Inner:
    name: str
    at: datetime | None = None


@dataclass(frozen=True)
class Outer:
    inner: Inner
    maybe: Inner | None
    many: tuple[Inner, ...]
    listed: list[int]
    keyed: dict[str, Inner]
    plain: dict[str, str] = field(default_factory=dict)
    number: float = 1.5
    flag: bool = False


def round_trip(value: Any) -> Any:
    """Through the JSON text storage keeps, not just the dict."""
    return from_json(type(value), orjson.loads(orjson.dumps(to_json(value))))


def test_every_kind_of_field_survives_the_round_trip() -> None:
    value = Outer(
        inner=Inner("a", WHEN), maybe=None, many=(Inner("b"), Inner("c", WHEN + timedelta(days=1))),
        listed=[1, 2, 3], keyed={"k": Inner("d", WHEN)}, plain={"x": "y"}, number=2.25, flag=True,
    )
    assert round_trip(value) == value
    assert round_trip(Outer(Inner("x"), Inner("y"), (), [], {})) == Outer(Inner("x"), Inner("y"), (), [], {})


def test_json_form_is_plain() -> None:
    encoded = to_json(Inner("a", WHEN))
    assert encoded == {"name": "a", "at": "2026-03-04T05:06:07.890000+00:00"}
    assert isinstance(to_json(Outer(Inner("x"), None, (Inner("y"),), [1], {})).get("many"), list)


def test_datetimes_keep_their_offset() -> None:
    east = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=9)))
    back = round_trip(Inner("tz", east)).at
    assert back == east and back.utcoffset() == timedelta(hours=9)


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults() -> None:
    raw = {"inner": {"name": "a", "from_a_newer_version": 1}, "maybe": None, "many": [], "listed": [],
           "keyed": {}, "also_newer": True}
    assert from_json(Outer, raw) == Outer(Inner("a"), None, (), [], {})


def test_domain_records_round_trip() -> None:
    contact = Contact(
        "i", "c", "c", "CHAT", "API", WHEN, WHEN, attributes={"k": "v"}, supported_content_types=("text/plain",),
        skip_user_ids=("u1", "u2"), next_contacts=(NextContact("n", WHEN, "q", "Q", "USER"),), offer_expires=WHEN,
    )
    user = User("i", "u", "ann", WHEN, identity=IdentityInfo(first_name="Ann"), phone=PhoneConfig(auto_accept=True),
                security_profile_ids=("s",), tags={"t": "1"})
    profile = RoutingProfile("i", "p", "P", WHEN, queue_configs=(RoutingQueueConfig("q", "CHAT", 1, 0),))
    item = Item("c", "it", "MESSAGE", "text/plain", WHEN, "c", seq=3, content="hi",
                attachments=(Attachment("a", "f.pdf", "application/pdf"),), receipts=(Receipt("p", WHEN, None),))
    for record in (contact, user, profile, item):
        assert round_trip(record) == record

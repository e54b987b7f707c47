from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.errors import Duplicate, InvalidParameter, LimitExceeded
from parley.domain.instance import MAX_APPROVED_ORIGINS, Instance, check_alias, normalize_origin


def make() -> Instance:
    return Instance("i-1", "demo", "CONNECT_MANAGED", datetime(2026, 1, 1, tzinfo=UTC), True, True)


def test_attributes_default_and_switch() -> None:
    instance = make()
    assert not instance.multi_party_chat
    on = instance.with_attribute("MULTI_PARTY_CHAT_CONFERENCE", "TRUE")
    assert on.multi_party_chat and on.attribute("MULTI_PARTY_CHAT_CONFERENCE") == "true"
    assert not on.flag("ENHANCED_CHAT_MONITORING"), "the two multi-party switches are independent"
    assert not instance.multi_party_chat, "instances are immutable"


def test_boolean_attribute_refuses_other_values() -> None:
    with pytest.raises(InvalidParameter, match="true or false"):
        make().with_attribute("ENHANCED_CHAT_MONITORING", "yes")


def test_inbound_calls_attribute_drives_the_flag() -> None:
    assert not make().with_attribute("INBOUND_CALLS", "false").inbound_calls_enabled


@pytest.mark.parametrize(("raw", "origin"), [
    ("http://LocalHost:8080", "http://localhost:8080"),
    ("https://example.com:443/", "https://example.com"),
    ("http://127.0.0.1:80", "http://127.0.0.1"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_origins_are_normalized(raw: str, origin: str) -> None:
    assert normalize_origin(raw) == origin


@pytest.mark.parametrize("raw", ["localhost:8080", "ftp://x", "http://x/path", "http://u@x", "http://x:99999"])
def test_bad_origins_are_refused(raw: str) -> None:
    with pytest.raises(InvalidParameter):
        normalize_origin(raw)


def test_origin_list_rules() -> None:
    instance = make().with_origin("http://a")
    with pytest.raises(Duplicate):
        instance.with_origin("http://a")
    assert instance.without_origin("http://a").approved_origins == ()
    for n in range(MAX_APPROVED_ORIGINS - 1):
        instance = instance.with_origin(f"http://h{n}")
    with pytest.raises(LimitExceeded):
        instance.with_origin("http://one-too-many")


@pytest.mark.parametrize("alias", ["d-123", "-abc", "a_b", ""])
def test_bad_aliases(alias: str) -> None:
    with pytest.raises(InvalidParameter):
        check_alias(alias)


def test_good_alias() -> None:
    check_alias("my-contact-center-1")

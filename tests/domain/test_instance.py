from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.errors import Duplicate, InvalidParameter, LimitExceeded
from parley.domain.instance import MAX_APPROVED_ORIGINS, Instance, check_alias, frame_sources, normalize_origin
from parley.service.instances import idna_host


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


@pytest.mark.parametrize(("raw", "origin"), [
    ("HTTPS://Example.COM", "https://example.com"),
    ("http://localhost", "http://localhost"),
    ("https://crm", "https://crm"),
    ("https://a-b.c-d.example:8443", "https://a-b.c-d.example:8443"),
    ("http://[2001:DB8:0:0::1]:80", "http://[2001:db8::1]"),
    ("http://10.0.0.1:8080/", "http://10.0.0.1:8080"),
    ("https://xn--fiq228c.example", "https://xn--fiq228c.example"),
])
def test_more_origins_are_normalized(raw: str, origin: str) -> None:
    assert normalize_origin(raw) == origin


@pytest.mark.parametrize("raw", [
    "localhost:8080", "ftp://x", "http://x/path", "http://u@x", "http://x:99999", "http://x:0", "https://*",
    "https://*.example.com", "https://a.example; script-src * 'unsafe-inline'", "https://a.example,https://b.example",
    " https://a.example", "https://a.example ", "https://a.example\n", "https://a.example\tb", "https://'a.example'",
    'https://"a.example"', "https://a.example?x=1", "https://a.example#f", "https://a..example", "https://-a.example",
    "https://a_b.example", "https://999.1.1.1", "https://1.2.3", "https://[::1", "https://[fe80::1%25eth0]",
    "https://[not-ip]", "https://" + "a" * 64 + ".example", "https://" + ".".join(["abcdefgh"] * 30), "https://",
    "https:///", "javascript://x", "data://x", "https://a.example:", "https://a.example:80:80", "*",
    "https://中文.example",  # without an IDNA converter a non-ASCII host is refused
])
def test_bad_origins_are_refused(raw: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid origin"):
        normalize_origin(raw)


@pytest.mark.parametrize(("raw", "origin"), [
    ("https://中文.example", "https://xn--fiq228c.example"),
    ("https://Straße.example:8443", "https://xn--strae-oqa.example:8443"),  # UTS #46 non-transitional, as Chromium
    ("https://bücher.example/", "https://xn--bcher-kva.example"),
])
def test_idn_hosts_become_punycode(raw: str, origin: str) -> None:
    assert normalize_origin(raw, idna_host) == origin


@pytest.mark.parametrize("raw", ["https://中文.example;x", "https://*.中文.example", "https://中 文.example"])
def test_bad_idn_hosts_are_refused(raw: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid origin"):
        normalize_origin(raw, idna_host)


def test_frame_sources_skip_what_is_not_an_origin() -> None:
    stored = ["https://a.example; script-src * 'unsafe-inline'", "https://*", "https://中文.example",
              "HTTP://B.example:80", "http://b.example", "not an origin", "https://c.example\r\nX-Evil: 1"]
    assert frame_sources(stored, idna_host) == ["http://b.example", "https://xn--fiq228c.example"]
    assert frame_sources(stored) == ["http://b.example"]


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

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.contact import check_attributes, check_chat_duration, check_supported_content_types
from parley.domain.errors import InvalidParameter, InvalidRequest
from parley.domain.resources import (
    IdentityInfo,
    MediaConcurrency,
    Queue,
    RoutingQueueConfig,
    User,
    check_media_concurrencies,
    merge_queue_configs,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_chat_concurrency_bounds() -> None:
    check_media_concurrencies((MediaConcurrency("CHAT", 10), MediaConcurrency("VOICE", 1)))
    with pytest.raises(InvalidParameter, match="between 1 and 10"):
        check_media_concurrencies((MediaConcurrency("CHAT", 11),))
    with pytest.raises(InvalidParameter, match="more than once"):
        check_media_concurrencies((MediaConcurrency("CHAT", 1), MediaConcurrency("CHAT", 2)))


def test_queue_configs_are_unique_per_channel() -> None:
    first = merge_queue_configs((), (RoutingQueueConfig("q", "CHAT", 1, 0),))
    both = merge_queue_configs(first, (RoutingQueueConfig("q", "VOICE", 1, 0),))
    assert len(both) == 2
    with pytest.raises(InvalidRequest, match="already associated"):
        merge_queue_configs(both, (RoutingQueueConfig("q", "CHAT", 2, 0),))


def test_display_name_is_first_name_else_username() -> None:
    user = User("i", "u", "jdoe", NOW, identity=IdentityInfo(first_name="Jane"))
    assert user.display_name == "Jane"
    assert User("i", "u", "jdoe", NOW).display_name == "jdoe"


def test_unnamed_resources_sort_after_named() -> None:
    named = Queue("i", "zz", "BasicQueue", NOW)
    agent = Queue("i", "aa", None, NOW, queue_type="AGENT")
    assert sorted([agent, named], key=lambda q: q.sort_key) == [named, agent]


def test_chat_duration_bounds() -> None:
    assert check_chat_duration(None) == 25 * 60
    assert check_chat_duration(60) == 60
    for bad in (59, 10081):
        with pytest.raises(InvalidParameter):
            check_chat_duration(bad)


def test_attribute_size_limit() -> None:
    check_attributes({"k": "v" * 32000})
    with pytest.raises(InvalidParameter, match="32768"):
        check_attributes({"k": "v" * 32768})


def test_supported_content_types_need_text_plain() -> None:
    assert check_supported_content_types(None) == ("text/plain",)
    assert check_supported_content_types(["text/plain", "text/markdown"]) == ("text/plain", "text/markdown")
    with pytest.raises(InvalidParameter, match="text/plain"):
        check_supported_content_types(["text/markdown"])
    with pytest.raises(InvalidParameter, match="Unsupported"):
        check_supported_content_types(["text/plain", "image/png"])

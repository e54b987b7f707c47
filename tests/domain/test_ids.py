"""Identifiers: transcript item ids are UUIDs of version 7 whose text sorts in the order they were made."""

from __future__ import annotations

import time
import uuid

from parley.domain.ids import looks_like_uuid, new_id, new_item_id, new_request_id


def test_item_ids_are_canonical_version_7_uuids_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    made = [new_item_id() for _ in range(1000)]
    after = time.time_ns() // 1_000_000
    assert len(set(made)) == 1000
    for text in made:
        value = uuid.UUID(text)
        assert looks_like_uuid(text) and value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after


def test_item_ids_made_in_later_milliseconds_sort_later() -> None:
    first = new_item_id()
    time.sleep(0.002)
    second = new_item_id()
    assert first < second


def test_resource_ids_stay_random_version_4() -> None:
    assert uuid.UUID(new_id()).version == 4


def test_request_ids_are_distinct_canonical_version_4_uuids() -> None:
    made = [new_request_id() for _ in range(1000)]
    assert len(set(made)) == 1000
    for text in made:
        value = uuid.UUID(text)
        assert looks_like_uuid(text) and value.version == 4 and value.variant == uuid.RFC_4122

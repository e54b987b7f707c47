"""Identifiers: transcript item ids are UUIDs of version 7 whose text sorts in the order they were made; bearer
tokens never start with ``-`` (issue 17, item 10)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
import time
import uuid

from parley.domain.ids import derived_token, looks_like_uuid, new_id, new_item_id, new_request_id, new_token


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


# How many tokens the statistical checks draw. With the old generator 1 token in 64 started with "-", so the
# chance that 10,000 draws showed none is (63/64)^10000 ~ 4.0e-69: the test cannot pass on that code by luck.
DRAWS = 10_000
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def test_bearer_tokens_never_start_with_a_dash() -> None:
    made = [new_token() for _ in range(DRAWS)]
    assert not [t for t in made if t.startswith("-")]
    assert len(set(made)) == DRAWS
    # Still 32 random bytes in url-safe base64 (43 characters, 256 bits less the excluded 1/64).
    assert {len(t) for t in made} == {43}
    assert set("".join(made)) <= URL_SAFE
    # Every other character still occurs first: the first position is not pinned to a few values.
    assert {t[0] for t in made} == URL_SAFE - {"-"}
    assert "-" in "".join(t[1:] for t in made)


def test_shorter_tokens_never_start_with_a_dash() -> None:
    made = [new_token(30) for _ in range(DRAWS)]
    assert not [t for t in made if t.startswith("-")]
    assert {len(t) for t in made} == {40}


def test_derived_tokens_never_start_with_a_dash_and_are_stable() -> None:
    key = b"instance-secret"
    made = {label: derived_token(key, label) for label in (f"participant:{i}" for i in range(DRAWS))}
    assert not [t for t in made.values() if t.startswith("-")]
    assert len(set(made.values())) == DRAWS
    assert all(derived_token(key, label) == token for label, token in list(made.items())[:100])
    # Labels whose plain HMAC never started with "-" keep that token (live chats' agents keep theirs).
    plain = {label: base64.urlsafe_b64encode(hmac.new(key, label.encode(), hashlib.sha256).digest())
             .decode().rstrip("=") for label in made}
    dashed = [label for label, token in plain.items() if token.startswith("-")]
    assert dashed, "some plain HMACs start with '-' in 10,000 draws"
    assert all(made[label] == plain[label] for label in plain if label not in dashed)
    assert all(made[label] != plain[label] for label in dashed)
    assert derived_token(b"other-secret", "participant:1") != made["participant:1"]

"""The storage's cache of decoded documents: reused while a row's text is unchanged, bounded, never stale."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from parley.domain.codec import to_json
from parley.storage.decoded import Decoded


@dataclass(frozen=True)
class Doc:
    id: str
    name: str


def text(doc: Doc) -> str:
    return orjson.dumps(to_json(doc)).decode()


def test_the_same_text_gives_the_same_object_and_new_text_a_new_one() -> None:
    decoded = Decoded(10)
    first = decoded.get(Doc, text(Doc("a", "Ann")))
    assert first == Doc("a", "Ann")
    assert decoded.get(Doc, text(Doc("a", "Ann"))) is first  # an equal string, another object: still a hit
    renamed = decoded.get(Doc, text(Doc("a", "Anne")))  # the row was updated: its text differs
    assert renamed == Doc("a", "Anne") and renamed is not first


def test_it_keeps_at_most_size_entries_dropping_the_oldest() -> None:
    decoded = Decoded(3)
    docs = [decoded.get(Doc, text(Doc(str(i), "x"))) for i in range(5)]
    assert decoded.get(Doc, text(Doc("4", "x"))) is docs[4]
    assert decoded.get(Doc, text(Doc("0", "x"))) is not docs[0]  # evicted, decoded again
    assert decoded.get(Doc, text(Doc("0", "x"))) == docs[0]


def test_size_zero_decodes_every_time() -> None:
    decoded = Decoded(0)
    assert decoded.get(Doc, text(Doc("a", "b"))) is not decoded.get(Doc, text(Doc("a", "b")))

"""The collector policy: what lives through a middle-generation collection is frozen (full passes skip it),
and a reclaim frees reference cycles that were frozen while still in use, when the frozen set has grown."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from parley.collector import Collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None
        self.ballast = [object() for _ in range(10)]


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(b)


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_survivors_of_a_middle_collection_freeze_and_a_reclaim_frees_their_cycles(restore_gc: None) -> None:
    collector = Collector(check_seconds=3600, reclaim_seconds=3600)
    collector.start()
    try:
        assert gc.get_freeze_count() > 0, "start-up objects are frozen"
        held, probe = cycle()
        collector.check()
        assert collector.freezes == 0, "no middle-generation collection ran: nothing to freeze"
        gc.collect(1)
        frozen = gc.get_freeze_count()
        collector.check()
        assert collector.freezes == 1 and gc.get_freeze_count() > frozen
        del held  # the cycle is garbage now, but frozen: full collections do not see it
        gc.collect()
        assert probe() is not None
        collector.reclaim()
        assert probe() is None and collector.reclaims == 1
        assert gc.get_freeze_count() > 0, "the survivors of the reclaim are frozen again"
    finally:
        await collector.stop()


async def test_a_reclaim_waits_for_the_frozen_objects_to_grow(restore_gc: None) -> None:
    collector = Collector(check_seconds=0.01, reclaim_seconds=0.0, reclaim_growth=0.25)
    collector.start()
    try:
        await asyncio.sleep(0.1)
        assert collector.reclaims == 0, "nothing grew: no reclaim"
        kept = [cycle() for _ in range(gc.get_freeze_count() // 10)]  # more than half as many objects again
        gc.collect(1)
        for _ in range(100):
            if collector.reclaims:
                break
            await asyncio.sleep(0.01)
        assert collector.freezes >= 1 and collector.reclaims == 1
        assert all(probe() is not None for _, probe in kept)
    finally:
        await collector.stop()

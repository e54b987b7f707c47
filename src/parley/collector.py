"""Keeps the cyclic garbage collector's pauses short while the server holds thousands of connections.

CPython's collector walks every object of a generation it collects. With 1,000 six-party chats open the
oldest generation holds some 700,000 objects (protocol objects, tasks and buffers of 6,000 sockets, cached
documents, sessions), and a full pass stopped the event loop for 600-700 ms, every message in flight waiting.
Nearly everything that lives through a collection of the middle generation lives on, so :class:`Collector`
moves it out of the collector's sight (``gc.freeze``) soon after: full passes then walk only what arrived
since. Reference counting still frees frozen objects as usual; only reference cycles among frozen objects
wait, until a reclaim puts everything back under the collector (``gc.unfreeze``), collects it all once and
freezes the survivors again. A reclaim is that long pause, so it runs only when the frozen objects have grown
by a quarter since the last one (CPython's own rule for full passes), looked at every 10 minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

# Allocations between young-generation collections (CPython: 700); fewer, still short, collections.
YOUNG_THRESHOLD = 10_000
# Young collections between collections of the middle generation (CPython: 10): while chats are set up most new
# objects live on, and passes over the middle generation are then long pauses; fewer of them cost less in all.
MIDDLE_THRESHOLD = 20
# How often the collector's statistics are looked at (survivors of a middle collection are frozen then).
CHECK_SECONDS = 1.0
# Every RECLAIM_SECONDS a reclaim runs if the frozen objects grew by RECLAIM_GROWTH since the last one.
RECLAIM_GROWTH = 0.25
RECLAIM_SECONDS = 600.0


class Collector:
    """Freezes what lives through middle-generation collections; reclaims cycles among frozen objects."""

    def __init__(self, *, check_seconds: float = CHECK_SECONDS, reclaim_seconds: float = RECLAIM_SECONDS,
                 reclaim_growth: float = RECLAIM_GROWTH) -> None:
        self.check_seconds = check_seconds
        self.reclaim_seconds = reclaim_seconds
        self.reclaim_growth = reclaim_growth
        self._task: asyncio.Task[None] | None = None
        self._middle = 0
        self._frozen_after_reclaim = 0
        self.freezes = 0
        self.reclaims = 0

    def start(self) -> None:
        """Collect and freeze what start-up built, then keep watch."""
        gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, 20)
        self.reclaim()
        self.reclaims = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_look = loop.time()
        while True:
            await asyncio.sleep(self.check_seconds)
            # Counting the frozen objects walks them all (about 10 ms for 700,000): only when a reclaim may be due.
            if loop.time() - last_look >= self.reclaim_seconds:
                last_look = loop.time()
                if gc.get_freeze_count() > (1 + self.reclaim_growth) * self._frozen_after_reclaim:
                    self.reclaim()
                    continue
            self.check()

    def check(self) -> None:
        """After a middle-generation collection: collect the young generations (their cycles are freed) and
        freeze what is left."""
        if _collections(1) != self._middle:
            gc.collect(1)
            gc.freeze()
            self._middle = _collections(1)
            self.freezes += 1

    def reclaim(self) -> None:
        """Everything back under the collector, one full collection, the survivors frozen again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._middle = _collections(1)
        self._frozen_after_reclaim = gc.get_freeze_count()
        self.reclaims += 1


def _collections(generation: int) -> int:
    return int(gc.get_stats()[generation]["collections"])

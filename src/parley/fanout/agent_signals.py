"""Agent pokes from the bus, turned into wake-ups for the snapshot long polls waiting on this node."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson

from parley.service.pokes import AGENT_CHANNEL
from parley.service.ports import Bus

log = logging.getLogger(__name__)

# While the bus is degraded (pokes from other nodes may be lost), every waiting long poll is woken this often to
# read its snapshot again: a change is seen within this long instead of at the poll's end (25 s).
DEGRADED_WAKE_SECONDS = 2.0


class AgentSignals:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._waiters: dict[str, set[asyncio.Event]] = {}
        # How many pokes each agent has had: a long poll notes it before reading the snapshot, so a poke that
        # lands while it reads (on PostgreSQL the reads yield to the loop) is not lost.
        self._pokes: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        ready = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen(ready)), loop.create_task(self._watch())]
        await ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def mark(self, user_id: str) -> int:
        """The poke count of ``user_id`` now; pass it to :meth:`wait` after reading what the poke would change."""
        return self._pokes.get(user_id, 0)

    async def wait(self, user_id: str, timeout: float, since: int | None = None) -> None:
        """Return when ``user_id`` is poked or ``timeout`` seconds pass, whichever comes first; at once when the
        agent was poked after :meth:`mark` returned ``since``."""
        if since is not None and self._pokes.get(user_id, 0) != since:
            return
        event = asyncio.Event()
        self._waiters.setdefault(user_id, set()).add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            waiters = self._waiters.get(user_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    self._waiters.pop(user_id, None)

    async def _watch(self) -> None:
        """While the bus is degraded, wake every waiting long poll now and then: it reads its snapshot again."""
        while True:
            await asyncio.sleep(DEGRADED_WAKE_SECONDS)
            if self._waiters and self.bus.degraded():
                for events in list(self._waiters.values()):
                    for event in events:
                        event.set()

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.bus.subscribe(AGENT_CHANNEL) as messages:
            ready.set()
            async for payload in messages:
                try:
                    users = orjson.loads(payload)["agents"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    log.warning("ignoring a malformed agent poke")
                    continue
                for user_id in users:
                    self._pokes[user_id] = self._pokes.get(user_id, 0) + 1
                    for event in self._waiters.get(user_id, ()):
                        event.set()

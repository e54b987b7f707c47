"""Agent pokes from the bus, turned into wake-ups for the snapshot long polls waiting on this node."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson

from parley.service.notify import AGENT_CHANNEL
from parley.service.ports import Bus

log = logging.getLogger(__name__)


class AgentSignals:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._listen(ready))
        await ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, user_id: str, timeout: float) -> None:
        """Return when ``user_id`` is poked or ``timeout`` seconds pass, whichever comes first."""
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
                    for event in self._waiters.get(user_id, ()):
                        event.set()

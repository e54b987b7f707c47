"""The in-process bus: publish reaches every subscriber of the channel in this process; its socket slots are
counted in this process too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# How many pokes a slow subscriber may fall behind before older ones are dropped (the hub catches up from
# storage, so a dropped poke delays nothing for long).
QUEUE_SIZE = 10_000


class LocalSlots:
    """:class:`parley.service.ports.SocketSlots` for one process: a set of holders per key."""

    def __init__(self) -> None:
        self._held: dict[str, set[str]] = {}

    async def acquire(self, key: str, holder: str, limit: int) -> bool:
        held = self._held.get(key, set())
        if holder not in held and len(held) >= limit:
            return False
        held.add(holder)
        self._held[key] = held
        return True

    async def release(self, key: str, holder: str) -> None:
        held = self._held.get(key)
        if held is not None:
            held.discard(holder)
            if not held:
                del self._held[key]


class LocalBus:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[bytes]]] = {}
        self.slots = LocalSlots()

    async def publish(self, channel: str, payload: bytes) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(payload)

    def degraded(self) -> bool:
        return False  # one process: a poke never misses its subscribers

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        self._queues.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[bytes]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues[channel].discard(queue)

    async def ping(self) -> None:
        """For ``/ready``: the in-process bus is always reachable."""

    async def close(self) -> None:
        self._queues.clear()

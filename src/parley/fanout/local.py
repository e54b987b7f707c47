"""The in-process bus: publish reaches every subscriber of the channel in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# How many pokes a slow subscriber may fall behind before older ones are dropped (the hub catches up from
# storage, so a dropped poke delays nothing for long).
QUEUE_SIZE = 10_000


class LocalBus:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[bytes]]] = {}

    async def publish(self, channel: str, payload: bytes) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(payload)

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

    async def close(self) -> None:
        self._queues.clear()

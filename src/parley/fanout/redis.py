"""The Redis bus: pokes published on one node reach the subscribers of every node (Redis pub/sub)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from redis.asyncio import Redis

log = logging.getLogger(__name__)


class RedisBus:
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis = Redis.from_url(url)

    async def check(self) -> None:
        """Fail at start-up, with the URL in the message, when Redis cannot be reached."""
        try:
            await self._redis.ping()
        except Exception as exc:
            raise OSError(f"cannot reach the Redis bus at {self.url}: {exc}") from exc

    async def publish(self, channel: str, payload: bytes) -> None:
        await self._redis.publish(channel, payload)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)

        async def messages() -> AsyncIterator[bytes]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    yield data if isinstance(data, bytes) else str(data).encode()

        try:
            yield messages()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(channel)
                await cast(Any, pubsub).aclose()  # unannotated before redis-py 8

    async def close(self) -> None:
        await self._redis.aclose()

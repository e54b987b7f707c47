"""The Redis bus: pokes published on one node reach the subscribers of every node (Redis pub/sub); socket slots
are shared by every node through one sorted set per key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Where a key's slots live: a sorted set whose members are holders and whose scores are their expiry (ms).
SLOT_PREFIX = "parley:ws-slots:"
# How often a node pushes back the expiry of the slots its open sockets hold.
SLOT_REFRESH_SECONDS = 15.0
# How long a slot lives without a refresh: three refresh periods, so one late refresh loses nothing, while the
# slots of a crashed node stop counting within 45 s (its clients reconnect to another node meanwhile).
SLOT_TTL_MS = 45_000
# Slots refreshed per round trip.
REFRESH_CHUNK = 500
# Atomic take: drop lapsed holders, then add this one unless the key is full (a holder already in is renewed).
# Times come from Redis's own clock, so nodes whose clocks differ agree.
ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""
# Renew the holders ARGV[2..] of KEYS[1..]; a holder whose slot lapsed meanwhile is not added back (XX).
REFRESH_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"""


class RedisSlots:
    """:class:`parley.service.ports.SocketSlots` shared by every node; this node refreshes what it holds."""

    def __init__(self, redis: Redis, ttl_ms: int = SLOT_TTL_MS, refresh_seconds: float = SLOT_REFRESH_SECONDS) -> None:
        self._redis = redis
        self.ttl_ms = ttl_ms
        self.refresh_seconds = refresh_seconds
        self._acquire = redis.register_script(ACQUIRE_SCRIPT)
        self._refresh = redis.register_script(REFRESH_SCRIPT)
        # What this node holds: holder -> key.
        self._held: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    async def acquire(self, key: str, holder: str, limit: int) -> bool:
        taken = await self._acquire(keys=[SLOT_PREFIX + key], args=[holder, limit, self.ttl_ms])
        if not taken:
            return False
        self._held[holder] = key
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._refresher())
        return True

    async def release(self, key: str, holder: str) -> None:
        self._held.pop(holder, None)  # no longer refreshed: lapses by itself if the removal below fails
        await self._redis.zrem(SLOT_PREFIX + key, holder)

    async def refresh(self) -> None:
        """Push back the expiry of every slot this node holds."""
        held = list(self._held.items())
        for start in range(0, len(held), REFRESH_CHUNK):
            chunk = held[start:start + REFRESH_CHUNK]
            await self._refresh(keys=[SLOT_PREFIX + key for _, key in chunk],
                                args=[self.ttl_ms, *(holder for holder, _ in chunk)])

    async def _refresher(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:  # Redis away for a moment: the next round tries again
                log.warning("could not refresh the websocket slots in Redis: %s", exc)

    async def close(self) -> None:
        """Stop refreshing and give back what this node holds (its sockets are closing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        held, self._held = self._held, {}
        if held:
            with contextlib.suppress(Exception):  # lapse by themselves otherwise
                async with self._redis.pipeline(transaction=False) as pipe:
                    for holder, key in held.items():
                        pipe.zrem(SLOT_PREFIX + key, holder)
                    await pipe.execute()


class RedisBus:
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis = Redis.from_url(url)
        self.slots = RedisSlots(self._redis)

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

    async def ping(self) -> None:
        """For ``/ready``: one PING round trip; raises when Redis does not answer."""
        await self._redis.ping()

    async def close(self) -> None:
        await self.slots.close()
        await self._redis.aclose()

"""The Redis bus: pokes published on one node reach the subscribers of every node (Redis pub/sub); socket slots
are shared by every node through one sorted set per key.

Redis is not the truth (the database is), so a node keeps working while Redis is away: a poke that cannot be
published is dropped (every hub catches its chats up from storage every few seconds), a subscription that breaks is
made again as soon as Redis answers, and websocket slots are counted by this node alone until Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

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
# Tries of a command after its first failure, and the pause between them: Redis restarting drops connections
# once, and a second connection gets through. redis-py's default (10 retries, up to 1 s apart) held every request
# that publishes a poke for seconds while Redis was down.
COMMAND_RETRIES = 2
RETRY_BACKOFF_SECONDS = (0.01, 0.05)  # (first pause, longest pause)
# Connecting to Redis gives up after this long (a host that drops packets would otherwise hold a request).
CONNECT_TIMEOUT_SECONDS = 2.0
# After a publish failed, pokes are dropped without trying for this long: requests do not each wait for an
# unreachable Redis, and the hubs' periodic catch-up from storage delivers meanwhile.
PUBLISH_PAUSE_SECONDS = 1.0
# Pauses between attempts to subscribe again after a subscription broke: the first, and the cap of the doubling.
RESUBSCRIBE_PAUSE_SECONDS = (0.1, 2.0)
# The bus still counts as degraded this long after Redis answered again: pokes published by other nodes just before
# they noticed were dropped, and a look at the database finds what they were about.
RECOVERY_SECONDS = 3.0
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
# Put back holders ARGV[2..] of KEYS[1..] that opened while Redis was unreachable (or lost everything on restart).
RESTORE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"""


class RedisSlots:
    """:class:`parley.service.ports.SocketSlots` shared by every node; this node refreshes what it holds.

    While Redis cannot be reached, a slot is taken against this node's own count instead (fail open): for the few
    seconds of an outage a participant might hold more than ``limit`` sockets over several nodes, which is better
    than refusing every customer's reconnect. The slots taken meanwhile are put into Redis once it answers again.
    """

    def __init__(self, redis: Redis, ttl_ms: int = SLOT_TTL_MS, refresh_seconds: float = SLOT_REFRESH_SECONDS) -> None:
        self._redis = redis
        self.ttl_ms = ttl_ms
        self.refresh_seconds = refresh_seconds
        self._acquire = redis.register_script(ACQUIRE_SCRIPT)
        self._refresh = redis.register_script(REFRESH_SCRIPT)
        self._restore = redis.register_script(RESTORE_SCRIPT)
        # What this node holds: holder -> key.
        self._held: dict[str, str] = {}
        # Holders taken while Redis was unreachable, not yet in Redis.
        self._unshared: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def acquire(self, key: str, holder: str, limit: int) -> bool:
        try:
            taken = await self._acquire(keys=[SLOT_PREFIX + key], args=[holder, limit, self.ttl_ms])
        except (RedisError, OSError) as exc:
            if sum(1 for held in self._held.values() if held == key) >= limit:
                return False
            if not self._unshared:
                log.warning("Redis is unreachable (%s): websocket slots are counted by this node alone until it "
                            "is back", exc)
            self._unshared.add(holder)
            taken = True
        if not taken:
            return False
        self._held[holder] = key
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._refresher())
        return True

    async def release(self, key: str, holder: str) -> None:
        self._held.pop(holder, None)  # no longer refreshed: lapses by itself if the removal below fails
        self._unshared.discard(holder)
        await self._redis.zrem(SLOT_PREFIX + key, holder)

    async def refresh(self) -> None:
        """Push back the expiry of every slot this node holds; put into Redis those taken while it was away."""
        held = list(self._held.items())
        for start in range(0, len(held), REFRESH_CHUNK):
            chunk = held[start:start + REFRESH_CHUNK]
            await self._refresh(keys=[SLOT_PREFIX + key for _, key in chunk],
                                args=[self.ttl_ms, *(holder for holder, _ in chunk)])
        unshared = [(holder, self._held[holder]) for holder in self._unshared if holder in self._held]
        for start in range(0, len(unshared), REFRESH_CHUNK):
            chunk = unshared[start:start + REFRESH_CHUNK]
            await self._restore(keys=[SLOT_PREFIX + key for _, key in chunk],
                                args=[self.ttl_ms, *(holder for holder, _ in chunk)])
        if self._unshared:
            log.info("Redis answers again: %d websocket slots taken meanwhile are shared again", len(unshared))
            self._unshared.clear()

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
        self._redis: Redis = Redis.from_url(
            url, retry=Retry(ExponentialBackoff(cap=RETRY_BACKOFF_SECONDS[1], base=RETRY_BACKOFF_SECONDS[0]),
                             COMMAND_RETRIES),
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
        self.slots = RedisSlots(self._redis)
        # Until when (event loop time) pokes are dropped without trying, after a publish failed.
        self._paused_until = 0.0
        # Subscriptions broken now, and until when (event loop time) the bus counts as degraded after the last
        # failure was over (see degraded()).
        self._broken = 0
        self._recovering_until = 0.0

    async def check(self) -> None:
        """Fail at start-up, with the URL in the message, when Redis cannot be reached."""
        try:
            await self._redis.ping()
        except Exception as exc:
            raise OSError(f"cannot reach the Redis bus at {self.url}: {exc}") from exc

    async def publish(self, channel: str, payload: bytes) -> None:
        """Best effort: while Redis is unreachable the poke is dropped (the hubs catch up from storage)."""
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            return
        try:
            await self._redis.publish(channel, payload)
        except (RedisError, OSError) as exc:
            if self._paused_until == 0.0:
                log.warning("Redis is unreachable (%s): pokes are dropped and sockets are fed by the periodic "
                            "catch-up until it is back", exc)
            self._paused_until = now + PUBLISH_PAUSE_SECONDS
            return
        if self._paused_until:
            log.info("Redis answers again: pokes are published again")
            self._paused_until = 0.0
            self._recovered()

    def degraded(self) -> bool:
        now = asyncio.get_running_loop().time()
        return self._broken > 0 or now < self._paused_until or now < self._recovering_until

    def _recovered(self) -> None:
        self._recovering_until = asyncio.get_running_loop().time() + RECOVERY_SECONDS

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Messages of ``channel``; when the subscription breaks (Redis restarted, a connection dropped), it is made
        again as soon as Redis answers. What was published in between is lost: subscribers catch up otherwise."""
        current = [await self._subscribed(channel)]

        async def messages() -> AsyncIterator[bytes]:
            while True:
                try:
                    async for message in current[0].listen():
                        if message.get("type") == "message":
                            data = message["data"]
                            yield data if isinstance(data, bytes) else str(data).encode()
                except (RedisError, OSError) as exc:
                    log.warning("the Redis subscription to %s broke (%s); subscribing again", channel, exc)
                await _close(current[0], channel)
                self._broken += 1
                try:
                    current[0] = await self._resubscribe(channel)
                finally:
                    self._broken -= 1
                    self._recovered()

        try:
            yield messages()
        finally:
            await _close(current[0], channel)

    async def _subscribed(self, channel: str) -> Any:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
        except BaseException:
            await _close(pubsub, channel)
            raise
        return pubsub

    async def _resubscribe(self, channel: str) -> Any:
        """Subscribe to ``channel`` again, trying until Redis answers."""
        pause, longest = RESUBSCRIBE_PAUSE_SECONDS
        while True:
            await asyncio.sleep(pause)
            try:
                pubsub = await self._subscribed(channel)
            except (RedisError, OSError):
                pause = min(pause * 2, longest)
                continue
            log.info("subscribed to %s again", channel)
            return pubsub

    async def ping(self) -> None:
        """For ``/ready``: one PING round trip; raises when Redis does not answer."""
        await self._redis.ping()

    async def close(self) -> None:
        await self.slots.close()
        await self._redis.aclose()


async def _close(pubsub: Any, channel: str) -> None:
    with contextlib.suppress(Exception):
        await pubsub.unsubscribe(channel)
    with contextlib.suppress(Exception):
        await cast(Any, pubsub).aclose()  # unannotated before redis-py 8

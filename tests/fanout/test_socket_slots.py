"""Redis socket slots across nodes: a live node's slots are kept alive by its refresh, a crashed node's lapse
(nobody is locked out for good), and a node that stops gives its slots back at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from parley.fanout.redis import SLOT_PREFIX, RedisSlots
from tests.fanout.test_bus_contract import REDIS_URL, ensure_redis

# Short enough for a quick test, long enough that a loaded machine still refreshes in time (3 refreshes a TTL).
TTL_MS = 900
REFRESH_SECONDS = 0.3


@pytest.fixture()
async def redis() -> AsyncIterator[Redis]:
    ensure_redis()
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_a_live_nodes_slots_outlast_their_ttl_and_a_crashed_nodes_lapse(redis: Redis) -> None:
    key = f"participant-{time.monotonic_ns()}"
    node_a = RedisSlots(redis, ttl_ms=TTL_MS, refresh_seconds=REFRESH_SECONDS)
    node_b = RedisSlots(redis, ttl_ms=TTL_MS, refresh_seconds=REFRESH_SECONDS)
    for n in range(4):
        assert await node_a.acquire(key, f"a-{n}", 5)
    assert await node_b.acquire(key, "b-0", 5)
    await asyncio.sleep(3 * TTL_MS / 1000)  # refreshed meanwhile: still held
    assert not await node_b.acquire(key, "b-1", 5)
    # node A crashes: its refresher stops and nothing is released; node B keeps refreshing its own slot
    assert node_a._task is not None
    node_a._task.cancel()
    await asyncio.sleep(2 * TTL_MS / 1000)
    assert [await node_b.acquire(key, f"b-{n}", 5) for n in range(1, 6)] == [True] * 4 + [False]
    assert await redis.zcard(SLOT_PREFIX + key) == 5
    await node_b.close()
    assert await redis.exists(SLOT_PREFIX + key) == 0  # a stopping node gives its slots back


async def test_a_released_slot_is_not_refreshed_back(redis: Redis) -> None:
    key = f"participant-{time.monotonic_ns()}"
    node = RedisSlots(redis, ttl_ms=TTL_MS, refresh_seconds=REFRESH_SECONDS)
    assert await node.acquire(key, "s-0", 1)
    await node.release(key, "s-0")
    await node.refresh()
    assert await redis.zcard(SLOT_PREFIX + key) == 0
    assert await node.acquire(key, "s-1", 1)
    await node.close()

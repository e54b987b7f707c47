"""One contract for every bus adapter: the in-process bus and Redis (started here if it is down)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from parley.fanout import open_bus
from parley.fanout.local import LocalBus
from parley.fanout.redis import RedisBus

REDIS_URL = "redis://127.0.0.1:6379/0"


def ensure_redis() -> None:
    """Start the machine's Redis when it is down; fail (never skip) when it cannot be had."""
    import redis

    def up() -> bool:
        try:
            return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    if up():
        return
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed and Redis is not running on 127.0.0.1:6379"
    subprocess.run([server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
                    "--appendonly", "no"], check=True)
    deadline = time.monotonic() + 15
    while not up():
        assert time.monotonic() < deadline, "Redis did not come up"
        time.sleep(0.2)


@pytest.fixture(scope="module", params=["local", "redis"])
def bus_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis":
        ensure_redis()
        yield REDIS_URL
    else:
        yield "local://"


@pytest.fixture()
async def bus(bus_url: str) -> AsyncIterator[Any]:
    opened = await open_bus(bus_url)
    yield opened
    await opened.close()


async def _collect(messages: AsyncIterator[bytes], count: int) -> list[bytes]:
    out: list[bytes] = []
    async for payload in messages:
        out.append(payload)
        if len(out) == count:
            return out
    return out


async def test_every_subscriber_gets_every_message_in_order(bus: Any) -> None:
    channel = f"test.{time.monotonic_ns()}"
    async with bus.subscribe(channel) as first, bus.subscribe(channel) as second:
        await asyncio.sleep(0.05)  # Redis confirms a subscription asynchronously
        for n in range(50):
            await bus.publish(channel, f"m{n}".encode())
        got = await asyncio.wait_for(asyncio.gather(_collect(first, 50), _collect(second, 50)), 5)
    expected = [f"m{n}".encode() for n in range(50)]
    assert got == [expected, expected]


async def test_channels_are_separate_and_unsubscribe_stops_delivery(bus: Any) -> None:
    base = f"test.{time.monotonic_ns()}"
    async with bus.subscribe(base + ".a") as only_a:
        await asyncio.sleep(0.05)
        await bus.publish(base + ".b", b"not for a")
        await bus.publish(base + ".a", b"for a")
        assert await asyncio.wait_for(_collect(only_a, 1), 5) == [b"for a"]
    await bus.publish(base + ".a", b"after unsubscribe")  # must not fail with nobody listening


async def test_binary_payloads_survive(bus: Any) -> None:
    channel = f"test.{time.monotonic_ns()}"
    payload = bytes(range(256)) + '{"chat": "é"}'.encode()
    async with bus.subscribe(channel) as messages:
        await asyncio.sleep(0.05)
        await bus.publish(channel, payload)
        assert await asyncio.wait_for(_collect(messages, 1), 5) == [payload]


@pytest.fixture()
async def peer(bus_url: str, bus: Any) -> AsyncIterator[Any]:
    """The bus as another node sees it: a second connection to Redis; the same bus for the in-process one."""
    if bus_url == "local://":
        yield bus
        return
    other = await open_bus(bus_url)
    yield other
    await other.close()


async def test_slots_are_counted_per_key_up_to_the_limit(bus: Any) -> None:
    key = f"participant-{time.monotonic_ns()}"
    assert [await bus.slots.acquire(key, f"socket-{n}", 5) for n in range(5)] == [True] * 5
    assert await bus.slots.acquire(key, "socket-5", 5) is False
    assert await bus.slots.acquire(key, "socket-0", 5) is True  # a holder that has one keeps it
    assert await bus.slots.acquire(key + "-other", "socket-5", 5) is True  # keys are separate
    await bus.slots.release(key, "socket-3")
    assert await bus.slots.acquire(key, "socket-5", 5) is True
    assert await bus.slots.acquire(key, "socket-6", 5) is False
    await bus.slots.release(key, "never-held")  # releasing what is not held changes nothing
    assert await bus.slots.acquire(key, "socket-6", 5) is False
    for n in range(7):
        await bus.slots.release(key, f"socket-{n}")
    await bus.slots.release(key + "-other", "socket-5")
    assert await bus.slots.acquire(key, "socket-7", 1) is True


async def test_slots_are_shared_by_every_node(bus: Any, peer: Any) -> None:
    key = f"participant-{time.monotonic_ns()}"
    for n in range(3):
        assert await bus.slots.acquire(key, f"a-{n}", 5)
    assert await peer.slots.acquire(key, "b-0", 5)
    assert await peer.slots.acquire(key, "b-1", 5)
    assert not await peer.slots.acquire(key, "b-2", 5)
    assert not await bus.slots.acquire(key, "a-3", 5)
    await bus.slots.release(key, "a-0")
    assert await peer.slots.acquire(key, "b-2", 5)


async def test_racing_acquires_never_exceed_the_limit(bus: Any, peer: Any) -> None:
    key = f"participant-{time.monotonic_ns()}"
    results = await asyncio.gather(*(node.slots.acquire(key, f"s-{n}", 5)
                                     for n in range(40) for node in [(bus, peer)[n % 2]]))
    assert results.count(True) == 5


async def test_open_bus_picks_the_adapter_and_refuses_others() -> None:
    assert isinstance(await open_bus("local://"), LocalBus)
    ensure_redis()
    redis_bus = await open_bus(REDIS_URL)
    assert isinstance(redis_bus, RedisBus)
    await redis_bus.close()
    with pytest.raises(ValueError, match="unsupported bus URL"):
        await open_bus("nats://127.0.0.1:4222")
    with pytest.raises(OSError, match="cannot reach the Redis bus"):
        await open_bus("redis://127.0.0.1:1/0")

"""Agent wake-ups: a poke that lands while a long poll is still reading the snapshot is not lost; while the bus is
degraded, waiting long polls are woken to look again."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from parley.fanout import agent_signals
from parley.fanout.agent_signals import AgentSignals
from parley.fanout.local import LocalBus
from parley.fanout.redis import RedisBus
from parley.service.pokes import AGENT_CHANNEL


async def poke(bus: LocalBus, signals: AgentSignals, *users: str) -> None:
    before = {u: signals.mark(u) for u in users}
    await bus.publish(AGENT_CHANNEL, orjson.dumps({"agents": list(users)}))
    for _ in range(100):  # the listener task takes the poke on the next turns of the loop
        if all(signals.mark(u) > before[u] for u in users):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the poke never arrived")


async def test_a_poke_between_reading_and_waiting_wakes_the_wait_at_once() -> None:
    bus = LocalBus()
    signals = AgentSignals(bus)
    await signals.start()
    try:
        seen = signals.mark("agent-1")
        await poke(bus, signals, "agent-1")  # lands "while the snapshot is read", before wait() is called
        started = time.monotonic()
        await signals.wait("agent-1", 5.0, since=seen)
        assert time.monotonic() - started < 1.0

        # Without a poke since the mark the wait lasts until the timeout; a poke of another agent does not count.
        seen = signals.mark("agent-1")
        await poke(bus, signals, "agent-2")
        started = time.monotonic()
        await signals.wait("agent-1", 0.3, since=seen)
        assert time.monotonic() - started >= 0.25

        # A poke while waiting still wakes the wait.
        seen = signals.mark("agent-1")
        waiting = asyncio.ensure_future(signals.wait("agent-1", 5.0, since=seen))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await poke(bus, signals, "agent-1")
        await asyncio.wait_for(waiting, 1.0)
    finally:
        await signals.stop()
        await bus.close()


class SwitchedBus(LocalBus):
    """The in-process bus, said to be degraded (as Redis is while unreachable) when ``down`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def degraded(self) -> bool:
        return self.down


async def test_while_the_bus_is_degraded_waiting_long_polls_are_woken_to_look_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_signals, "DEGRADED_WAKE_SECONDS", 0.05)
    bus = SwitchedBus()
    signals = AgentSignals(bus)
    await signals.start()
    try:
        # A healthy bus: nothing but a poke (or the timeout) ends the wait.
        waiting = asyncio.ensure_future(signals.wait("agent-1", 5.0, since=signals.mark("agent-1")))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        # Degraded (pokes from other nodes may be lost): the wait ends without a poke, soon.
        bus.down = True
        await asyncio.wait_for(waiting, 2.0)
        again = asyncio.ensure_future(signals.wait("agent-2", 5.0, since=signals.mark("agent-2")))
        await asyncio.wait_for(again, 2.0)
    finally:
        await signals.stop()
        await bus.close()


async def test_redis_bus_is_degraded_while_it_cannot_publish_and_a_moment_after() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        assert not bus.degraded()
        await bus.publish(AGENT_CHANNEL, b"{}")  # dropped: Redis cannot be reached
        assert bus.degraded()
    finally:
        await bus.close()

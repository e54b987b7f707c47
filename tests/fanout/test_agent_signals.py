"""Agent wake-ups: a poke that lands while a long poll is still reading the snapshot is not lost."""

from __future__ import annotations

import asyncio
import time

import orjson

from parley.fanout.agent_signals import AgentSignals
from parley.fanout.local import LocalBus
from parley.service.notify import AGENT_CHANNEL


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

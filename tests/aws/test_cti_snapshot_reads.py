"""How often a snapshot long poll reads the agent's snapshot: a CCP asks again as soon as it has its answer, and
when nothing about the agent changed since (no poke), the poll waits for a poke before reading, instead of reading
the same snapshot first. A poke, a different version or an old answer make it read at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import pytest

from parley.aws.cti import handlers as cti_handlers
from parley.aws.cti.handlers import CtiHandlers
from parley.domain.agents import AgentSession
from parley.domain.arns import Account
from parley.fanout.agent_signals import AgentSignals
from parley.fanout.local import LocalBus
from parley.service.pokes import AGENT_CHANNEL

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WHO = AgentSession("access", "instance-1", "user-1", NOW, NOW + timedelta(hours=1))


class Agents:
    """Stands for the AgentService: the agent's state is a version string; each view is counted."""

    def __init__(self) -> None:
        self.state = "v1"
        self.views = 0

    async def view(self, who: AgentSession) -> str:
        self.views += 1
        return self.state


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(cti_handlers, "render_snapshot", lambda view, account, now: {"state": view})
    monkeypatch.setattr(cti_handlers, "version_of", lambda snapshot: snapshot["state"])
    bus = LocalBus()
    signals = AgentSignals(bus)
    await signals.start()
    agents = Agents()
    handlers = CtiHandlers(cast(Any, agents), cast(Any, None), signals, Account("us-west-2", "123456789012"),
                           cast(Any, None), cast(Any, None))
    try:
        yield handlers, agents, bus, signals
    finally:
        await signals.stop()
        await bus.close()


async def poke(bus: LocalBus, signals: AgentSignals) -> None:
    before = signals.mark(WHO.user_id)
    await bus.publish(AGENT_CHANNEL, orjson.dumps({"agents": [WHO.user_id]}))
    while signals.mark(WHO.user_id) == before:
        await asyncio.sleep(0.01)


async def test_asking_again_with_the_last_answer_reads_only_after_a_poke_or_at_the_end(world: Any) -> None:
    handlers, agents, bus, signals = world
    first = await handlers.get_agent_snapshot(WHO, {})
    assert (first["nextToken"], agents.views) == ("v1", 1)

    # Nothing changed: no read until the poll ends (one read then, for its answer).
    again = await handlers.get_agent_snapshot(WHO, {"nextToken": "v1", "timeout": 300})
    assert (again["nextToken"], agents.views) == ("v1", 2)

    # Something changed while it waited: the poke wakes it, it reads once and answers the new version.
    waiting = asyncio.ensure_future(handlers.get_agent_snapshot(WHO, {"nextToken": "v1", "timeout": 20000}))
    await asyncio.sleep(0.1)
    assert agents.views == 2 and not waiting.done()
    agents.state = "v2"
    await poke(bus, signals)
    answer = await asyncio.wait_for(waiting, 5)
    assert (answer["nextToken"], agents.views) == ("v2", 3)


async def test_a_poke_since_the_answer_or_another_version_is_read_at_once(world: Any) -> None:
    handlers, agents, bus, signals = world
    await handlers.get_agent_snapshot(WHO, {})
    agents.state = "v2"
    await poke(bus, signals)  # between the answer and the next poll
    answer = await asyncio.wait_for(handlers.get_agent_snapshot(WHO, {"nextToken": "v1", "timeout": 20000}), 5)
    assert (answer["nextToken"], agents.views) == ("v2", 2)

    # A token this node did not answer last (another node's, an older one) is checked against a fresh read.
    agents.state = "v3"
    answer = await asyncio.wait_for(handlers.get_agent_snapshot(WHO, {"nextToken": "v1", "timeout": 20000}), 5)
    assert (answer["nextToken"], agents.views) == ("v3", 3)


async def test_an_answer_older_than_a_moment_is_read_again_first(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    handlers, agents, _bus, _signals = world
    monkeypatch.setattr(cti_handlers, "SAME_ANSWER_SECONDS", 0.0)
    await handlers.get_agent_snapshot(WHO, {})
    agents.state = "v2"  # changed without a poke: only a read finds it
    answer = await asyncio.wait_for(handlers.get_agent_snapshot(WHO, {"nextToken": "v1", "timeout": 20000}), 5)
    assert (answer["nextToken"], agents.views) == ("v2", 2)

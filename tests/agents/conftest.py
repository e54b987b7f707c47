"""Fixtures of the agent suites: each module names its own server ``agents_server``; the world of signed-in
agents on it and the reset after every test are shared."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.agents.cti import World
from tests.conftest import Server


@pytest.fixture(scope="module")
async def world(agents_server: Server) -> AsyncIterator[World]:
    opened = await World.open(agents_server)
    yield opened
    await opened.close()


@pytest.fixture(autouse=True)
async def fresh(world: World) -> AsyncIterator[None]:
    yield
    await world.reset()

"""The canned-response use cases on a real SQLite database: who may read and change which list, validation with
its messages, names unique per list, the per-list limit, and the demo's three shared responses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from parley.domain.callers import SYSTEM, Member
from parley.domain.canned import MAX_NAME, MAX_OWN_RESPONSES, MAX_TEXT
from parley.domain.errors import AccessDenied, Duplicate, InvalidParameter, LimitExceeded, NotFound
from parley.domain.permissions import ACCESS_CCP, SETTINGS_EDIT, SETTINGS_VIEW
from parley.domain.resources import User
from parley.service.canned import DEMO_RESPONSES, CannedResponseService
from parley.service.demo import ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.storage import open_storage
from parley.storage.database import SqlStorage


@dataclass
class World:
    storage: SqlStorage
    canned: CannedResponseService
    instance_id: str
    users: dict[str, User]

    def member(self, username: str, *permissions: str) -> Member:
        return Member(self.users[username], frozenset(permissions))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    instances = InstanceService(storage)
    demo = await ensure_demo(storage, instances, DirectoryService(storage, Passwords(fast=True)),
                             QuickConnectService(storage))
    async with storage.transaction() as uow:
        users = {u.username: u for u in await uow.resources.all(User, demo.instance.id)}
    yield World(storage, CannedResponseService(storage), demo.instance.id, users)
    await storage.close()


async def test_the_demo_has_three_shared_responses(world: World) -> None:
    agent = world.member("agent1", ACCESS_CCP)
    found = await world.canned.for_agent(agent)
    assert sorted((r.name, r.text) for r in found.shared) == sorted(DEMO_RESPONSES)
    assert found.own == []


async def test_an_agent_keeps_its_own_list(world: World) -> None:
    agent1, agent2 = world.member("agent1", ACCESS_CCP), world.member("agent2", ACCESS_CCP)
    mine = await world.canned.create(agent1, world.instance_id, "  Refund policy ", "Refunds take 5 days.\r\nThanks!",
                                     owner_user_id=agent1.user.id)
    assert (mine.name, mine.text, mine.owner_user_id) == ("Refund policy", "Refunds take 5 days.\nThanks!",
                                                        agent1.user.id)
    assert [r.name for r in (await world.canned.for_agent(agent1)).own] == ["Refund policy"]
    assert (await world.canned.for_agent(agent2)).own == [], "agent2 does not see agent1's own"
    with pytest.raises(AccessDenied, match="only the instance's canned responses and their own"):
        await world.canned.delete(agent2, mine.id)
    with pytest.raises(AccessDenied):
        await world.canned.create(agent2, world.instance_id, "Sneaky", "text", owner_user_id=agent1.user.id)
    with pytest.raises(Duplicate, match="Your list already has a canned response named 'Refund policy'"):
        await world.canned.create(agent1, world.instance_id, "Refund policy", "again", owner_user_id=agent1.user.id)
    changed = await world.canned.update(agent1, mine.id, text="Refunds take 3 days.")
    assert changed.name == "Refund policy" and changed.text == "Refunds take 3 days."
    assert await world.canned.delete(agent1, mine.id) == changed
    with pytest.raises(NotFound):
        await world.canned.describe(agent1, mine.id)


async def test_the_shared_list_takes_the_settings_permissions(world: World) -> None:
    agent = world.member("agent1", ACCESS_CCP)
    viewer = world.member("supervisor", SETTINGS_VIEW)
    admin = world.member("admin", SETTINGS_VIEW, SETTINGS_EDIT)
    with pytest.raises(AccessDenied, match=r"TelephonyAndChat\.Edit"):
        await world.canned.create(agent, world.instance_id, "Team reply", "Hello")
    with pytest.raises(AccessDenied, match=r"TelephonyAndChat\.Edit"):
        await world.canned.create(viewer, world.instance_id, "Team reply", "Hello")
    created = await world.canned.create(admin, world.instance_id, "Team reply", "Hello")
    assert created.shared
    assert "Team reply" in [r.name for r in await world.canned.list_responses(viewer, world.instance_id)]
    with pytest.raises(AccessDenied):
        await world.canned.update(agent, created.id, text="changed by an agent")
    with pytest.raises(Duplicate, match="The instance's list already has"):
        await world.canned.update(admin, created.id, name="Greeting")
    await world.canned.delete(admin, created.id)
    # An agent may not use canned responses without the CCP's permission.
    with pytest.raises(AccessDenied, match="BasicAgentAccess"):
        await world.canned.for_agent(world.member("agent2"))


async def test_members_of_another_instance_are_refused(world: World) -> None:
    other = await InstanceService(world.storage).create_instance(SYSTEM, "other", "CONNECT_MANAGED", True, True)
    admin = world.member("admin", SETTINGS_VIEW, SETTINGS_EDIT)
    with pytest.raises(AccessDenied, match="own instance"):
        await world.canned.create(admin, other.id, "Hello", "Hello")
    with pytest.raises(NotFound):  # SYSTEM may act anywhere, but the agent must be of that instance
        await world.canned.create(SYSTEM, other.id, "Hello", "Hello", owner_user_id=world.users["agent1"].id)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("", "Hello", "needs a name of 1 to 100"),
    ("x" * (MAX_NAME + 1), "Hello", "needs a name of 1 to 100"),
    ("two\nlines", "Hello", "must be one line"),
    ("evil\u202e", "Hello", "must be one line"),
    ("Name", "   ", "needs a text"),
    ("Name", "x" * (MAX_TEXT + 1), "at most 4000 characters"),
    ("Name", "bell\x07", "cannot contain control characters"),
])
async def test_invalid_values_are_refused_and_nothing_is_written(world: World, name: str, text: str,
                                                                 message: str) -> None:
    agent = world.member("agent1", ACCESS_CCP)
    with pytest.raises(InvalidParameter, match=message):
        await world.canned.create(agent, world.instance_id, name, text, owner_user_id=agent.user.id)
    assert (await world.canned.for_agent(agent)).own == []


async def test_an_agent_list_holds_at_most_100(world: World) -> None:
    agent = world.member("agent3", ACCESS_CCP)
    for n in range(MAX_OWN_RESPONSES):
        await world.canned.create(SYSTEM, world.instance_id, f"Reply {n:03}", "text", owner_user_id=agent.user.id)
    with pytest.raises(LimitExceeded, match="100 canned responses"):
        await world.canned.create(agent, world.instance_id, "One more", "text", owner_user_id=agent.user.id)
    assert len((await world.canned.for_agent(agent)).own) == MAX_OWN_RESPONSES

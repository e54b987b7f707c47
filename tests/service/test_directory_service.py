"""The directory (``parley.service.directory.DirectoryService``) in process, on a real storage: users (with their
agent queue), security profiles, routing profiles and queues created, described, listed, updated and deleted; and
every refusal with its domain error and message, changing nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from parley.domain.callers import SYSTEM
from parley.domain.errors import Duplicate, InvalidParameter, InvalidRequest, NotFound
from parley.domain.resources import (
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
)
from parley.service.directory import MAX_SECURITY_PROFILES_PER_USER, DirectoryService
from parley.service.instances import BASIC_QUEUE, BASIC_ROUTING_PROFILE, InstanceService
from parley.service.passwords import Passwords
from parley.storage import open_storage
from parley.storage.database import SqlStorage
from tests.service.agent_world import says

PASSWORD = "Parley-test-1"
# An id that names nothing (the shape of a real one).
NOBODY = "00000000-0000-4000-8000-000000000000"


@dataclass
class Directory:
    storage: SqlStorage
    service: DirectoryService
    instance_id: str
    basic_queue: Queue
    basic_profile: RoutingProfile
    agent_profile: SecurityProfile

    async def user(self, username: str = "ann", **changes: object) -> User:
        args: dict[str, object] = {
            "password": PASSWORD, "identity": IdentityInfo(first_name="Ann", last_name="Lee"),
            "phone": PhoneConfig(), "security_profile_ids": [self.agent_profile.id],
            "routing_profile_id": self.basic_profile.id, **changes,
        }
        return await self.service.create_user(SYSTEM, self.instance_id, username, **args)  # type: ignore[arg-type]

    def missing(self, label: str, resource_id: str) -> str:
        """The ``match`` pattern of the NotFound message of resource ``label`` ``resource_id`` in this instance."""
        return says(f"{label} {resource_id} was not found in instance {self.instance_id}.")

    async def everything(self) -> dict[str, list[object]]:
        """Every resource of the instance, to show a refusal changed nothing."""
        async with self.storage.transaction() as uow:
            return {kind.KIND: sorted(map(repr, await uow.resources.all(kind, self.instance_id)))
                    for kind in (User, Queue, SecurityProfile, RoutingProfile)}


@pytest.fixture
async def directory(tmp_path: Path) -> AsyncIterator[Directory]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    try:
        instance = await InstanceService(storage).create_instance(SYSTEM, "directory", "CONNECT_MANAGED", True, True)
        async with storage.transaction() as uow:
            queue = await uow.resources.find_by_name(Queue, instance.id, BASIC_QUEUE)
            profile = await uow.resources.find_by_name(RoutingProfile, instance.id, BASIC_ROUTING_PROFILE)
            agent = await uow.resources.find_by_name(SecurityProfile, instance.id, "Agent")
        assert queue and profile and agent
        yield Directory(storage, DirectoryService(storage, Passwords(fast=True)), instance.id, queue, profile, agent)
    finally:
        await storage.close()


# users --------------------------------------------------------------------------------------------------
async def test_a_user_is_created_with_its_own_agent_queue(directory: Directory) -> None:
    user = await directory.user(auto_accept_chat=True, tags={"team": "blue"})
    described = await directory.service.get_user(SYSTEM, directory.instance_id, user.id)
    assert described == user
    assert (described.username, described.display_name, described.auto_accept_chat) == ("ann", "Ann", True)
    assert described.security_profile_ids == (directory.agent_profile.id,)
    assert described.tags == {"team": "blue"}
    assert described.password_hash and PASSWORD not in described.password_hash
    assert await directory.service.passwords.verify(described.password_hash, PASSWORD)
    queue = await directory.service.get_queue(SYSTEM, directory.instance_id, user.agent_queue_id)
    assert (queue.queue_type, queue.owner_user_id, queue.name) == ("AGENT", user.id, None)
    assert await directory.service.find_user_by_username(directory.instance_id, "ann") == user


async def test_users_are_listed_by_name_a_page_at_a_time(directory: Directory) -> None:
    for name in ("cy", "Ann", "bob"):
        await directory.user(name)
    page, token = await directory.service.list_users(SYSTEM, directory.instance_id, None, 2)
    assert [u.username for u in page] == ["Ann", "bob"] and token
    rest, end = await directory.service.list_users(SYSTEM, directory.instance_id, token, 2)
    assert [u.username for u in rest] == ["cy"] and end is None


async def test_a_user_of_a_connect_managed_instance_needs_a_password(directory: Directory) -> None:
    before = await directory.everything()
    with pytest.raises(InvalidParameter, match=says(
            "A password is required for users of an instance that manages its own identities.")):
        await directory.user(password=None)
    assert await directory.everything() == before


async def test_usernames_are_unique_in_an_instance(directory: Directory) -> None:
    await directory.user("ann")
    before = await directory.everything()
    with pytest.raises(Duplicate, match=says("A user with username 'ann' already exists.")):
        await directory.user("ann")
    assert await directory.everything() == before


async def test_two_users_created_at_once_with_one_username_make_one_user(directory: Directory) -> None:
    """The name is checked again after the password is hashed (in a thread, outside any transaction)."""
    outcomes = await asyncio.gather(directory.user("twin"), directory.user("twin"), return_exceptions=True)
    made = [o for o in outcomes if isinstance(o, User)]
    refused = [o for o in outcomes if isinstance(o, Duplicate)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    listed, _ = await directory.service.list_users(SYSTEM, directory.instance_id, None, 100)
    assert [u.id for u in listed] == [made[0].id]
    agent_queues, _ = await directory.service.list_queues(SYSTEM, directory.instance_id, ["AGENT"], None, 100)
    assert [q.owner_user_id for q in agent_queues] == [made[0].id]


async def test_a_user_refers_to_profiles_that_exist(directory: Directory) -> None:
    before = await directory.everything()
    with pytest.raises(NotFound, match=says(
            f"Security profile {NOBODY} was not found in instance {directory.instance_id}.")) as caught:
        await directory.user(security_profile_ids=[NOBODY])
    assert (caught.value.resource_type, caught.value.resource_id) == ("SECURITY_PROFILE", NOBODY)
    with pytest.raises(NotFound, match=says(
            f"Routing profile {NOBODY} was not found in instance {directory.instance_id}.")):
        await directory.user(routing_profile_id=NOBODY)
    with pytest.raises(InvalidParameter, match=says(
            f"A user can have at most {MAX_SECURITY_PROFILES_PER_USER} security profiles.")):
        await directory.user(security_profile_ids=[directory.agent_profile.id] * 11)
    with pytest.raises(NotFound, match=says(f"Instance {NOBODY} was not found.")):
        await directory.service.create_user(SYSTEM, NOBODY, "x", PASSWORD, IdentityInfo(), PhoneConfig(), [], "x")
    assert await directory.everything() == before


async def test_a_user_is_updated_field_by_field(directory: Directory) -> None:
    user = await directory.user()
    admin = await directory.service.create_security_profile(
        SYSTEM, directory.instance_id, "Helpers", "", ["Users.View"])
    vip = await directory.service.create_routing_profile(
        SYSTEM, directory.instance_id, "VIP", "", directory.basic_queue.id, [MediaConcurrency("CHAT", 2)], [])

    renamed = await directory.service.update_user_identity(SYSTEM, directory.instance_id, user.id,
                                                           IdentityInfo(first_name="Annie"))
    assert renamed.display_name == "Annie" and renamed.modified > user.modified
    moved = await directory.service.update_user_routing_profile(SYSTEM, directory.instance_id, user.id, vip.id)
    assert moved.routing_profile_id == vip.id
    granted = await directory.service.update_user_security_profiles(
        SYSTEM, directory.instance_id, user.id, [admin.id, directory.agent_profile.id, admin.id])
    assert granted.security_profile_ids == (admin.id, directory.agent_profile.id)  # duplicates dropped, in order
    await directory.service.set_password(SYSTEM, directory.instance_id, user.id, "Another-one-2")
    stored = await directory.service.get_user(SYSTEM, directory.instance_id, user.id)
    assert (stored.display_name, stored.routing_profile_id, stored.security_profile_ids) == (
        "Annie", vip.id, (admin.id, directory.agent_profile.id))
    assert await directory.service.passwords.verify(stored.password_hash, "Another-one-2")
    assert not await directory.service.passwords.verify(stored.password_hash, PASSWORD)


async def test_updates_to_what_does_not_exist_are_refused_and_change_nothing(directory: Directory) -> None:
    user = await directory.user()
    before = await directory.everything()
    with pytest.raises(NotFound, match=directory.missing("Routing profile", NOBODY)):
        await directory.service.update_user_routing_profile(SYSTEM, directory.instance_id, user.id, NOBODY)
    with pytest.raises(NotFound, match=directory.missing("Security profile", NOBODY)):
        await directory.service.update_user_security_profiles(SYSTEM, directory.instance_id, user.id,
                                                              [directory.agent_profile.id, NOBODY])
    with pytest.raises(NotFound, match=directory.missing("User", NOBODY)):
        await directory.service.update_user_identity(SYSTEM, directory.instance_id, NOBODY, IdentityInfo())
    assert await directory.everything() == before


async def test_deleting_a_user_deletes_its_agent_queue(directory: Directory) -> None:
    user = await directory.user()
    await directory.service.delete_user(SYSTEM, directory.instance_id, user.id)
    with pytest.raises(NotFound, match=directory.missing("User", user.id)):
        await directory.service.get_user(SYSTEM, directory.instance_id, user.id)
    with pytest.raises(NotFound, match=directory.missing("Queue", user.agent_queue_id)):
        await directory.service.get_queue(SYSTEM, directory.instance_id, user.agent_queue_id)
    with pytest.raises(NotFound):
        await directory.service.delete_user(SYSTEM, directory.instance_id, user.id)
    await directory.user()  # the username is free again


# security profiles --------------------------------------------------------------------------------------
async def test_security_profiles_are_created_described_and_listed(directory: Directory) -> None:
    made = await directory.service.create_security_profile(
        SYSTEM, directory.instance_id, "Helpers", "help desk", ["Users.View", "Queues.View", "Users.View"], {"k": "v"})
    assert made.permissions == ("Users.View", "Queues.View") and not made.builtin
    assert await directory.service.get_security_profile(SYSTEM, directory.instance_id, made.id) == made
    listed, _ = await directory.service.list_security_profiles(SYSTEM, directory.instance_id, None, 100)
    assert [p.name for p in listed] == ["Admin", "Agent", "CallCenterManager", "Helpers", "QualityAnalyst"]
    before = await directory.everything()
    with pytest.raises(Duplicate, match=says("A security profile named 'Helpers' already exists.")):
        await directory.service.create_security_profile(SYSTEM, directory.instance_id, "Helpers", "", [])
    assert await directory.everything() == before


# routing profiles and queues ----------------------------------------------------------------------------
async def test_routing_profiles_are_created_with_their_queues_and_concurrency(directory: Directory) -> None:
    sales = await directory.service.create_queue(SYSTEM, directory.instance_id, "Sales", "",
                                                 directory.basic_queue.hours_of_operation_id, 10, [])
    profile = await directory.service.create_routing_profile(
        SYSTEM, directory.instance_id, "Sales desk", "sells", sales.id, [MediaConcurrency("CHAT", 4)],
        [RoutingQueueConfig(sales.id, "CHAT", 1, 0)])
    assert profile.concurrency("CHAT") == 4 and profile.concurrency("VOICE") == 0
    assert await directory.service.get_routing_profile(SYSTEM, directory.instance_id, profile.id) == profile

    more = await directory.service.associate_routing_profile_queues(
        SYSTEM, directory.instance_id, profile.id, [RoutingQueueConfig(directory.basic_queue.id, "CHAT", 2, 5)])
    assert [(c.queue_id, c.priority, c.delay) for c in more.queue_configs] == [
        (sales.id, 1, 0), (directory.basic_queue.id, 2, 5)]
    rows, token = await directory.service.routing_profile_queues(SYSTEM, directory.instance_id, profile.id, None, 10)
    assert [q.name for _config, q in rows] == ["BasicQueue", "Sales"] and token is None


async def test_routing_profile_refusals_change_nothing(directory: Directory) -> None:
    queue, hours = directory.basic_queue.id, directory.basic_queue.hours_of_operation_id
    before = await directory.everything()
    create = directory.service.create_routing_profile
    with pytest.raises(InvalidParameter, match=says("Concurrency for CHAT must be between 1 and 10, got 11.")):
        await create(SYSTEM, directory.instance_id, "P", "", queue, [MediaConcurrency("CHAT", 11)], [])
    with pytest.raises(InvalidParameter, match=says("MediaConcurrencies lists channel CHAT more than once.")):
        await create(SYSTEM, directory.instance_id, "P", "", queue, [MediaConcurrency("CHAT", 1)] * 2, [])
    with pytest.raises(NotFound, match=directory.missing("Queue", NOBODY)):
        await create(SYSTEM, directory.instance_id, "P", "", NOBODY, [MediaConcurrency("CHAT", 1)], [])
    with pytest.raises(NotFound, match=directory.missing("Queue", NOBODY)):
        await create(SYSTEM, directory.instance_id, "P", "", queue, [], [RoutingQueueConfig(NOBODY, "CHAT", 1, 0)])
    with pytest.raises(InvalidRequest, match=says(
            f"Queue {queue} is already associated with the routing profile for CHAT.")):
        await create(SYSTEM, directory.instance_id, "P", "", queue, [], [RoutingQueueConfig(queue, "CHAT", 1, 0)] * 2)
    with pytest.raises(Duplicate, match=says(f"A routing profile named '{BASIC_ROUTING_PROFILE}' already exists.")):
        await create(SYSTEM, directory.instance_id, BASIC_ROUTING_PROFILE, "", queue, [], [])
    with pytest.raises(InvalidRequest, match=says(
            f"Queue {queue} is already associated with the routing profile for CHAT.")):
        await directory.service.associate_routing_profile_queues(
            SYSTEM, directory.instance_id, directory.basic_profile.id, [RoutingQueueConfig(queue, "CHAT", 1, 0)])
    with pytest.raises(NotFound, match=directory.missing("Hours of operation", NOBODY)):
        await directory.service.create_queue(SYSTEM, directory.instance_id, "Q", "", NOBODY, None, [])
    with pytest.raises(NotFound, match=directory.missing("Quick connect", NOBODY)):
        await directory.service.create_queue(SYSTEM, directory.instance_id, "Q", "", hours, None, [NOBODY])
    with pytest.raises(Duplicate, match=says(f"A queue named '{BASIC_QUEUE}' already exists.")):
        await directory.service.create_queue(SYSTEM, directory.instance_id, BASIC_QUEUE, "", hours, None, [])
    assert await directory.everything() == before


async def test_queues_are_listed_by_type(directory: Directory) -> None:
    user = await directory.user()
    agent_queues, _ = await directory.service.list_queues(SYSTEM, directory.instance_id, ["AGENT"], None, 100)
    assert [q.id for q in agent_queues] == [user.agent_queue_id]
    standard, _ = await directory.service.list_queues(SYSTEM, directory.instance_id, ["STANDARD"], None, 100)
    assert [q.name for q in standard] == [BASIC_QUEUE]
    everything, _ = await directory.service.list_queues(SYSTEM, directory.instance_id, None, None, 100)
    assert [q.name for q in everything] == [BASIC_QUEUE, None]  # unnamed agent queues come last

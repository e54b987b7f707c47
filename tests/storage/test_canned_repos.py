"""The canned-response repository (``uow.canned``), the same on SQLite, PostgreSQL and the in-memory fake (the
``storage`` fixture runs each test once per backend), and migration 0009 up and down (SQL only)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command as alembic_command

from parley.domain.canned import CannedResponse
from parley.domain.errors import Duplicate
from parley.service.ports import Storage
from parley.storage.database import open_storage
from tests.storage.test_contract import tables_after
from tests.storage.test_widget_repos import T0, Boom, new_instance, uid


def make(instance_id: str, name: str, owner: str | None = None, **changes: Any) -> CannedResponse:
    values: dict[str, Any] = {"id": uid(), "instance_id": instance_id, "name": name, "text": f"Text of {name}",
                              "created_time": T0, "last_modified_time": T0, "owner_user_id": owner, **changes}
    return CannedResponse(**values)


async def test_a_response_round_trips_every_field(storage: Storage) -> None:
    iid, agent = await new_instance(storage), uid()
    shared = make(iid, "Gr\u00fc\u00dfe \u2013 hello", text="Hello **there**,\n\nhow can I help? \U0001F44B")
    own = make(iid, "Mine", agent)
    async with storage.transaction() as uow:
        await uow.canned.add(shared)
        await uow.canned.add(own)
    async with storage.transaction() as uow:
        assert await uow.canned.find(shared.id) == shared
        assert await uow.canned.find(own.id) == own
        assert await uow.canned.find(uid()) is None
        assert await uow.canned.find_by_name(iid, None, shared.name) == shared
        assert await uow.canned.find_by_name(iid, agent, "Mine") == own
        assert await uow.canned.find_by_name(iid, None, "Mine") is None, "an agent's own is not the instance's"
        assert await uow.canned.find_by_name(iid, uid(), "Mine") is None, "nor another agent's"
        assert await uow.canned.find_by_name(iid, None, "gr\u00fc\u00dfe \u2013 hello") is None  # exact names


async def test_names_are_unique_per_list(storage: Storage) -> None:
    iid, other, agent = await new_instance(storage), await new_instance(storage), uid()
    async with storage.transaction() as uow:
        await uow.canned.add(make(iid, "Hello"))
        await uow.canned.add(make(iid, "Hello", agent))  # the agent's own list is another list
        await uow.canned.add(make(iid, "Hello", uid()))
        await uow.canned.add(make(other, "Hello"))
    for owner in (None, agent):
        with pytest.raises(Duplicate):
            async with storage.transaction() as uow:
                await uow.canned.add(make(iid, "Hello", owner))
    async with storage.transaction() as uow:
        assert await uow.canned.count(iid, None) == 1
        assert await uow.canned.count(iid, agent) == 1


async def test_lists_are_by_name_bytewise_and_apart(storage: Storage) -> None:
    iid, agent = await new_instance(storage), uid()
    names = ["b", "B", "a", "\u00c4", "a2"]
    async with storage.transaction() as uow:
        for name in names:
            await uow.canned.add(make(iid, name))
        await uow.canned.add(make(iid, "own", agent))
    async with storage.transaction() as uow:
        assert [r.name for r in await uow.canned.all(iid, None)] == sorted(names)
        assert [r.name for r in await uow.canned.all(iid, agent)] == ["own"]
        assert await uow.canned.all(iid, uid()) == []
        assert await uow.canned.all(uid(), None) == []
        assert await uow.canned.count(iid, None) == len(names)
        assert await uow.canned.count(uid(), None) == 0


async def test_update_delete_and_rollback(storage: Storage) -> None:
    iid, agent = await new_instance(storage), uid()
    response = make(iid, "Old", agent)
    with pytest.raises(Boom):
        async with storage.transaction() as uow:
            await uow.canned.add(response)
            raise Boom
    async with storage.transaction() as uow:
        assert await uow.canned.find(response.id) is None, "a rolled back insert leaves nothing"
        await uow.canned.add(response)
    changed = replace(response, name="New", text="Changed", last_modified_time=T0 + timedelta(hours=1))
    async with storage.transaction() as uow:
        await uow.canned.update(changed)
    async with storage.transaction() as uow:
        assert await uow.canned.find(response.id) == changed
        assert await uow.canned.find_by_name(iid, agent, "Old") is None
        assert await uow.canned.find_by_name(iid, agent, "New") == changed
        assert await uow.canned.delete(response.id) is True
        assert await uow.canned.delete(response.id) is False
    async with storage.transaction() as uow:
        assert await uow.canned.all(iid, agent) == []


async def test_migration_0009_adds_canned_responses_and_downgrades(fresh_url: str) -> None:
    """A database of the previous release gets the table at start-up; downgrading removes it and nothing else."""
    before = await tables_after(fresh_url, alembic_command.upgrade, "0008")
    assert "canned_responses" not in before
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        iid = await new_instance(store)
        async with store.transaction() as uow:
            await uow.canned.add(make(iid, "After upgrade", str(uuid.uuid4())))
            await uow.canned.add(make(iid, "Shared"))
            assert [r.name for r in await uow.canned.all(iid, None)] == ["Shared"]
    finally:
        await store.close()
    assert await tables_after(fresh_url, alembic_command.downgrade, "0008") == before

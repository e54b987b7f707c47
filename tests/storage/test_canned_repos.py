"""The canned-response repository methods of ``parley.service.ports.Tx``, the same on SQLite and PostgreSQL (the
``storage`` fixture runs each test once per backend), and migration 0009 up and down."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command as alembic_command
from sqlalchemy.exc import IntegrityError

from parley.domain.canned import CannedResponse
from parley.storage.database import SqlStorage, open_storage
from tests.storage.test_contract import tables_after
from tests.storage.test_widget_repos import T0, Boom, new_instance, uid


def make(instance_id: str, name: str, owner: str | None = None, **changes: Any) -> CannedResponse:
    values: dict[str, Any] = {"id": uid(), "instance_id": instance_id, "name": name, "text": f"Text of {name}",
                              "created_time": T0, "last_modified_time": T0, "owner_user_id": owner, **changes}
    return CannedResponse(**values)


async def test_a_response_round_trips_every_field(storage: SqlStorage) -> None:
    iid, agent = await new_instance(storage), uid()
    shared = make(iid, "Gr\u00fc\u00dfe \u2013 hello", text="Hello **there**,\n\nhow can I help? \U0001F44B")
    own = make(iid, "Mine", agent)
    async with storage.transaction() as tx:
        await tx.insert_canned_response(shared)
        await tx.insert_canned_response(own)
    async with storage.transaction() as tx:
        assert await tx.get_canned_response(shared.id) == shared
        assert await tx.get_canned_response(own.id) == own
        assert await tx.get_canned_response(uid()) is None
        assert await tx.find_canned_response(iid, None, shared.name) == shared
        assert await tx.find_canned_response(iid, agent, "Mine") == own
        assert await tx.find_canned_response(iid, None, "Mine") is None, "an agent's own is not the instance's"
        assert await tx.find_canned_response(iid, uid(), "Mine") is None, "nor another agent's"
        assert await tx.find_canned_response(iid, None, "gr\u00fc\u00dfe \u2013 hello") is None  # exact names


async def test_names_are_unique_per_list(storage: SqlStorage) -> None:
    iid, other, agent = await new_instance(storage), await new_instance(storage), uid()
    async with storage.transaction() as tx:
        await tx.insert_canned_response(make(iid, "Hello"))
        await tx.insert_canned_response(make(iid, "Hello", agent))  # the agent's own list is another list
        await tx.insert_canned_response(make(iid, "Hello", uid()))
        await tx.insert_canned_response(make(other, "Hello"))
    for owner in (None, agent):
        with pytest.raises(IntegrityError):
            async with storage.transaction() as tx:
                await tx.insert_canned_response(make(iid, "Hello", owner))
    async with storage.transaction() as tx:
        assert await tx.count_canned_responses(iid, None) == 1
        assert await tx.count_canned_responses(iid, agent) == 1


async def test_lists_are_by_name_bytewise_and_apart(storage: SqlStorage) -> None:
    iid, agent = await new_instance(storage), uid()
    names = ["b", "B", "a", "\u00c4", "a2"]
    async with storage.transaction() as tx:
        for name in names:
            await tx.insert_canned_response(make(iid, name))
        await tx.insert_canned_response(make(iid, "own", agent))
    async with storage.transaction() as tx:
        assert [r.name for r in await tx.list_canned_responses(iid, None)] == sorted(names)
        assert [r.name for r in await tx.list_canned_responses(iid, agent)] == ["own"]
        assert await tx.list_canned_responses(iid, uid()) == []
        assert await tx.list_canned_responses(uid(), None) == []
        assert await tx.count_canned_responses(iid, None) == len(names)
        assert await tx.count_canned_responses(uid(), None) == 0


async def test_update_delete_and_rollback(storage: SqlStorage) -> None:
    iid, agent = await new_instance(storage), uid()
    response = make(iid, "Old", agent)
    with pytest.raises(Boom):
        async with storage.transaction() as tx:
            await tx.insert_canned_response(response)
            raise Boom
    async with storage.transaction() as tx:
        assert await tx.get_canned_response(response.id) is None, "a rolled back insert leaves nothing"
        await tx.insert_canned_response(response)
    changed = replace(response, name="New", text="Changed", last_modified_time=T0 + timedelta(hours=1))
    async with storage.transaction() as tx:
        await tx.update_canned_response(changed)
    async with storage.transaction() as tx:
        assert await tx.get_canned_response(response.id) == changed
        assert await tx.find_canned_response(iid, agent, "Old") is None
        assert await tx.find_canned_response(iid, agent, "New") == changed
        assert await tx.delete_canned_response(response.id) is True
        assert await tx.delete_canned_response(response.id) is False
    async with storage.transaction() as tx:
        assert await tx.list_canned_responses(iid, agent) == []


async def test_migration_0009_adds_canned_responses_and_downgrades(fresh_url: str) -> None:
    """A database of the previous release gets the table at start-up; downgrading removes it and nothing else."""
    before = await tables_after(fresh_url, alembic_command.upgrade, "0008")
    assert "canned_responses" not in before
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        iid = await new_instance(store)
        async with store.transaction() as tx:
            await tx.insert_canned_response(make(iid, "After upgrade", str(uuid.uuid4())))
            await tx.insert_canned_response(make(iid, "Shared"))
            assert [r.name for r in await tx.list_canned_responses(iid, None)] == ["Shared"]
    finally:
        await store.close()
    assert await tables_after(fresh_url, alembic_command.downgrade, "0008") == before

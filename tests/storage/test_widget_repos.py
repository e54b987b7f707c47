"""The widget repository (``uow.widgets``), the same on SQLite, PostgreSQL and the in-memory fake (the ``storage``
fixture runs each test once per backend), and migration 0007 up and down (SQL only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command as alembic_command

from parley.domain.errors import Duplicate
from parley.domain.instance import Instance
from parley.domain.widgets import Widget
from parley.service.ports import Storage
from parley.storage.database import open_storage
from tests.storage.test_contract import tables_after

T0 = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


def uid() -> str:
    return str(uuid.uuid4())


async def new_instance(storage: Storage) -> str:
    instance = Instance(id=uid(), alias="w" + uuid.uuid4().hex[:20], identity_management_type="CONNECT_MANAGED",
                        created_time=T0, inbound_calls_enabled=True, outbound_calls_enabled=True)
    async with storage.transaction() as uow:
        await uow.instances.add(instance)
    return instance.id


def make_widget(instance_id: str, name: str, **changes: Any) -> Widget:
    values: dict[str, Any] = {"id": uid(), "instance_id": instance_id, "name": name, "contact_flow_id": uid(),
                              "created_time": T0, "last_modified_time": T0, **changes}
    return Widget(**values)


async def test_a_widget_round_trips_every_field(storage: Storage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Support \u2013 \u00fcn\u00efcode", allowed_origins=("https://a.example", "http://localhost:8000"),
                         title="Talk to us", greeting="Hi!\nHow can we help?", primary_color="#0b6e4f",
                         on_primary_color="#ffffff", security_key="k" * 44)
    async with storage.transaction() as uow:
        await uow.widgets.add(widget)
    async with storage.transaction() as uow:
        assert await uow.widgets.find(widget.id) == widget
        assert await uow.widgets.find_by_name(iid, widget.name) == widget
        assert await uow.widgets.find(uid()) is None
        assert await uow.widgets.find_by_name(iid, "support \u2013 \u00fcn\u00efcode") is None  # names compare exactly
        assert await uow.widgets.find_by_name(uid(), widget.name) is None


async def test_names_are_unique_per_instance_only(storage: Storage) -> None:
    first, second = await new_instance(storage), await new_instance(storage)
    async with storage.transaction() as uow:
        await uow.widgets.add(make_widget(first, "Sales"))
        await uow.widgets.add(make_widget(second, "Sales"))
    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            await uow.widgets.add(make_widget(first, "Sales"))
    async with storage.transaction() as uow:
        assert [w.name for w in await uow.widgets.all(first)] == ["Sales"]


async def test_list_is_by_name_bytewise_and_per_instance(storage: Storage) -> None:
    iid, other = await new_instance(storage), await new_instance(storage)
    names = ["b", "B", "a", "Ä", "a2"]
    async with storage.transaction() as uow:
        for name in names:
            await uow.widgets.add(make_widget(iid, name))
        await uow.widgets.add(make_widget(other, "elsewhere"))
    async with storage.transaction() as uow:
        assert [w.name for w in await uow.widgets.all(iid)] == sorted(names)
        assert await uow.widgets.all(uid()) == []


async def test_update_changes_settings_and_name(storage: Storage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Old name")
    async with storage.transaction() as uow:
        await uow.widgets.add(widget)
    changed = Widget(**{**widget.__dict__, "name": "New name", "title": "Hello", "security_key": None,
                        "allowed_origins": ("https://b.example",), "last_modified_time": T0 + timedelta(hours=1)})
    async with storage.transaction() as uow:
        await uow.widgets.update(changed)
    async with storage.transaction() as uow:
        assert await uow.widgets.find(widget.id) == changed
        assert await uow.widgets.find_by_name(iid, "Old name") is None
        assert await uow.widgets.find_by_name(iid, "New name") == changed


async def test_delete_and_rollback(storage: Storage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Doomed")
    with pytest.raises(Boom):
        async with storage.transaction() as uow:
            await uow.widgets.add(widget)
            raise Boom
    async with storage.transaction() as uow:
        assert await uow.widgets.find(widget.id) is None, "a rolled back insert leaves nothing"
        await uow.widgets.add(widget)
    async with storage.transaction() as uow:
        assert await uow.widgets.delete(widget.id) is True
        assert await uow.widgets.delete(widget.id) is False
    async with storage.transaction() as uow:
        assert await uow.widgets.find(widget.id) is None
        assert await uow.widgets.all(iid) == []


async def test_migration_0007_adds_widgets_and_downgrades(fresh_url: str) -> None:
    """A database of the previous release gets the table at start-up; downgrading removes it and nothing else."""
    before = await tables_after(fresh_url, alembic_command.upgrade, "0006")
    assert "widgets" not in before
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        iid = await new_instance(store)
        async with store.transaction() as uow:
            await uow.widgets.add(make_widget(iid, "After upgrade"))
            assert [w.name for w in await uow.widgets.all(iid)] == ["After upgrade"]
    finally:
        await store.close()
    assert await tables_after(fresh_url, alembic_command.downgrade, "0006") == before

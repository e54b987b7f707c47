"""The widget repository methods of ``parley.service.ports.Tx``, the same on SQLite and PostgreSQL (the
``storage`` fixture runs each test once per backend)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command as alembic_command
from sqlalchemy.exc import IntegrityError

from parley.domain.instance import Instance
from parley.domain.widgets import Widget
from parley.storage.database import SqlStorage, open_storage
from tests.storage.test_contract import tables_after

T0 = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


def uid() -> str:
    return str(uuid.uuid4())


async def new_instance(storage: SqlStorage) -> str:
    instance = Instance(id=uid(), alias="w" + uuid.uuid4().hex[:20], identity_management_type="CONNECT_MANAGED",
                        created_time=T0, inbound_calls_enabled=True, outbound_calls_enabled=True)
    async with storage.transaction() as tx:
        await tx.insert_instance(instance)
    return instance.id


def make_widget(instance_id: str, name: str, **changes: Any) -> Widget:
    values: dict[str, Any] = {"id": uid(), "instance_id": instance_id, "name": name, "contact_flow_id": uid(),
                              "created_time": T0, "last_modified_time": T0, **changes}
    return Widget(**values)


async def test_a_widget_round_trips_every_field(storage: SqlStorage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Support \u2013 \u00fcn\u00efcode", allowed_origins=("https://a.example", "http://localhost:8000"),
                         title="Talk to us", greeting="Hi!\nHow can we help?", primary_color="#0b6e4f",
                         on_primary_color="#ffffff", security_key="k" * 44)
    async with storage.transaction() as tx:
        await tx.insert_widget(widget)
    async with storage.transaction() as tx:
        assert await tx.get_widget(widget.id) == widget
        assert await tx.find_widget_by_name(iid, widget.name) == widget
        assert await tx.get_widget(uid()) is None
        assert await tx.find_widget_by_name(iid, "support \u2013 \u00fcn\u00efcode") is None  # names compare exactly
        assert await tx.find_widget_by_name(uid(), widget.name) is None


async def test_names_are_unique_per_instance_only(storage: SqlStorage) -> None:
    first, second = await new_instance(storage), await new_instance(storage)
    async with storage.transaction() as tx:
        await tx.insert_widget(make_widget(first, "Sales"))
        await tx.insert_widget(make_widget(second, "Sales"))
    with pytest.raises(IntegrityError):
        async with storage.transaction() as tx:
            await tx.insert_widget(make_widget(first, "Sales"))
    async with storage.transaction() as tx:
        assert [w.name for w in await tx.list_widgets(first)] == ["Sales"]


async def test_list_is_by_name_bytewise_and_per_instance(storage: SqlStorage) -> None:
    iid, other = await new_instance(storage), await new_instance(storage)
    names = ["b", "B", "a", "Ä", "a2"]
    async with storage.transaction() as tx:
        for name in names:
            await tx.insert_widget(make_widget(iid, name))
        await tx.insert_widget(make_widget(other, "elsewhere"))
    async with storage.transaction() as tx:
        assert [w.name for w in await tx.list_widgets(iid)] == sorted(names)
        assert await tx.list_widgets(uid()) == []


async def test_update_changes_settings_and_name(storage: SqlStorage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Old name")
    async with storage.transaction() as tx:
        await tx.insert_widget(widget)
    changed = Widget(**{**widget.__dict__, "name": "New name", "title": "Hello", "security_key": None,
                        "allowed_origins": ("https://b.example",), "last_modified_time": T0 + timedelta(hours=1)})
    async with storage.transaction() as tx:
        await tx.update_widget(changed)
    async with storage.transaction() as tx:
        assert await tx.get_widget(widget.id) == changed
        assert await tx.find_widget_by_name(iid, "Old name") is None
        assert await tx.find_widget_by_name(iid, "New name") == changed


async def test_delete_and_rollback(storage: SqlStorage) -> None:
    iid = await new_instance(storage)
    widget = make_widget(iid, "Doomed")
    with pytest.raises(Boom):
        async with storage.transaction() as tx:
            await tx.insert_widget(widget)
            raise Boom
    async with storage.transaction() as tx:
        assert await tx.get_widget(widget.id) is None, "a rolled back insert leaves nothing"
        await tx.insert_widget(widget)
    async with storage.transaction() as tx:
        assert await tx.delete_widget(widget.id) is True
        assert await tx.delete_widget(widget.id) is False
    async with storage.transaction() as tx:
        assert await tx.get_widget(widget.id) is None
        assert await tx.list_widgets(iid) == []


async def test_migration_0007_adds_widgets_and_downgrades(fresh_url: str) -> None:
    """A database of the previous release gets the table at start-up; downgrading removes it and nothing else."""
    before = await tables_after(fresh_url, alembic_command.upgrade, "0006")
    assert "widgets" not in before
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        iid = await new_instance(store)
        async with store.transaction() as tx:
            await tx.insert_widget(make_widget(iid, "After upgrade"))
            assert [w.name for w in await tx.list_widgets(iid)] == ["After upgrade"]
    finally:
        await store.close()
    assert await tables_after(fresh_url, alembic_command.downgrade, "0006") == before

"""The real-time reads (``uow.presences``, ``uow.contacts``, ``uow.participants``) and the audit trail
(``uow.audit``), the same on SQLite, PostgreSQL and the in-memory fake (the ``storage`` fixture runs each test once per
backend), and migration 0010 up and down (SQL only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command as alembic_command

from parley.domain.agents import OFFLINE, ROUTABLE, Presence
from parley.domain.audit import AuditEvent
from parley.domain.contact import CLOSED, CONNECTED, CONNECTING, ENDED, QUEUED, Contact, Participant
from parley.service.ports import Storage
from parley.storage.database import open_storage
from tests.storage.test_contract import tables_after
from tests.storage.test_widget_repos import T0, Boom, new_instance, uid


def segment(instance_id: str, chat: str, state: str, *, cid: str | None = None, minutes: int = 0) -> Contact:
    when = T0 + timedelta(minutes=minutes)
    return Contact(instance_id, cid or uid(), chat, "CHAT", "API", when, when, state=state, queue_id=uid(),
                   enqueue_time=when)


async def test_presences_and_live_contacts_of_one_instance(storage: Storage) -> None:
    iid, other = await new_instance(storage), await new_instance(storage)
    mine = [Presence(iid, uid(), "Available", ROUTABLE, T0, T0), Presence(iid, uid(), "Offline", OFFLINE, T0, T0)]
    chat = uid()
    live = [segment(iid, chat, state, minutes=n) for n, state in enumerate((QUEUED, CONNECTING, CONNECTED, ENDED))]
    async with storage.transaction() as uow:
        for presence in [*mine, Presence(other, uid(), "Available", ROUTABLE, T0, T0)]:
            await uow.presences.save(presence)
        for contact in [*live, segment(iid, chat, CLOSED, minutes=9), segment(other, uid(), QUEUED)]:
            await uow.contacts.add(contact)
    async with storage.transaction() as uow:
        assert await uow.presences.of_instance(iid) == sorted(mine, key=lambda p: p.user_id)
        assert await uow.contacts.live(iid) == live  # oldest first, closed ones and other instances' left out
        assert await uow.presences.of_instance(uid()) == [] and await uow.contacts.live(uid()) == []


async def test_segments_and_participants_of_many_chats(storage: Storage) -> None:
    iid = await new_instance(storage)
    chats = [uid() for _ in range(3)]
    segments = {chat: [segment(iid, chat, CONNECTED, cid=chat, minutes=1), segment(iid, chat, CLOSED, minutes=2)]
                for chat in chats}
    people = {chat: [Participant(uid(), chat, chat, role, role.title(), uid(), T0, T0 + timedelta(seconds=n))
                     for n, role in enumerate(("CUSTOMER", "AGENT"))] for chat in chats}
    async with storage.transaction() as uow:
        for chat in chats:
            for contact in segments[chat]:
                await uow.contacts.add(contact)
            for participant in people[chat]:
                await uow.participants.add(participant)
    wanted = chats[:2]
    async with storage.transaction() as uow:
        got = await uow.contacts.of_chats([*wanted, wanted[0], uid()])  # repeats and unknown ids are harmless
        assert sorted(c.id for c in got) == sorted(c.id for chat in wanted for c in segments[chat])
        assert [c.initiation_time for c in got] == sorted(c.initiation_time for c in got)
        found = await uow.participants.of_chats(wanted)
        assert {p.id for p in found} == {p.id for chat in wanted for p in people[chat]}
        assert await uow.contacts.of_chats([]) == [] and await uow.participants.of_chats([]) == []


def event(instance_id: str, kind: str, n: int, **changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "instance_id": instance_id, "time": T0 + timedelta(seconds=n), "caller_kind": "user", "caller": "admin",
        "action": f"Action{n}", "resource_type": kind, "resource_id": uid(), "resource_name": f"Name \u00e9 {n}",
        "detail": f"detail {n}", "caller_user_id": uid(), **changes}
    return AuditEvent(**values)


async def test_the_audit_trail_newest_first_by_type_and_in_pages(storage: Storage) -> None:
    iid, other = await new_instance(storage), await new_instance(storage)
    written = [event(iid, "user" if n % 2 else "queue", n) for n in range(7)]
    async with storage.transaction() as uow:
        for e in written:
            await uow.audit.add(e)
        await uow.audit.add(event(other, "user", 99))
    async with storage.transaction() as uow:
        everything = await uow.audit.list(iid, None, None, 100)
        assert [replace(e, seq=0) for e in everything] == written[::-1]
        assert [e.seq for e in everything] == sorted((e.seq for e in everything), reverse=True)
        users = await uow.audit.list(iid, "user", None, 100)
        assert [e.action for e in users] == ["Action5", "Action3", "Action1"]
        first = await uow.audit.list(iid, None, None, 3)
        rest = await uow.audit.list(iid, None, first[-1].seq, 100)
        assert [e.action for e in first + rest] == [e.action for e in written[::-1]]
        assert await uow.audit.list(uid(), None, None, 10) == []


async def test_an_event_rolls_back_with_its_change(storage: Storage) -> None:
    iid = await new_instance(storage)
    with pytest.raises(Boom):
        async with storage.transaction() as uow:
            await uow.audit.add(event(iid, "user", 1))
            raise Boom
    async with storage.transaction() as uow:
        assert await uow.audit.list(iid, None, None, 10) == []


async def test_migration_0010_adds_the_audit_trail_and_downgrades(fresh_url: str) -> None:
    before = await tables_after(fresh_url, alembic_command.upgrade, "0009")
    assert "audit_events" not in before
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        iid = await new_instance(store)
        async with store.transaction() as uow:
            await uow.audit.add(event(iid, "queue", 1))
            assert len(await uow.audit.list(iid, "queue", None, 10)) == 1
    finally:
        await store.close()
    assert await tables_after(fresh_url, alembic_command.downgrade, "0009") == before

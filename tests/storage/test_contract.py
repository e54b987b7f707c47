"""The storage contract: every repository method of the unit of work (``parley.service.repositories``) behaves the
same on SQLite, on PostgreSQL and on the in-memory fake the service tests use (``tests.fakes.memory``).

Tests taking the ``storage`` fixture run once per backend, those looking at the database itself (``sql_storage``,
``fresh_url``: schema and migrations) once per SQL backend; the pure codec tests run once. The databases are shared
by the tests of a session, so every test makes its own ids and aliases.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from parley.domain import agents as agents_module
from parley.domain import contact as contact_module
from parley.domain import instance as instance_module
from parley.domain import resources as resources_module
from parley.domain import transcript as transcript_module
from parley.domain.agents import AgentSession, Presence
from parley.domain.codec import from_json, to_json
from parley.domain.contact import AGENT, CONNECTED, CUSTOMER, ENDED, Contact, NextContact, Participant
from parley.domain.errors import Duplicate
from parley.domain.instance import Instance
from parley.domain.resources import (
    RESOURCE_TYPES,
    AgentStatus,
    ContactFlow,
    HoursOfOperation,
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    QuickConnect,
    Resource,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
)
from parley.domain.transcript import Attachment, Chat, Connection, Item, Receipt, StoredAttachment
from parley.service.ports import Storage
from parley.service.repositories import ConnectionHolder
from parley.storage import database, schema, urls
from parley.storage.database import SqlStorage, open_storage
from tests.fakes.memory import MemoryStorage

T0 = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
DAY = timedelta(days=1)


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


def uid() -> str:
    return str(uuid.uuid4())


def alias() -> str:
    return "t" + uuid.uuid4().hex[:20]


# samples -------------------------------------------------------------------------------------------------


def make_instance(created: datetime = T0, **changes: Any) -> Instance:
    base = Instance(
        id=uid(), alias=alias(), identity_management_type="CONNECT_MANAGED", created_time=created,
        inbound_calls_enabled=True, outbound_calls_enabled=True,
    )
    return dataclasses.replace(base, **changes)


def full_samples(iid: str) -> list[Any]:
    """One value of every domain dataclass with every field away from its default."""
    return [
        make_instance(
            identity_management_type="SAML", inbound_calls_enabled=False, outbound_calls_enabled=False,
            status="CREATION_IN_PROGRESS",
            attributes={"MULTI_PARTY_CHAT_CONFERENCE": "true", "clé ✓": "välue \"quoted\"\n"},
            approved_origins=("https://a.example", "http://localhost:8080"), conference_cap=4, secret="s3cr3t",
            tags={"team": "blue", "empty": ""}, monitor_cap=2,
        ),
        HoursOfOperation(iid, uid(), "Office hours", T0, description="9 to 5", time_zone="Europe/Paris"),
        SecurityProfile(
            iid, uid(), "Agents", T0, description="d", permissions=("BasicAgentAccess", "OutboundCallAccess"),
            builtin=True, tags={"k": "v"},
        ),
        RoutingProfile(
            iid, uid(), "Routing", T0, description="d", default_outbound_queue_id=uid(),
            media_concurrencies=(
                MediaConcurrency("CHAT", 3, "ROUTE_ANY_CHANNEL"), MediaConcurrency("TASK", 2)
            ),
            queue_configs=(RoutingQueueConfig(uid(), "CHAT", 1, 0), RoutingQueueConfig(uid(), "TASK", 2, 30)),
            tags={"k": "v"}, builtin=True,
        ),
        Queue(
            iid, uid(), "Sales", T0, queue_type="AGENT", description="d", hours_of_operation_id=uid(),
            max_contacts=12, status="DISABLED", quick_connect_ids=(uid(), uid()), owner_user_id=uid(),
            tags={"k": "v"},
        ),
        User(
            iid, uid(), "agent.ünï", T0, password_hash="$argon2id$v=19$x",
            identity=IdentityInfo("Ada", "Lovelace", "ada@example.com", "a2@example.com", "+15550100"),
            phone=PhoneConfig("DESK_PHONE", True, 45, "+15550101"), security_profile_ids=(uid(),),
            routing_profile_id=uid(), hierarchy_group_id=uid(), agent_queue_id=uid(), auto_accept_chat=True,
            chat_acw_limit=30, tags={"k": "v"},
        ),
        QuickConnect(
            iid, uid(), "Transfer", T0, description="d", quick_connect_type="QUEUE", user_id=uid(),
            queue_id=uid(), contact_flow_id=uid(), phone_number="+15550102", tags={"k": "v"},
        ),
        ContactFlow(
            iid, uid(), "Flow", T0, flow_type="QUEUE_TRANSFER", description="d", state="ARCHIVED",
            status="SAVED", content='{"Version": "2019-10-30", "Actions": []}', target_queue_id=uid(),
            tags={"k": "v"},
        ),
        AgentStatus(iid, uid(), "Lunch", T0, description="d", status_type="OFFLINE", display_order=3,
                    state="DISABLED"),
        make_contact(
            iid, state=CONNECTED, previous_contact_id=uid(), related_contact_id=uid(), queue_id=uid(),
            enqueue_time=T0 + timedelta(seconds=1), flow_id=uid(), agent_user_id=uid(),
            connected_to_agent_time=T0 + timedelta(seconds=2), disconnect_time=T0 + timedelta(minutes=1),
            after_contact_work_start=T0 + timedelta(minutes=1), after_contact_work_end=T0 + timedelta(minutes=2),
            disconnect_reason="AGENT_DISCONNECT", chat_duration_minutes=90, customer_display_name="Zoë",
            attributes={"order": "42", "emoji": "🙂"}, multi_party=True, name="n", description="d",
            supported_content_types=("text/plain", "text/markdown"), segment_kind="invite",
            agent_participant_id=uid(), offer_expires=T0 + timedelta(seconds=20), skip_user_ids=(uid(),),
            quick_connect_id=uid(), quick_connect_name="Transfer-to-agent-2", invited_by=uid(),
            target_name="Agent2",
            next_contacts=(NextContact(uid(), T0 + timedelta(seconds=5), uid(), "Transfer", "USER"),),
            monitor_capabilities=("SILENT_MONITOR", "BARGE"),
        ),
        make_participant(
            uid(), user_id=uid(), left=T0 + timedelta(hours=1), connected=T0 + timedelta(seconds=3),
            monitor="BARGE",
        ),
        Item(
            uid(), uid(), "MESSAGE", "text/markdown", T0, uid(), seq=7, content="**hi** ✓",
            participant_id=uid(), display_name="Zoë", role=CUSTOMER,
            attachments=(Attachment(uid(), "a.pdf", "application/pdf", "REJECTED"),),
            message_id=uid(), receipts=(Receipt(uid(), T0, T0 + timedelta(seconds=1)), Receipt(uid())),
            client_token="tok",
        ),
        Chat(uid(), iid, 12, True, T0 + timedelta(hours=25)),
        Connection("WEBSOCKET", uid(), T0 + timedelta(days=1)),
        StoredAttachment(uid(), uid(), uid(), "a.txt", "text/plain", 12, "APPROVED", T0, "tok"),
        AgentSession("access", iid, uid(), T0, T0 + timedelta(hours=12)),
        Presence(iid, uid(), "Available", "routable", T0, T0 + timedelta(seconds=9), state_id=uid(),
                 next_state_name="Offline"),
    ]


def minimal_samples(iid: str) -> list[Any]:
    """One value of every domain dataclass with only the required fields (and ``None`` where allowed)."""
    return [
        make_instance(),
        HoursOfOperation(iid, uid(), None, T0),
        SecurityProfile(iid, uid(), None, T0),
        RoutingProfile(iid, uid(), None, T0),
        Queue(iid, uid(), None, T0),
        User(iid, uid(), None, T0),
        QuickConnect(iid, uid(), None, T0),
        ContactFlow(iid, uid(), None, T0),
        AgentStatus(iid, uid(), None, T0),
        make_contact(iid),
        make_participant(uid()),
        Item(uid(), uid(), "EVENT", "application/vnd.amazonaws.connect.event.typing", T0, uid()),
        Chat(uid(), iid, 0, False, T0),
    ]


def both_samples(iid: str) -> list[Any]:
    return [*full_samples(iid), *minimal_samples(iid)]


def make_contact(iid: str, initial: str | None = None, at: datetime = T0, **changes: Any) -> Contact:
    cid = uid()
    base = Contact(
        instance_id=iid, id=cid, initial_contact_id=initial or cid, channel="CHAT", initiation_method="API",
        initiation_time=at, last_update_time=at,
    )
    return dataclasses.replace(base, **changes)


def make_participant(chat_id: str, at: datetime = T0, role: str = CUSTOMER, **changes: Any) -> Participant:
    base = Participant(
        id=uid(), chat_id=chat_id, contact_id=uid(), role=role, display_name="Customer",
        token_hash=uuid.uuid4().hex + uuid.uuid4().hex, token_expiry=at + timedelta(days=1), created=at,
    )
    return dataclasses.replace(base, **changes)


def sort_key(resource: Resource) -> tuple[str, str]:
    return resource.sort_key, resource.id


async def new_instance(storage: Storage, **changes: Any) -> Instance:
    instance = make_instance(**changes)
    async with storage.transaction() as uow:
        await uow.instances.add(instance)
    return instance


async def insert_resources(storage: Storage, *resources: Resource) -> None:
    async with storage.transaction() as uow:
        for resource in resources:
            await uow.resources.add(resource)


# codec (no database) ------------------------------------------------------------------------------------

CODEC_CASES = [pytest.param(s, id=f"{type(s).__name__}-full") for s in full_samples("i-1")] + [
    pytest.param(s, id=f"{type(s).__name__}-minimal") for s in minimal_samples("i-1")
]


def _datetimes(value: Any) -> list[datetime]:
    if isinstance(value, datetime):
        return [value]
    if dataclasses.is_dataclass(value):
        return [d for f in dataclasses.fields(value) for d in _datetimes(getattr(value, f.name))]
    if isinstance(value, tuple):
        return [d for v in value for d in _datetimes(v)]
    return []


@pytest.mark.parametrize("value", CODEC_CASES)
def test_codec_round_trip_through_json_text(value: Any) -> None:
    text = json.dumps(to_json(value))
    back = from_json(type(value), json.loads(text))
    assert back == value
    assert type(back) is type(value)
    for before, after in zip(_datetimes(value), _datetimes(back), strict=True):
        assert after == before
        assert after.utcoffset() == timedelta(0)


def test_samples_cover_every_domain_dataclass_and_field() -> None:
    modules = (instance_module, resources_module, contact_module, transcript_module, agents_module)
    declared = {
        obj for module in modules for obj in vars(module).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
    }
    full = full_samples("i-1")
    nested = [v for s in full for f in dataclasses.fields(s) for v in _flatten(getattr(s, f.name))]
    covered = {type(v) for v in [*full, *nested]}
    assert declared - {Resource} <= covered, f"no codec sample for {declared - covered}"
    assert set(RESOURCE_TYPES) <= covered
    # every field with a default holds another value in at least one sample of its class
    at_default: dict[str, set[str]] = {}
    for value in [*full, *nested]:
        defaulted = set()
        for f in dataclasses.fields(value):
            if f.default is not dataclasses.MISSING and getattr(value, f.name) == f.default:
                defaulted.add(f.name)
            if f.default_factory is not dataclasses.MISSING and getattr(value, f.name) == f.default_factory():
                defaulted.add(f.name)
        name = type(value).__name__
        at_default[name] = at_default.get(name, defaulted) & defaulted
    assert {name: fields for name, fields in at_default.items() if fields} == {}


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return [x for v in value for x in _flatten(v)]
    return [value] if dataclasses.is_dataclass(value) else []


def test_codec_shapes() -> None:
    user = next(s for s in full_samples("i-1") if isinstance(s, User))
    raw = to_json(user)
    assert isinstance(raw["security_profile_ids"], list)
    assert raw["identity"]["first_name"] == "Ada"
    assert raw["modified"] == "2031-05-06T07:08:09.123000+00:00"
    assert isinstance(from_json(User, raw).security_profile_ids, tuple)
    assert isinstance(from_json(User, raw).identity, IdentityInfo)


def test_codec_ignores_unknown_keys_and_fills_defaults() -> None:
    raw = to_json(Queue("i-1", "q-1", "Sales", T0, max_contacts=3))
    raw["added_by_a_newer_version"] = {"x": 1}
    del raw["tags"], raw["quick_connect_ids"], raw["max_contacts"]
    assert from_json(Queue, raw) == Queue("i-1", "q-1", "Sales", T0)


# schema and migrations ----------------------------------------------------------------------------------


async def test_migrations_match_schema_module(sql_storage: SqlStorage) -> None:
    def diff(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, schema.metadata))

    async with sql_storage.transaction() as uow:
        assert await uow.conn.run_sync(diff) == []


async def test_strings_compare_bytewise(sql_storage: SqlStorage) -> None:
    """Every string column orders like Python ``str`` whatever the database's default collation."""
    async with sql_storage.transaction() as uow:
        conn = uow.conn
        if sql_storage.is_sqlite:
            ddl = (await conn.execute(sa.text("SELECT group_concat(sql, ' ') FROM sqlite_master"))).scalar_one()
            assert "collate" not in ddl.lower()  # SQLite's default, BINARY, is byte-wise
        else:
            rows = (await conn.execute(sa.text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN ('character varying', 'text') "
                "AND table_name <> 'alembic_version'"
            ))).all()
            assert rows
            assert [r for r in rows if r.collation_name != "C"] == []


async def _revision(storage: SqlStorage) -> str:
    async with storage.transaction() as uow:
        return str((await uow.conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one())


def _head() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def test_migrations_run_twice_are_idempotent(fresh_url: str) -> None:
    first = await open_storage(fresh_url)
    instance = await new_instance(first)
    await first.close()
    second = await open_storage(fresh_url)
    third = await open_storage(fresh_url)  # while the second is open
    try:
        async with second.transaction() as uow:
            assert await uow.instances.find(instance.id) == instance
            assert len(await uow.instances.list(None, 100)) == 1
        assert await _revision(second) == _head()
        assert await _revision(third) == _head()
    finally:
        await second.close()
        await third.close()


async def test_nodes_starting_at_once_migrate_once(fresh_url: str) -> None:
    stores = await asyncio.gather(*(open_storage(fresh_url) for _ in range(4)))
    try:
        instance = await new_instance(stores[0])
        for store in stores:
            async with store.transaction() as uow:
                assert await uow.instances.find(instance.id) == instance
            assert await _revision(store) == _head()
    finally:
        for store in stores:
            await store.close()


async def _on_connection(url: str, fn: Callable[[sa.Connection], None]) -> None:
    """Run ``fn`` on a sync connection to the database at ``url``, in a transaction (as Parley's start-up runs
    its migrations)."""
    path = urls.sqlite_path(url)
    if path is not None:
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            fn(conn)
        engine.dispose()
        return
    async_engine = create_async_engine(urls.async_url(url))
    async with async_engine.begin() as aconn:
        await aconn.run_sync(fn)
    await async_engine.dispose()


def _migrate(conn: sa.Connection, step: Callable[[AlembicConfig, str], None], revision: str) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    step(config, revision)


async def tables_after(url: str, step: Callable[[AlembicConfig, str], None], revision: str) -> set[str]:
    """The database's table names once ``step`` (alembic's upgrade or downgrade) has taken it to ``revision``."""
    tables: set[str] = set()

    def run(conn: sa.Connection) -> None:
        _migrate(conn, step, revision)
        tables.update(sa.inspect(conn).get_table_names())

    await _on_connection(url, run)
    return tables


async def test_migration_0005_derives_last_seq_and_downgrades(fresh_url: str) -> None:
    """Upgrading drops ``chats.last_seq`` (read from the items since); downgrading fills it from the items."""
    chat_ids = [uid(), uid()]

    def fill(conn: sa.Connection) -> None:
        _migrate(conn, alembic_command.upgrade, "0004")
        for chat_id in chat_ids:
            conn.execute(sa.text("INSERT INTO chats (id, instance_id, last_seq, ended, expires_at) "
                                 "VALUES (:id, 'i', 0, false, '2030-01-01T00:00:00+00:00')"), {"id": chat_id})
        for seq in (1, 2, 3):
            conn.execute(sa.text("INSERT INTO chat_items (chat_id, seq, id, absolute_time, data) "
                                 "VALUES (:c, :s, :i, '2030-01-01T00:00:00+00:00', '{}')"),
                         {"c": chat_ids[0], "s": seq, "i": uid()})

    await _on_connection(fresh_url, fill)
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        async with store.transaction() as uow:
            chats = await uow.chats.find_many(chat_ids)
            assert [chats[c].last_seq for c in chat_ids] == [3, 0]
            locked = [await uow.chats.find(c, for_update=True) for c in chat_ids]
            assert [c.last_seq if c else None for c in locked] == [3, 0]
    finally:
        await store.close()
    seen: dict[str, int] = {}

    def downgrade(conn: sa.Connection) -> None:
        _migrate(conn, alembic_command.downgrade, "0004")
        seen.update({r[0]: r[1] for r in conn.execute(sa.text("SELECT id, last_seq FROM chats"))})

    await _on_connection(fresh_url, downgrade)
    assert seen == {chat_ids[0]: 3, chat_ids[1]: 0}


async def test_migration_0006_indexes_contacts_by_state_and_downgrades(fresh_url: str) -> None:
    """The router's scans across instances (``state = ? ORDER BY enqueue_time, id``) have an index from 0006 on;
    on SQLite the scan is a search of it, not a scan of the table and a sort."""
    found: dict[str, list[str]] = {}

    def indexes(conn: sa.Connection) -> list[str]:
        return sorted(str(ix["name"]) for ix in sa.inspect(conn).get_indexes("contacts"))

    def at(revision: str, step: Callable[[AlembicConfig, str], None]) -> Callable[[sa.Connection], None]:
        def run(conn: sa.Connection) -> None:
            _migrate(conn, step, revision)
            found[revision] = indexes(conn)
            if revision == "0006" and conn.dialect.name == "sqlite":
                plan = " ".join(str(row[-1]) for row in conn.execute(sa.text(
                    "EXPLAIN QUERY PLAN SELECT data FROM contacts WHERE state = 'QUEUED' "
                    "ORDER BY enqueue_time, id LIMIT 200")))
                found["plan"] = [plan]
        return run

    await _on_connection(fresh_url, at("0005", alembic_command.upgrade))
    await _on_connection(fresh_url, at("0006", alembic_command.upgrade))
    assert "ix_contacts_state_order" not in found["0005"]
    assert set(found["0006"]) == {*found["0005"], "ix_contacts_state_order"}
    if "plan" in found:
        assert "USING INDEX ix_contacts_state_order" in found["plan"][0]
        assert "TEMP B-TREE" not in found["plan"][0]
    await _on_connection(fresh_url, at("0005", alembic_command.downgrade))
    assert "ix_contacts_state_order" not in found["0005"]


async def test_migration_0008_marks_each_instances_default_routing_profile(fresh_url: str) -> None:
    """A database from before the flag: the profile every instance was created with (by its name) becomes the
    default; another profile, and a profile already flagged, are left as they were."""
    iid, basic, other = uid(), uid(), uid()

    def fill(conn: sa.Connection) -> None:
        _migrate(conn, alembic_command.upgrade, "0007")
        for rid, name in ((basic, "Basic Routing Profile"), (other, "Sales")):
            data = to_json(RoutingProfile(iid, rid, name, T0, description="d"))
            del data["builtin"]
            conn.execute(sa.text("INSERT INTO resources (id, instance_id, kind, name, sort_key, data) "
                                 "VALUES (:id, :iid, 'routing_profile', :name, :name, :data)"),
                         {"id": rid, "iid": iid, "name": name, "data": json.dumps(data)})

    await _on_connection(fresh_url, fill)
    store = await open_storage(fresh_url)  # migrates to the head
    try:
        async with store.transaction() as uow:
            found = {rid: await uow.resources.find(RoutingProfile, iid, rid) for rid in (basic, other)}
        assert {rid: (p.is_default, p.description) for rid, p in found.items() if p} == {
            basic: (True, "d"), other: (False, "d")}
    finally:
        await store.close()


async def test_chat_last_seq_is_its_last_items_seq(storage: Storage) -> None:
    chat = Chat(uid(), uid(), 0, False, T0 + timedelta(days=1))
    item = Item(chat.id, uid(), "MESSAGE", "text/plain", T0, chat.id, content="x")
    async with storage.transaction() as uow:
        await uow.chats.add(chat)
        assert await uow.chats.find(chat.id) == chat
        stored = await uow.chats.append(chat.id, [item, dataclasses.replace(item, id=uid())])
        assert [i.seq for i in stored] == [1, 2]
        assert (await uow.chats.find(chat.id)).last_seq == 2  # type: ignore[union-attr]  # read your own write
    async with storage.transaction() as uow:
        again = await uow.chats.append(chat.id, [dataclasses.replace(item, id=uid())])
        assert [i.seq for i in again] == [3]
        assert (await uow.chats.find(chat.id, for_update=True)).last_seq == 3  # type: ignore[union-attr]
    with pytest.raises(LookupError):  # no items without their chat
        async with storage.transaction() as uow:
            await uow.chats.append(uid(), [dataclasses.replace(item, id=uid())])
    with pytest.raises(ValueError, match="last_seq"):  # a new chat has no items, so no last seq of its own
        async with storage.transaction() as uow:
            await uow.chats.add(dataclasses.replace(chat, id=uid(), last_seq=4))


# instances ----------------------------------------------------------------------------------------------


async def test_instance_round_trip_and_lookups(storage: Storage) -> None:
    full, minimal = full_samples("x")[0], minimal_samples("x")[0]
    async with storage.transaction() as uow:
        await uow.instances.add(full)
        await uow.instances.add(minimal)
    async with storage.transaction() as uow:
        for instance in (full, minimal):
            assert await uow.instances.find(instance.id) == instance
            assert await uow.instances.find(instance.id, for_update=True) == instance
            assert await uow.instances.find_by_alias(instance.alias) == instance
        assert await uow.instances.find(uid()) is None
        assert await uow.instances.find(uid(), for_update=True) is None
        assert await uow.instances.find_by_alias(alias()) is None
        assert await uow.instances.find_by_alias(full.alias.upper()) is None


async def test_update_instance(storage: Storage) -> None:
    instance = await new_instance(storage)
    changed = instance.with_attribute("MULTI_PARTY_CHAT_CONFERENCE", "true").with_origin("https://x.example")
    async with storage.transaction() as uow:
        current = await uow.instances.find(instance.id, for_update=True)
        assert current == instance
        await uow.instances.update(changed)
        assert await uow.instances.find(instance.id) == changed  # read your own write
    async with storage.transaction() as uow:
        assert await uow.instances.find(instance.id) == changed
        assert await uow.instances.find_by_alias(instance.alias) == changed


async def test_duplicate_alias_raises_and_rolls_back(storage: Storage) -> None:
    first = await new_instance(storage)
    other = make_instance()
    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            await uow.instances.add(other)
            await uow.instances.add(make_instance(alias=first.alias))
    async with storage.transaction() as uow:
        assert await uow.instances.find(other.id) is None
        assert await uow.instances.find_by_alias(first.alias) == first


async def test_a_name_two_units_of_work_take_at_once_is_a_duplicate_for_the_second(storage: Storage) -> None:
    """Both looked the name up and found none; the first one's insert is not committed yet when the second one's
    comes (on PostgreSQL it waits on the unique index, on SQLite and the fake at BEGIN): the second is refused
    with Duplicate, never the driver's IntegrityError (which the edges would answer 500)."""
    instance = await new_instance(storage)
    inserted, commit = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with storage.transaction() as uow:
            assert await uow.resources.find_by_name(Queue, instance.id, "Race") is None
            await uow.resources.add(Queue(instance.id, uid(), "Race", T0))
            inserted.set()
            await commit.wait()

    async def second() -> None:
        await inserted.wait()
        async with storage.transaction() as uow:
            await uow.resources.add(Queue(instance.id, uid(), "Race", T0))

    racing = [asyncio.create_task(first()), asyncio.create_task(second())]
    await inserted.wait()
    await asyncio.sleep(0.2)  # the second one is now waiting for the first one's lock or row
    assert not racing[1].done()
    commit.set()
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], Duplicate), outcomes[1]
    async with storage.transaction() as uow:
        assert [q.name for q in await uow.resources.all(Queue, instance.id)].count("Race") == 1


async def test_duplicate_instance_id_raises(storage: Storage) -> None:
    first = await new_instance(storage)
    with pytest.raises(Duplicate):
        await new_instance(storage, id=first.id)


async def test_list_instances_keyset(storage: Storage) -> None:
    base = datetime(2029, 1, 1, tzinfo=UTC)
    # equal times (ordered by id), whole seconds (isoformat drops the fraction) next to fractional ones
    times = [base, base + timedelta(milliseconds=1), base + timedelta(seconds=1), base, base + timedelta(days=400)]
    mine = [make_instance(created=t) for t in times]
    async with storage.transaction() as uow:
        for instance in reversed(mine):
            await uow.instances.add(instance)

    def key(i: Instance) -> tuple[str, str]:
        return i.created_time.isoformat(), i.id

    async with storage.transaction() as uow:
        everything = await uow.instances.list(None, 100_000)
        assert everything == sorted(everything, key=key)
        ids = [i.id for i in everything]
        mine_ids = {m.id for m in mine}
        assert [i.id for i in everything if i.id in mine_ids] == [m.id for m in sorted(mine, key=key)]
        assert len(set(ids)) == len(ids)

        pages: list[Instance] = []
        after: tuple[str, str] | None = None
        while True:
            page = await uow.instances.list(after, 2)
            assert len(page) <= 2
            if not page:
                break
            pages += page
            after = key(page[-1])
        assert pages == everything

        for n, instance in enumerate(everything[:-1]):
            assert (await uow.instances.list(key(instance), 1)) == [everything[n + 1]]
        assert await uow.instances.list(key(everything[-1]), 10) == []
        assert await uow.instances.list(None, 0) == []


async def another_node(storage: Storage) -> Storage:
    """A second storage on the database of ``storage``, as another node has."""
    if isinstance(storage, MemoryStorage):
        return MemoryStorage(storage.database)
    assert isinstance(storage, SqlStorage)
    return await open_storage(storage.url)


async def test_concurrent_read_modify_write_loses_nothing(storage: Storage) -> None:
    """20 transactions on two nodes append an origin each to one instance row; all 20 survive."""
    other_node = await another_node(storage)
    instance = await new_instance(storage)

    async def add_origin(node: Storage, n: int) -> None:
        async with node.transaction() as uow:
            current = await uow.instances.find(instance.id, for_update=True)
            assert current is not None
            await asyncio.sleep(0.005)  # give the others every chance to interleave
            await uow.instances.update(current.with_origin(f"https://n{n}.example"))

    try:
        await asyncio.gather(*(add_origin(storage if n % 2 else other_node, n) for n in range(20)))
    finally:
        await other_node.close()
    async with storage.transaction() as uow:
        final = await uow.instances.find(instance.id)
    assert final is not None
    assert sorted(final.approved_origins) == sorted(f"https://n{n}.example" for n in range(20))


# configuration resources --------------------------------------------------------------------------------


async def test_every_resource_kind_round_trips(storage: Storage) -> None:
    instance = await new_instance(storage)
    samples = [s for s in both_samples(instance.id) if isinstance(s, Resource)]
    assert {type(s) for s in samples} == set(RESOURCE_TYPES)
    await insert_resources(storage, *samples)
    async with storage.transaction() as uow:
        for sample in samples:
            kind = type(sample)
            assert await uow.resources.find(kind, instance.id, sample.id) == sample
            if sample.name is not None:
                assert await uow.resources.find_by_name(kind, instance.id, sample.name) == sample
        for kind in RESOURCE_TYPES:
            expected = sorted((s for s in samples if type(s) is kind), key=sort_key)
            assert await uow.resources.all(kind, instance.id) == expected
            assert await uow.resources.list(kind, instance.id, None, 100) == expected


async def test_users_of_a_routing_profile_are_counted(storage: Storage) -> None:
    one, two = await new_instance(storage), await new_instance(storage)
    sales, support = uid(), uid()
    await insert_resources(
        storage, *(User(one.id, uid(), f"sales{n}", T0, routing_profile_id=sales) for n in range(3)),
        User(one.id, uid(), "help", T0, routing_profile_id=support),
        User(two.id, uid(), "elsewhere", T0, routing_profile_id=sales),  # another instance
        Queue(one.id, uid(), "Not a user", T0, owner_user_id=sales),
    )
    async with storage.transaction() as uow:
        assert await uow.resources.count_users_of_routing_profile(one.id, sales) == 3
        assert await uow.resources.count_users_of_routing_profile(one.id, support) == 1
        assert await uow.resources.count_users_of_routing_profile(two.id, sales) == 1
        assert await uow.resources.count_users_of_routing_profile(one.id, uid()) == 0


async def test_missing_resources(storage: Storage) -> None:
    instance = await new_instance(storage)
    async with storage.transaction() as uow:
        assert await uow.resources.find(Queue, instance.id, uid()) is None
        assert await uow.resources.find_by_name(Queue, instance.id, "nothing") is None
        assert await uow.resources.all(Queue, instance.id) == []
        assert await uow.resources.list(Queue, instance.id, None, 10) == []


async def test_unique_name_per_instance_and_kind(storage: Storage) -> None:
    one, two = await new_instance(storage), await new_instance(storage)
    sales = Queue(one.id, uid(), "Sales", T0)
    await insert_resources(storage, sales)
    with pytest.raises(Duplicate):
        await insert_resources(storage, Queue(one.id, uid(), "Sales", T0))
    late = Queue(one.id, uid(), "Late", T0)
    with pytest.raises(Duplicate):  # the whole transaction rolls back
        await insert_resources(storage, late, Queue(one.id, uid(), "Sales", T0))
    # names are case-sensitive; the same name is free in another kind or another instance
    others = [
        Queue(one.id, uid(), "SALES", T0), RoutingProfile(one.id, uid(), "Sales", T0),
        Queue(two.id, uid(), "Sales", T0),
    ]
    await insert_resources(storage, *others)
    async with storage.transaction() as uow:
        assert await uow.resources.find(Queue, one.id, late.id) is None
        assert await uow.resources.find_by_name(Queue, one.id, "Sales") == sales
        assert await uow.resources.find_by_name(Queue, one.id, "SALES") == others[0]
        assert await uow.resources.find_by_name(RoutingProfile, one.id, "Sales") == others[1]
        assert await uow.resources.find_by_name(Queue, two.id, "Sales") == others[2]
        assert len(await uow.resources.all(Queue, one.id)) == 2


async def test_unnamed_resources_allowed_many_times(storage: Storage) -> None:
    instance = await new_instance(storage)
    unnamed = [Queue(instance.id, uid(), None, T0, queue_type="AGENT", owner_user_id=uid()) for _ in range(4)]
    named = Queue(instance.id, uid(), "zz-last-named", T0)
    await insert_resources(storage, *unnamed[:2])
    await insert_resources(storage, *unnamed[2:], named)
    async with storage.transaction() as uow:
        listed = await uow.resources.all(Queue, instance.id)
        for queue in unnamed:
            assert await uow.resources.find(Queue, instance.id, queue.id) == queue
    assert listed == [named, *sorted(unnamed, key=sort_key)]  # unnamed ones come after the named ones


NAMES = [
    "bob", "Alice", "alice-2", "alice2", "alice_3", "Zed", "10 ten", "9 nine", "émile", "Ärger", "_under",
    "a b", "ab", "a-c", "~tilde", "Bob2",
]


async def test_all_resources_ordering_matches_python(storage: Storage) -> None:
    """Services page in Python over ``all_resources``: the database must order exactly like ``sort_key``."""
    instance = await new_instance(storage)
    users = [User(instance.id, uid(), name, T0) for name in NAMES]
    unnamed = [User(instance.id, uid(), None, T0) for _ in range(3)]
    await insert_resources(storage, *users[::2], *unnamed, *users[1::2])
    async with storage.transaction() as uow:
        listed = await uow.resources.all(User, instance.id)
    assert [u.name for u in listed] == [u.name for u in sorted([*users, *unnamed], key=sort_key)]


async def test_list_resources_keyset_paging(storage: Storage) -> None:
    instance = await new_instance(storage)
    queues = [Queue(instance.id, uid(), name, T0) for name in NAMES]
    queues += [Queue(instance.id, uid(), None, T0) for _ in range(3)]
    await insert_resources(storage, *queues)
    expected = sorted(queues, key=sort_key)
    async with storage.transaction() as uow:
        for limit in (1, 3, 5, 100):
            pages: list[Queue] = []
            after: tuple[str, str] | None = None
            while page := await uow.resources.list(Queue, instance.id, after, limit):
                assert len(page) <= limit
                pages += page
                after = sort_key(page[-1])
            assert pages == expected
        middle = expected[7]
        assert await uow.resources.list(Queue, instance.id, sort_key(middle), 2) == expected[8:10]
        # a position between two rows (a deleted row's key) continues with the next row
        between = (middle.sort_key, middle.id + "0")
        assert await uow.resources.list(Queue, instance.id, between, 1) == [expected[8]]


async def test_update_resource_including_rename(storage: Storage) -> None:
    instance = await new_instance(storage)
    a, b, c = (User(instance.id, uid(), name, T0) for name in ("amy", "bea", "cid"))
    await insert_resources(storage, a, b, c)
    renamed = dataclasses.replace(a, name="zoe", identity=IdentityInfo(first_name="Zoe"), modified=T0 + DAY)
    async with storage.transaction() as uow:
        await uow.resources.update(renamed)
        assert await uow.resources.find(User, instance.id, a.id) == renamed
    async with storage.transaction() as uow:
        assert await uow.resources.find(User, instance.id, a.id) == renamed
        assert await uow.resources.find_by_name(User, instance.id, "amy") is None
        assert await uow.resources.find_by_name(User, instance.id, "zoe") == renamed
        assert await uow.resources.all(User, instance.id) == [b, c, renamed]
        assert await uow.resources.list(User, instance.id, sort_key(c), 10) == [renamed]
    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            await uow.resources.update(dataclasses.replace(b, name="cid"))
    # the freed name can be taken; a name can be dropped
    amy = User(instance.id, uid(), "amy", T0)
    await insert_resources(storage, amy)
    async with storage.transaction() as uow:
        await uow.resources.update(dataclasses.replace(c, name=None))
    async with storage.transaction() as uow:
        assert await uow.resources.find_by_name(User, instance.id, "cid") is None
        names = [u.name for u in await uow.resources.all(User, instance.id)]
    assert names == ["amy", "bea", "zoe", None]


async def test_delete_resource(storage: Storage) -> None:
    instance = await new_instance(storage)
    keep, gone = QuickConnect(instance.id, uid(), "keep", T0), QuickConnect(instance.id, uid(), "gone", T0)
    await insert_resources(storage, keep, gone)
    async with storage.transaction() as uow:
        await uow.resources.delete(gone)
        assert await uow.resources.find(QuickConnect, instance.id, gone.id) is None
    async with storage.transaction() as uow:
        assert await uow.resources.find(QuickConnect, instance.id, gone.id) is None
        assert await uow.resources.find_by_name(QuickConnect, instance.id, "gone") is None
        assert await uow.resources.all(QuickConnect, instance.id) == [keep]
        await uow.resources.delete(gone)  # deleting again is a no-op
    again = QuickConnect(instance.id, uid(), "gone", T0)
    await insert_resources(storage, again)
    async with storage.transaction() as uow:
        assert await uow.resources.find_by_name(QuickConnect, instance.id, "gone") == again


async def test_kinds_are_isolated(storage: Storage) -> None:
    instance = await new_instance(storage)
    queue, user = Queue(instance.id, uid(), "same", T0), User(instance.id, uid(), "same", T0)
    await insert_resources(storage, queue, user)
    async with storage.transaction() as uow:
        assert await uow.resources.find(User, instance.id, queue.id) is None
        assert await uow.resources.find(Queue, instance.id, user.id) is None
        assert await uow.resources.find_by_name(Queue, instance.id, "same") == queue
        assert await uow.resources.find_by_name(User, instance.id, "same") == user
        assert await uow.resources.all(Queue, instance.id) == [queue]
        assert await uow.resources.list(User, instance.id, None, 10) == [user]
        assert await uow.resources.all(RoutingProfile, instance.id) == []
        await uow.resources.delete(dataclasses.replace(user, id=queue.id))  # a user with the queue's id: no-op
        await uow.resources.update(dataclasses.replace(user, id=queue.id, name="hijack"))
    async with storage.transaction() as uow:
        assert await uow.resources.find(Queue, instance.id, queue.id) == queue


async def test_instances_are_isolated(storage: Storage) -> None:
    one, two = await new_instance(storage), await new_instance(storage)
    mine = [SecurityProfile(one.id, uid(), name, T0) for name in ("Admin", "Agent")]
    theirs = SecurityProfile(two.id, uid(), "Admin", T0)
    await insert_resources(storage, *mine, theirs)
    async with storage.transaction() as uow:
        assert await uow.resources.find(SecurityProfile, two.id, mine[0].id) is None
        assert await uow.resources.find(SecurityProfile, one.id, theirs.id) is None
        assert await uow.resources.find_by_name(SecurityProfile, two.id, "Agent") is None
        assert await uow.resources.find_by_name(SecurityProfile, two.id, "Admin") == theirs
        assert await uow.resources.all(SecurityProfile, one.id) == mine
        assert await uow.resources.list(SecurityProfile, two.id, None, 10) == [theirs]


# contacts and participants ------------------------------------------------------------------------------


async def test_contact_round_trip(storage: Storage) -> None:
    instance, other = await new_instance(storage), await new_instance(storage)
    contacts = [s for s in both_samples(instance.id) if isinstance(s, Contact)]
    async with storage.transaction() as uow:
        for contact in contacts:
            await uow.contacts.add(contact)
    async with storage.transaction() as uow:
        for contact in contacts:
            assert await uow.contacts.find(instance.id, contact.id) == contact
            assert await uow.contacts.find(instance.id, contact.id, for_update=True) == contact
            assert await uow.contacts.find(other.id, contact.id) is None
            assert await uow.contacts.find(other.id, contact.id, for_update=True) is None
        assert await uow.contacts.find(instance.id, uid()) is None
    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            await uow.contacts.add(contacts[0])


async def test_update_contact(storage: Storage) -> None:
    instance = await new_instance(storage)
    contact = make_contact(instance.id, queue_id=uid(), enqueue_time=T0)
    async with storage.transaction() as uow:
        await uow.contacts.add(contact)
    ended = dataclasses.replace(
        contact, state=ENDED, queue_id=None, enqueue_time=None, disconnect_time=T0 + timedelta(minutes=5),
        attributes={"a": "b"}, last_update_time=T0 + timedelta(minutes=5),
    )
    async with storage.transaction() as uow:
        current = await uow.contacts.find(instance.id, contact.id, for_update=True)
        assert current == contact
        await uow.contacts.update(ended)
    async with storage.transaction() as uow:
        assert await uow.contacts.find(instance.id, contact.id) == ended
        assert await uow.contacts.of_chat(contact.id) == [ended]


async def test_contacts_of_chat_in_initiation_order(storage: Storage) -> None:
    instance = await new_instance(storage)
    first = make_contact(instance.id, at=T0)
    chat = first.initial_contact_id
    later = [
        make_contact(instance.id, chat, at=T0 + timedelta(seconds=s), previous_contact_id=first.id)
        for s in (30, 5, 600, 61, 5, 5)
    ]
    unrelated = make_contact(instance.id, at=T0 + timedelta(seconds=1))
    async with storage.transaction() as uow:
        for contact in [*later[:2], unrelated, first, *later[2:]]:
            await uow.contacts.add(contact)
    async with storage.transaction() as uow:
        chain = await uow.contacts.of_chat(chat)
        assert chain == sorted([first, *later], key=lambda c: (c.initiation_time, c.id))
        assert await uow.contacts.of_chat(unrelated.id) == [unrelated]
        assert await uow.contacts.of_chat(uid()) == []


async def test_participants(storage: Storage) -> None:
    chat, other_chat = uid(), uid()
    customer = make_participant(chat, at=T0 + timedelta(seconds=2))
    agents = [
        make_participant(chat, at=T0 + timedelta(seconds=s), role=AGENT, user_id=uid(), display_name=f"A{s}")
        for s in (9, 1, 5, 2, 2, 2)
    ]
    stranger = make_participant(other_chat, at=T0)
    async with storage.transaction() as uow:
        for participant in [*agents, stranger, customer]:
            await uow.participants.add(participant)
    async with storage.transaction() as uow:
        members = await uow.participants.of_chat(chat)
        assert members == sorted([customer, *agents], key=lambda p: (p.created, p.id))
        assert await uow.participants.of_chat(other_chat) == [stranger]
        assert await uow.participants.of_chat(uid()) == []
        for participant in [customer, *agents, stranger]:
            assert await uow.participants.find_by_token(participant.token_hash) == participant
        assert await uow.participants.find_by_token("0" * 64) is None

    rotated = dataclasses.replace(customer, token_hash="f" * 64, token_expiry=T0 + timedelta(days=2))
    gone = dataclasses.replace(agents[0], left=T0 + timedelta(minutes=3))
    async with storage.transaction() as uow:
        await uow.participants.update(rotated)
        await uow.participants.update(gone)
    async with storage.transaction() as uow:
        assert await uow.participants.find_by_token(customer.token_hash) is None
        assert await uow.participants.find_by_token(rotated.token_hash) == rotated
        assert await uow.participants.find_by_token(gone.token_hash) == gone
        members = await uow.participants.of_chat(chat)
        assert rotated in members and gone in members
        assert not gone.active

    with pytest.raises(Duplicate):  # a token hash belongs to one participant
        async with storage.transaction() as uow:
            await uow.participants.add(make_participant(other_chat, token_hash=stranger.token_hash))


# idempotency --------------------------------------------------------------------------------------------


async def test_idempotency(storage: Storage) -> None:
    scope, token = f"send_message:{uid()}", "literal-token ✓"
    result = {"Id": uid(), "AbsoluteTime": "2031-05-06T07:08:09.123Z", "nested": {"l": [1, 2.5, None, True]}}
    async with storage.transaction() as uow:
        assert await uow.idempotency.find(scope, token) is None
        await uow.idempotency.save(scope, token, result)
        assert await uow.idempotency.find(scope, token) == result
    async with storage.transaction() as uow:
        assert await uow.idempotency.find(scope, token) == result
        assert await uow.idempotency.find(scope, token + "x") is None
        assert await uow.idempotency.find(scope + "x", token) is None
        await uow.idempotency.save(scope + "x", token, {"other": 1})  # same token, another scope
    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            await uow.idempotency.save(scope, token, {"second": "answer"})
    async with storage.transaction() as uow:
        assert await uow.idempotency.find(scope, token) == result
        assert await uow.idempotency.find(scope + "x", token) == {"other": 1}


async def test_bulk_reads_and_writes_of_group_commit(storage: Storage) -> None:
    """The batch methods SendMessage's group commit uses: several tokens, chats, participants, ClientTokens."""
    chats = [Chat(uid(), uid(), 0, False, T0 + timedelta(days=1)) for _ in range(2)]
    people = [make_participant(chat.id) for chat in chats]
    hashes = [uid() for _ in people]
    async with storage.transaction() as uow:
        for chat, person, digest in zip(chats, people, hashes, strict=True):
            await uow.chats.add(chat)
            await uow.participants.add(person)
            await uow.connections.add(digest, Connection("conn", person.id, T0 + timedelta(hours=1)))
    async with storage.transaction() as uow:
        found = await uow.appends.lock_writers([*hashes, hashes[0], "0" * 64])
        assert found == {h: ConnectionHolder(Connection("conn", p.id, T0 + timedelta(hours=1)), p, c)
                         for h, p, c in zip(hashes, people, chats, strict=True)}
        assert await uow.appends.lock_writers([]) == {}
        assert await uow.chats.find_many([c.id for c in reversed(chats)] + [uid()]) == {c.id: c for c in chats}
        assert await uow.chats.find_many([]) == {}
        assert await uow.chats.lock_with(people[0]) == (people[0], chats[0])

        items = [Item(chat_id=chats[n].id, id=uid(), type="MESSAGE", content_type="text/plain", content=text,
                      absolute_time=T0, contact_id=chats[n].id, participant_id=people[n].id, seq=seq)
                 for n, text, seq in ((0, "a", 1), (1, "b", 1), (0, "c", 2))]
        await uow.appends.store(items)
        scope_a, scope_b = f"SendMessage/{uid()}", f"SendMessage/{uid()}"
        await uow.appends.save_answers([(scope_a, "t1", {"Id": "1"}), (scope_b, "t2", {"Id": "2"})])
    async with storage.transaction() as uow:
        assert [i.content for i in await uow.chats.items_after(chats[0].id, 0, 10)] == ["a", "c"]
        assert [i.content for i in await uow.chats.items_after(chats[1].id, 0, 10)] == ["b"]
        assert [(await uow.chats.find(c.id)).last_seq for c in chats] == [2, 1]  # type: ignore[union-attr]
        # Pairs are matched exactly: (scope_a, t2) and (scope_b, t1) exist in neither column combination.
        assert await uow.appends.find_answers([(scope_a, "t1"), (scope_a, "t2"), (scope_b, "t1"), (scope_b, "t2")]) \
            == {(scope_a, "t1"): {"Id": "1"}, (scope_b, "t2"): {"Id": "2"}}
        assert await uow.appends.find_answers([]) == {}
    with pytest.raises(Duplicate):  # a (chat, seq) is stored once
        async with storage.transaction() as uow:
            await uow.appends.store([dataclasses.replace(items[1], id=uid())])


# transactions and after-commit callbacks ----------------------------------------------------------------


async def test_after_commit_runs_after_commit_in_order(storage: Storage) -> None:
    instance = make_instance()
    seen: list[tuple[int, Instance | None]] = []

    def callback(n: int) -> Callable[[], Any]:
        async def run() -> None:
            async with storage.transaction() as uow:  # a new transaction sees the committed row
                seen.append((n, await uow.instances.find(instance.id)))

        return run

    async with storage.transaction() as uow:
        await uow.instances.add(instance)
        uow.after_commit(callback(1))
        uow.after_commit(callback(2))
        assert seen == []
    assert seen == [(1, instance), (2, instance)]


async def test_exception_rolls_back_everything_and_skips_callbacks(storage: Storage) -> None:
    existing = await new_instance(storage)
    instance = make_instance()
    queue = Queue(existing.id, uid(), "rolled-back", T0)
    contact = make_contact(existing.id)
    participant = make_participant(contact.id)
    scope = f"scope-{uid()}"
    called: list[str] = []

    async def callback() -> None:
        called.append("ran")

    with pytest.raises(Boom):
        async with storage.transaction() as uow:
            await uow.instances.add(instance)
            await uow.instances.update(existing.with_origin("https://rolled.example"))
            await uow.resources.add(queue)
            await uow.contacts.add(contact)
            await uow.participants.add(participant)
            await uow.idempotency.save(scope, "t", {"x": 1})
            uow.after_commit(callback)
            raise Boom
    assert called == []
    async with storage.transaction() as uow:
        assert await uow.instances.find(instance.id) is None
        assert await uow.instances.find(existing.id) == existing
        assert await uow.resources.find(Queue, existing.id, queue.id) is None
        assert await uow.contacts.find(existing.id, contact.id) is None
        assert await uow.participants.find_by_token(participant.token_hash) is None
        assert await uow.idempotency.find(scope, "t") is None


async def test_failed_statement_skips_callbacks(storage: Storage) -> None:
    existing = await new_instance(storage)
    called: list[str] = []

    async def callback() -> None:
        called.append("ran")

    with pytest.raises(Duplicate):
        async with storage.transaction() as uow:
            uow.after_commit(callback)
            await uow.instances.add(make_instance(alias=existing.alias))
    assert called == []


async def test_failing_callback_does_not_undo_the_commit(storage: Storage) -> None:
    instance = make_instance()
    called: list[str] = []

    async def broken() -> None:
        raise RuntimeError("bus down")

    async def fine() -> None:
        called.append("fine")

    async with storage.transaction() as uow:
        await uow.instances.add(instance)
        uow.after_commit(broken)
        uow.after_commit(fine)
    assert called == ["fine"]
    async with storage.transaction() as uow:
        assert await uow.instances.find(instance.id) == instance


async def test_storage_usable_after_errors(storage: Storage) -> None:
    """A failed transaction returns a clean connection to the pool."""
    for _ in range(12):
        with pytest.raises(Boom):
            async with storage.transaction() as uow:
                await uow.instances.add(make_instance())
                raise Boom
    instance = await new_instance(storage)
    async with storage.transaction() as uow:
        assert await uow.instances.find(instance.id) == instance

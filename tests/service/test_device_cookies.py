"""Device cookies on real storage (SQLite): what a sign-in hands a browser, and that only an unaltered, unexpired
entry of the same account, signed with the instance's own secret, is recognised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.domain.ids import new_id
from parley.service.demo import ensure_demo
from parley.service.device_cookies import LOOKUPS_PER_SECOND, MAX_ENTRIES, SEPARATOR, DeviceCookies, who_of
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.service.signin_throttle import user_key
from parley.storage import open_storage
from parley.storage.database import SqlStorage


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    store = await open_storage(f"sqlite:///{tmp_path / 'devices.db'}")
    await ensure_demo(store, InstanceService(store), DirectoryService(store, Passwords(fast=True)),
                      QuickConnectService(store))
    yield store
    await store.close()


async def demo_id(storage: SqlStorage) -> str:
    async with storage.transaction() as uow:
        instance = await uow.instances.find_by_alias("demo")
    assert instance is not None
    return instance.id


async def test_an_issued_entry_is_recognised_for_its_account_only(storage: SqlStorage) -> None:
    devices = DeviceCookies(storage)
    cookie = await devices.issue(await demo_id(storage), user_key("demo", "agent1"), "")
    assert len(cookie) < 200 and SEPARATOR not in cookie
    [grant] = await devices.grants(cookie)
    assert grant.who == who_of(user_key("Demo ", "AGENT1")) != who_of(user_key("demo", "agent2"))
    # another process (another node) with the same storage recognises it too
    assert await DeviceCookies(storage).grants(cookie) == [grant]
    again = await devices.issue(await demo_id(storage), user_key("demo", "agent1"), cookie)
    [renewed] = await devices.grants(again)
    assert renewed.device != grant.device  # each sign-in gets a fresh device id


async def test_altered_forged_and_expired_entries_give_nothing(storage: SqlStorage) -> None:
    clock = Clock(2_000_000_000.0)
    devices = DeviceCookies(storage, clock=clock)
    instance_id = await demo_id(storage)
    cookie = await devices.issue(instance_id, user_key("demo", "agent1"), "")
    other = await devices.issue(instance_id, user_key("demo", "agent2"), "")
    assert len(await devices.grants(cookie)) == 1
    version, iid, expires, device, who, mac = cookie.split(".")
    flipped = "A" if mac[-1] != "A" else "B"
    for forged in (
        f"{version}.{iid}.{expires}.{device}.{who}.{mac[:-1]}{flipped}",  # a different signature
        f"{version}.{iid}.{int(expires) + 86400}.{device}.{who}.{mac}",  # a longer life
        f"{version}.{iid}.{expires}.{device}.{other.split('.')[4]}.{mac}",  # another account
        f"{version}.{iid}.{expires}.{other.split('.')[3]}.{who}.{mac}",  # another device id
        f"{version}.{new_id()}.{expires}.{device}.{who}.{mac}",  # another instance
        f"d2.{iid}.{expires}.{device}.{who}.{mac}", "", "garbage", cookie + "x", cookie * 10,
    ):
        assert await devices.grants(forged) == [], forged
    clock.now = float(expires)  # the moment it expires
    assert await devices.grants(cookie) == []


async def test_a_browser_keeps_the_entries_of_its_last_few_accounts(storage: SqlStorage) -> None:
    devices = DeviceCookies(storage)
    instance_id = await demo_id(storage)
    cookie = ""
    for n in range(1, 7):
        cookie = await devices.issue(instance_id, user_key("demo", f"agent{n}"), cookie)
    grants = await devices.grants(cookie)
    assert [g.who for g in grants] == [who_of(user_key("demo", f"agent{n}")) for n in (6, 5, 4, 3)]
    assert len(grants) == MAX_ENTRIES
    # signing in as one of them again moves it to the front without a duplicate
    cookie = await devices.issue(instance_id, user_key("demo", "agent4"), cookie)
    assert [g.who for g in await devices.grants(cookie)] == [
        who_of(user_key("demo", f"agent{n}")) for n in (4, 6, 5, 3)]


async def test_uncached_instances_are_looked_up_a_few_times_a_second_at_most(storage: SqlStorage) -> None:
    instance_id = await demo_id(storage)
    valid = await DeviceCookies(storage).issue(instance_id, user_key("demo", "agent1"), "")
    monotonic = Clock(100.0)
    devices = DeviceCookies(storage, monotonic=monotonic)  # a fresh node: nothing cached
    _v, _iid, rest = valid.split(".", 2)
    for _ in range(int(LOOKUPS_PER_SECOND)):  # forged entries naming random instances, each a storage read
        assert await devices.grants(f"d1.{new_id()}.{rest}") == []
    assert await devices.grants(valid) == []  # out of look-ups: treated as unknown, storage not read
    monotonic.now += 1.0
    assert len(await devices.grants(valid)) == 1
    for _ in range(3 * int(LOOKUPS_PER_SECOND)):  # now cached: no look-up needed however many come
        assert len(await devices.grants(valid)) == 1

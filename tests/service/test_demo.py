"""The demo instance: created once, finished when a first start was interrupted, never duplicated."""

from __future__ import annotations

from pathlib import Path

from parley.domain.callers import SYSTEM
from parley.domain.resources import IdentityInfo, PhoneConfig, QuickConnect, RoutingProfile, SecurityProfile, User
from parley.service.demo import COMPLETE_TAG, DEMO_USERS, ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.storage import open_storage


async def test_an_interrupted_demo_setup_is_finished_on_the_next_start(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    try:
        instances = InstanceService(storage)
        directory = DirectoryService(storage, Passwords(fast=True))
        quick_connects = QuickConnectService(storage)
        # A first start that stopped after creating the instance and one user.
        partial = await instances.create_instance(SYSTEM, "demo", "CONNECT_MANAGED", True, True)
        async with storage.transaction() as uow:
            profile = next(p for p in await uow.resources.all(SecurityProfile, partial.id) if p.name == "Agent")
            routing = (await uow.resources.all(RoutingProfile, partial.id))[0]
        await directory.create_user(SYSTEM, partial.id, "agent1", "Parley-demo-1", IdentityInfo(first_name="Agent1"),
                                    PhoneConfig(), [profile.id], routing.id)

        first = await ensure_demo(storage, instances, directory, quick_connects)
        assert first.instance.id == partial.id and not first.created
        assert first.instance.tags[COMPLETE_TAG] == "true"
        again = await ensure_demo(storage, instances, directory, quick_connects)
        assert again.instance.id == partial.id and not again.created

        async with storage.transaction() as uow:
            users = sorted(u.username for u in await uow.resources.all(User, partial.id))
            qcs = sorted(q.name or "" for q in await uow.resources.all(QuickConnect, partial.id))
        assert users == sorted(DEMO_USERS)
        assert qcs == sorted([*(f"Transfer-to-agent-{n}" for n in range(1, 6)), "Transfer-to-BasicQueue"])
        instance = await instances.get_instance(SYSTEM, partial.id)
        assert instance.multi_party_chat
        assert set(instance.approved_origins) == {"http://localhost:8080", "http://127.0.0.1:8080"}
        listed, _ = await instances.list_instances(SYSTEM, None, 10)
        assert [i.alias for i in listed] == ["demo"]
    finally:
        await storage.close()

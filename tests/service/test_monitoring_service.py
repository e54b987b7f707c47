"""MonitoringService's use cases as the console will call them: who may start monitoring (a member as itself, with
ManagerListenIn), the list of a chat's monitors, barge-in, the per-instance monitor limit, and after-contact work
of a monitoring contact; on a real storage with the services wired as app.build wires them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from parley.aws.participant.items import chat_frame
from parley.domain.agents import AgentSession
from parley.domain.callers import SYSTEM, Operator
from parley.domain.contact import CLOSED, CONNECTED, ENDED, MONITOR_SEGMENT
from parley.domain.errors import AccessDenied, InvalidRequest, NotFound, QuotaExceeded
from parley.domain.monitoring import BARGED, SILENT_MONITOR
from parley.domain.resources import IdentityInfo, PhoneConfig, SecurityProfile, User
from parley.domain.transcript import JOINED
from parley.service.access import member_of
from parley.service.monitoring import MonitoringService, MonitorRequest
from parley.service.notify import Notifier
from tests.service.agent_world import Staff, World, open_world, says

BOTH = [SILENT_MONITOR, BARGED]


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    opened = await open_world(f"sqlite:///{tmp_path / 'parley.db'}", monkeypatch)
    await opened.instances.set_attribute(SYSTEM, opened.instance_id, "ENHANCED_CHAT_MONITORING", "true")
    yield opened
    await opened.close()


def service(world: World) -> MonitoringService:
    return MonitoringService(world.storage, Notifier(world.bus, chat_frame))


async def user(world: World, name: str, profile: str) -> User:
    async with world.storage.transaction() as uow:
        found = await uow.resources.find_by_name(SecurityProfile, world.instance_id, profile)
    assert found is not None
    return await world.directory.create_user(SYSTEM, world.instance_id, name, None,
                                             IdentityInfo(first_name=name.title()), PhoneConfig(), [found.id],
                                             world.basic_profile)


async def live_chat(world: World) -> tuple[Staff, str]:
    agent = await world.agent("ann")
    chat = await world.customer()
    await world.offer_and_accept(agent, chat)
    return agent, chat.contact_id


async def test_a_member_monitors_as_itself_with_listen_in(world: World) -> None:
    monitoring = service(world)
    agent, chat = await live_chat(world)
    boss = await user(world, "sam", "CallCenterManager")
    other = await user(world, "sue", "CallCenterManager")
    sam = await member_of(world.storage, boss)
    with pytest.raises(AccessDenied, match=says("sam may not start monitoring for sue: a signed-in user monitors as "
                                                "itself.")):
        await monitoring.monitor(sam, MonitorRequest(world.instance_id, chat, other.id, BOTH))
    ann = await member_of(world.storage, agent.user)
    with pytest.raises(AccessDenied, match=says("ann may not monitor contacts: none of the user's security profiles "
                                                "grants ManagerListenIn.")):
        await monitoring.monitor(ann, MonitorRequest(world.instance_id, chat, agent.id, BOTH))
    assert await monitoring.monitors(SYSTEM, world.instance_id, chat) == []

    started = await monitoring.monitor(sam, MonitorRequest(world.instance_id, chat, boss.id, BOTH))
    assert (started.segment_kind, started.initiation_method, started.state) == (MONITOR_SEGMENT, "MONITOR", CONNECTED)
    assert (started.initial_contact_id, started.previous_contact_id, started.agent_user_id) == (chat, chat, boss.id)
    assert started.monitor_capabilities == (SILENT_MONITOR, BARGED)
    [view] = await monitoring.monitors(sam, world.instance_id, chat)
    assert (view.contact_id, view.user_id, view.name, view.mode) == (started.id, boss.id, "Sam", SILENT_MONITOR)
    assert view.capabilities == (SILENT_MONITOR, BARGED)
    assert [i for i in await world.transcript(chat) if i.participant_id == view.participant_id] == []
    with pytest.raises(AccessDenied, match="ann may not see who monitors contacts"):
        await monitoring.monitors(ann, world.instance_id, chat)

    # the barge, as the CTI handler calls it
    now = world.clock()
    session = AgentSession("access", world.instance_id, boss.id, now, now + timedelta(hours=1))
    with pytest.raises(NotFound, match="is not a monitoring contact of yours"):
        await monitoring.switch_mode(session, chat, BARGED)
    await monitoring.switch_mode(session, started.id, BARGED)
    [view] = await monitoring.monitors(Operator("AKID"), world.instance_id, chat)
    assert view.mode == BARGED
    joined = [i for i in await world.transcript(chat) if i.participant_id == view.participant_id]
    assert [(i.content_type, i.display_name, i.role) for i in joined] == [(JOINED, "Sam", "SUPERVISOR")]

    # the chat ends: the monitoring contact is in after-contact work until the supervisor clears it
    await world.contacts.stop(SYSTEM, world.instance_id, chat)
    assert (await world.contact(started.id)).state == ENDED
    assert await monitoring.monitors(SYSTEM, world.instance_id, chat) == []
    await world.agents.clear(session, started.id)
    assert (await world.contact(started.id)).state == CLOSED


async def test_the_monitor_limit_is_a_setting_of_the_instance(world: World) -> None:
    monitoring = service(world)
    _agent, chat = await live_chat(world)
    first, second = await user(world, "sam", "CallCenterManager"), await user(world, "sue", "Admin")
    analyst = await member_of(world.storage, await user(world, "quinn", "QualityAnalyst"))
    with pytest.raises(AccessDenied, match="quinn may not change the instance's settings"):
        await monitoring.set_monitor_cap(analyst, world.instance_id, 1)
    for bad in (0, 6):
        with pytest.raises(InvalidRequest, match="between 1 and 5"):
            await monitoring.set_monitor_cap(SYSTEM, world.instance_id, bad)
    assert (await monitoring.set_monitor_cap(SYSTEM, world.instance_id, 1)).monitor_cap == 1
    await monitoring.monitor(SYSTEM, MonitorRequest(world.instance_id, chat, first.id, [SILENT_MONITOR]))
    with pytest.raises(QuotaExceeded, match="already has 1 supervisors monitoring it, the instance's limit of 1"):
        await monitoring.monitor(SYSTEM, MonitorRequest(world.instance_id, chat, second.id, [SILENT_MONITOR]))
    await monitoring.set_monitor_cap(SYSTEM, world.instance_id, 2)
    assert await monitoring.monitor(SYSTEM, MonitorRequest(world.instance_id, chat, second.id, [SILENT_MONITOR]))

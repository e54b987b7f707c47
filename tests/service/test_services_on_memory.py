"""The services run without a database: the world of ``tests.service.agent_world`` (the services wired as
``parley.app.build`` wires them) on the in-memory fake of the storage ports (``tests.fakes.memory``), through real use
cases end to end: configuring an instance (queue, routing profile, user, and the audit trail of it), a customer's
chat (messages, a ClientToken replay, the transcript in pages), an agent going Available, being offered the chat,
accepting it and talking to the customer until after-contact work is cleared, and a chat that runs out of time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.domain.callers import SYSTEM
from parley.domain.contact import AGENT, CLOSED, CONNECTED, CUSTOMER, ENDED, QUEUED
from parley.domain.errors import Duplicate
from parley.domain.resources import IdentityInfo, PhoneConfig
from parley.domain.transcript import CHAT_ENDED, JOINED
from parley.service.audit import AuditService
from parley.service.chat import TranscriptQuery
from tests.fakes.memory import MemoryStorage
from tests.service.agent_world import World, open_world, says
from tests.service.chat_world import connection_token


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    made = await open_world(MemoryStorage(), monkeypatch)
    try:
        yield made
    finally:
        await made.close()



async def test_the_world_has_no_database(world: World) -> None:
    assert isinstance(world.storage, MemoryStorage)
    assert world.instance_id and world.basic_queue and world.basic_profile  # the instance's built-in resources


async def test_an_instance_is_configured_through_the_services(world: World) -> None:
    queue, _flow = await world.queue_with_flow("Sales")
    profile = await world.routing_profile("Sales desk", 2, [queue.id])
    ann = await world.agent("ann", profile_id=profile.id, available=False)

    assert await world.directory.get_queue(SYSTEM, world.instance_id, queue.id) == queue
    assert await world.directory.get_user(SYSTEM, world.instance_id, ann.id) == ann.user
    users, _ = await world.directory.list_users(SYSTEM, world.instance_id, None, 100)
    assert [u.username for u in users] == ["ann"]
    queues, _ = await world.directory.list_queues(SYSTEM, world.instance_id, ["STANDARD"], None, 100)
    assert "Sales" in [q.name for q in queues]

    basic = await world.directory.get_queue(SYSTEM, world.instance_id, world.basic_queue)
    with pytest.raises(Duplicate, match=says("A queue named 'Sales' already exists.")):
        await world.directory.create_queue(SYSTEM, world.instance_id, "Sales", "", basic.hours_of_operation_id,
                                           None, [])
    with pytest.raises(Duplicate):
        await world.directory.create_user(SYSTEM, world.instance_id, "ann", None, IdentityInfo(), PhoneConfig(),
                                          [world.agent_security_profile], profile.id)
    queues_after, _ = await world.directory.list_queues(SYSTEM, world.instance_id, ["STANDARD"], None, 100)
    assert queues_after == queues

    trail = await AuditService(world.storage).list_events(SYSTEM, world.instance_id, None, None, 3)
    assert [(e.action, e.resource_id) for e in trail.events] == [
        ("CreateUser", ann.id), ("CreateRoutingProfile", profile.id), ("CreateQueue", queue.id)]
    assert trail.events[0].seq > trail.events[1].seq > trail.events[2].seq


async def test_a_customer_chats_and_reads_the_transcript_in_pages(world: World) -> None:
    chat = await world.customer("Jane")
    token = await connection_token(world.chat, chat.participant_token)
    sent = [await world.chat.send_message(token, "text/plain", f"message {n}", None) for n in range(5)]
    assert [m.seq for m in sent] == sorted(m.seq for m in sent)
    again = await world.chat.send_message(token, "text/plain", "once", "client-token-1")
    replay = await world.chat.send_message(token, "text/plain", "once", "client-token-1")
    assert replay.id == again.id

    items = await world.transcript(chat.contact_id)
    assert [i.seq for i in items] == list(range(1, len(items) + 1))
    assert [(m.content, m.role) for m in items if m.type == "MESSAGE"] == [
        *((f"message {n}", CUSTOMER) for n in range(5)), ("once", CUSTOMER)]
    pages: list[list[str]] = []  # GetTranscript without a start: pages from the newest back, each one ascending
    next_token: str | None = None
    while True:
        chat_id, page, next_token = await world.chat.transcript(
            token, TranscriptQuery(max_results=2, next_token=next_token, ascending=True))
        assert chat_id == chat.contact_id and len(page) <= 2
        pages.append([i.id for i in page])
        if next_token is None:
            break
    assert [item_id for page in reversed(pages) for item_id in page] == [i.id for i in items]


async def test_an_agent_is_offered_the_chat_accepts_it_and_talks_with_the_customer(world: World) -> None:
    ann = await world.agent("ann")
    chat = await world.customer("Jane")
    assert (await world.contact(chat.contact_id)).state == QUEUED

    assert await world.route() == 1
    assert await world.offered_to(ann) == [chat.contact_id]
    await world.agents.accept(ann.who, chat.contact_id)
    segment = await world.contact(chat.contact_id)
    assert (segment.state, segment.agent_user_id) == (CONNECTED, ann.id)
    assert await world.agents.chats_of(ann.who) == {chat.contact_id: segment.agent_participant_id}

    customer = await connection_token(world.chat, chat.participant_token)
    _contact, agent_participant_token = await world.agents.participant_token(ann.who, chat.contact_id)
    agent = await connection_token(world.chat, agent_participant_token)
    await world.chat.send_message(customer, "text/plain", "Hello?", None)
    await world.chat.send_message(agent, "text/plain", "Hi Jane, how can I help?", None)

    items = await world.transcript(chat.contact_id)
    assert [(i.role, i.content) for i in items if i.type == "MESSAGE"] == [
        (CUSTOMER, "Hello?"), (AGENT, "Hi Jane, how can I help?")]
    assert segment.agent_participant_id in [i.participant_id for i in items if i.content_type == JOINED]
    assert [i.seq for i in items] == list(range(1, len(items) + 1))

    await world.chat.disconnect(customer)
    assert (await world.contact(chat.contact_id)).state == ENDED
    assert await world.agents.chats_of(ann.who) == {}
    async with world.storage.transaction() as uow:  # after-contact work holds the agent's chat slot
        assert await uow.contacts.slots_in_use(world.instance_id) == {ann.id: 1}
    await world.agents.clear(ann.who, chat.contact_id)
    assert (await world.contact(chat.contact_id)).state == CLOSED
    async with world.storage.transaction() as uow:
        assert await uow.contacts.slots_in_use(world.instance_id) == {}


async def test_a_chat_that_runs_out_of_time_is_ended(world: World) -> None:
    chat = await world.customer("Jane")
    assert await world.chat.end_expired_chats() == 0
    world.clock.skip(26 * 3600)  # past the default duration of 25 hours
    assert await world.chat.end_expired_chats() == 1
    assert await world.chat.end_expired_chats() == 0  # ended once
    segment = await world.contact(chat.contact_id)
    assert segment.state != QUEUED and segment.disconnect_reason == "EXPIRED"
    assert CHAT_ENDED in [i.content_type for i in await world.transcript(chat.contact_id)]

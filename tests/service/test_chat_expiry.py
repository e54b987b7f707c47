"""Chat duration expiry: ``ChatService.end_expired_chats`` ends each chat whose time ran out exactly once
(``participant.left`` for everyone, then ``chat.ended``, segments closed), also when two nodes sharing one
database run it at the same time, and the node's hub pushes the end to the chat's sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from parley.aws.participant.items import chat_frame
from parley.domain.callers import SYSTEM
from parley.domain.clock import utcnow
from parley.domain.transcript import CHAT_ENDED, JOINED, LEFT, Item
from parley.fanout.hub import Hub
from parley.service.pokes import CHAT_CHANNEL
from tests.service.chat_world import Node, new_instance, open_node, start_chat


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    node = await open_node(tmp_path / "parley.db")
    yield node
    await node.close()


async def expire(node: Node, chat_id: str) -> None:
    """Move the chat's end into the past, as if its ChatDurationInMinutes had run out."""
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    async with node.storage.transaction() as uow:
        await uow.conn.execute(sa.text("UPDATE chats SET expires_at = :past WHERE id = :id"),
                              {"past": past, "id": chat_id})


async def items_of(node: Node, chat_id: str) -> list[Item]:
    async with node.storage.transaction() as uow:
        return await uow.chats.items_after(chat_id, 0, 1000)


async def assert_ended_once(node: Node, instance_id: str, chat_id: str, parties: int) -> None:
    items = await items_of(node, chat_id)
    kinds = [i.content_type for i in items]
    assert kinds.count(CHAT_ENDED) == 1 and kinds[-1] == CHAT_ENDED
    assert kinds[-1 - parties:-1] == [LEFT] * parties
    assert kinds.count(LEFT) == parties
    assert [i.seq for i in items] == list(range(1, len(items) + 1))
    async with node.storage.transaction() as uow:
        contact = await uow.contacts.find(instance_id, chat_id)
        chat = await uow.chats.find(chat_id)
        participants = await uow.participants.of_chat(chat_id)
    assert contact is not None and chat is not None
    assert chat.ended and not contact.is_active
    assert contact.disconnect_reason == "EXPIRED" and contact.disconnect_time is not None
    assert not any(p.active for p in participants)


async def test_an_expired_chat_ends_exactly_once(node: Node) -> None:
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    chat_id = started.contact_id
    await node.chat.add_bot(SYSTEM, instance_id, chat_id, "Bot", None)
    running = (await start_chat(node, instance_id, flow_id, "Still Talking")).contact_id

    assert await node.chat.end_expired_chats() == 0  # nothing is due yet
    assert [i.content_type for i in await items_of(node, chat_id)] == [JOINED, JOINED]

    await expire(node, chat_id)
    assert await node.chat.end_expired_chats() == 1
    assert await node.chat.end_expired_chats() == 0
    await assert_ended_once(node, instance_id, chat_id, parties=2)
    assert [i.content_type for i in await items_of(node, running)] == [JOINED]


async def test_two_nodes_end_each_chat_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first, second = await open_node(db), await open_node(db)
    try:
        instance_id, flow_id = await new_instance(first)
        chats = [(await start_chat(first if n % 2 else second, instance_id, flow_id, f"C{n}")).contact_id
                 for n in range(6)]
        for chat_id in chats[:3]:
            await first.chat.add_bot(SYSTEM, instance_id, chat_id, "Bot", None)
        for chat_id in chats:
            await expire(first, chat_id)
        rounds = await asyncio.gather(*(node.chat.end_expired_chats() for node in (first, second) * 3))
        assert sum(rounds) == len(chats)
        for n, chat_id in enumerate(chats):
            await assert_ended_once(second, instance_id, chat_id, parties=2 if n < 3 else 1)
    finally:
        await first.close()
        await second.close()


async def test_expiry_is_poked_and_pushed_to_sockets(node: Node) -> None:
    instance_id, flow_id = await new_instance(node)
    chat_id = (await start_chat(node, instance_id, flow_id)).contact_id
    async with node.storage.transaction() as uow:
        (customer,) = await uow.participants.of_chat(chat_id)

    class Sink:
        def __init__(self) -> None:
            self.participant_id = customer.id
            self.chat_id = chat_id
            self.frames: list[dict[str, str]] = []
            self.finished = asyncio.Event()

        def push(self, frame: str) -> None:
            self.frames.append(orjson.loads(frame))

        def finish(self) -> None:
            self.finished.set()

    hub = Hub(node.storage, node.bus, chat_frame)
    await hub.start()
    sink = Sink()
    try:
        await hub.add(sink)
        async with node.bus.subscribe(CHAT_CHANNEL) as pokes:
            await expire(node, chat_id)
            assert await node.chat.end_expired_chats() == 1
            [poke] = orjson.loads(await asyncio.wait_for(anext(pokes), 5))
        assert poke["chat"] == chat_id and poke["seq"] == len(await items_of(node, chat_id))
        await asyncio.wait_for(sink.finished.wait(), 5)
    finally:
        await hub.stop()
    pushed = [orjson.loads(f["content"]) for f in sink.frames]
    assert [(i["ContentType"], i.get("ParticipantId")) for i in pushed] == [
        (LEFT, customer.id), (CHAT_ENDED, None)]

"""Races between nodes sharing one database (SQLite and PostgreSQL): messages racing the end of a chat never
land after ``chat.ended``, two bots racing for the one bot slot get one seat, and expiry on two nodes ends
each chat once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied, Conflict, QuotaExceeded
from parley.domain.transcript import CHAT_ENDED, LEFT
from tests.service.chat_world import Node, database_url, new_instance, open_node, start_chat


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    """Two nodes on one database."""
    async with database_url(str(request.param), tmp_path) as url:
        first = await open_node(url)
        second = await open_node(url)
        try:
            yield first, second
        finally:
            await first.close()
            await second.close()


async def connection(node: Node, participant_token: str) -> str:
    grant = await node.chat.create_connection(participant_token, ["CONNECTION_CREDENTIALS"], False)
    assert grant.connection_token is not None
    return grant.connection_token


async def test_messages_racing_the_end_never_follow_chat_ended(nodes: tuple[Node, Node]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    for _ in range(5):
        started = await start_chat(first, instance_id, flow_id)
        customer = await connection(first, started.participant_token)
        _bot, bot_token = await first.chat.add_bot(instance_id, started.contact_id, "Bot", None)
        bot = await connection(first, bot_token)

        async def chatter(node: Node, token: str) -> int:
            sent = 0
            for n in range(15):
                try:
                    await node.chat.send_message(token, "text/plain", f"m{n}", None)
                    sent += 1
                except AccessDenied:
                    break
            return sent

        async def leave(token: str) -> None:
            await asyncio.sleep(0.005)
            await second.chat.disconnect(token)

        results = await asyncio.gather(chatter(first, bot), chatter(second, bot), chatter(first, customer),
                                       leave(customer))
        async with first.storage.transaction() as tx:
            items = await tx.items_after(started.contact_id, 0, 1000)
        kinds = [i.content_type for i in items]
        assert kinds.count(CHAT_ENDED) == 1 and kinds[-1] == CHAT_ENDED, kinds
        assert kinds[-3:-1] == [LEFT, LEFT], kinds
        assert sum(r for r in results if isinstance(r, int)) == kinds.count("text/plain")


async def test_two_bots_racing_for_one_seat(nodes: tuple[Node, Node]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    for _ in range(5):
        started = await start_chat(first, instance_id, flow_id)
        outcomes = await asyncio.gather(
            *(node.chat.add_bot(instance_id, started.contact_id, f"Bot {n}", None)
              for n, node in enumerate((first, second, first, second))),
            return_exceptions=True,
        )
        seated = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(seated) == 1, outcomes
        assert all(isinstance(o, QuotaExceeded) for o in outcomes if isinstance(o, BaseException)), outcomes
        async with first.storage.transaction() as tx:
            bots = [p for p in await tx.participants_of_chat(started.contact_id) if p.role == "CUSTOM_BOT"]
        assert len(bots) == 1


async def test_a_bot_racing_the_end_of_the_chat(nodes: tuple[Node, Node]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    for _ in range(5):
        started = await start_chat(first, instance_id, flow_id)
        customer = await connection(first, started.participant_token)
        joined, _ended = await asyncio.gather(
            first.chat.add_bot(instance_id, started.contact_id, "Late Bot", None),
            second.chat.disconnect(customer), return_exceptions=True,
        )
        async with first.storage.transaction() as tx:
            participants = await tx.participants_of_chat(started.contact_id)
            items = await tx.items_after(started.contact_id, 0, 1000)
        assert not any(p.active for p in participants), "a participant was left inside an ended chat"
        assert items[-1].content_type == CHAT_ENDED
        if isinstance(joined, BaseException):
            assert isinstance(joined, Conflict), joined


async def test_expiry_on_two_nodes(nodes: tuple[Node, Node]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    chats = [(await start_chat(first, instance_id, flow_id, f"C{n}")).contact_id for n in range(8)]
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    async with first.storage.transaction() as tx:
        await tx.conn.execute(sa.text("UPDATE chats SET expires_at = :past"), {"past": past})
    rounds = await asyncio.gather(*(node.chat.end_expired_chats() for node in (first, second) * 3))
    assert sum(rounds) == len(chats)
    for chat_id in chats:
        async with second.storage.transaction() as tx:
            kinds = [i.content_type for i in await tx.items_after(chat_id, 0, 100)]
        assert kinds.count(CHAT_ENDED) == 1 and kinds.count(LEFT) == 1 and kinds[-1] == CHAT_ENDED


async def test_concurrent_retries_with_one_client_token(nodes: tuple[Node, Node]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    started = await start_chat(first, instance_id, flow_id)
    customer = await connection(first, started.participant_token)
    sent = await asyncio.gather(*(node.chat.send_message(customer, "text/plain", "once", "retry-token")
                                  for node in (first, second) * 4))
    assert len({item.id for item in sent}) == 1
    async with first.storage.transaction() as tx:
        items = await tx.items_after(started.contact_id, 0, 100)
    assert [i.content for i in items if i.type == "MESSAGE"] == ["once"]

"""Races between nodes sharing one database (SQLite and PostgreSQL): messages racing the end of a chat never
land after ``chat.ended``, two bots racing for the one bot slot get one seat, and expiry on two nodes ends
each chat once.

The second node runs on its own thread and event loop, as a second process would: on SQLite a transaction runs
on its loop without pausing, so two nodes on one loop could never interleave and the "race" would not be one.
Each race test also checks that the race happened: the racing operations were in flight at the storage at the
same time (``Overlap`` records, on a shared counter, when each asked for a transaction and when its last one
ended), or a sender was cut off by the end of the chat between two of its messages."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from parley.domain.callers import SYSTEM
from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied, Conflict, QuotaExceeded
from parley.domain.transcript import CHAT_ENDED, LEFT
from tests.service.chat_world import Node, database_url, new_instance, open_node, start_chat

# The racing operation a storage transaction belongs to (set by ``Overlap.run`` in the operation's own task).
OPERATION: contextvars.ContextVar[str | None] = contextvars.ContextVar("racing_operation", default=None)
# Rounds of the messages-versus-end race to try for the cut-offs it must show, and how many it must show.
MAX_ROUNDS = 20
CUT_OFFS = 2
# How long a racing operation waits at the start line for the others before going alone (and failing the check).
START_LINE_WAIT = 10.0


T = TypeVar("T")


class Remote:
    """A node on its own thread and event loop; ``remote.chat.send_message(...)`` (any attribute of the node's
    services) returns an awaitable for the caller's loop that runs the call on the node's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="second-node", daemon=True)
        self.thread.start()
        self.node: Node | None = None

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def open(self, url: str) -> Node:
        self.node = await self.call(open_node(url))
        return self.node

    def __getattr__(self, name: str) -> Any:
        assert self.node is not None
        remote = self

        class Calls:
            def __getattr__(self, method: str) -> Any:
                real = getattr(getattr(remote.node, name), method)
                return lambda *args, **kwargs: remote.call(real(*args, **kwargs))

        return Calls()

    async def close(self) -> None:
        if self.node is not None:
            await self.call(self.node.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join)
        self.loop.close()


class Overlap:
    """Makes racing operations meet at the storage and proves they did.

    Each labelled operation, when it first asks its node's storage for a transaction, waits at a start line until
    every operation of the race has asked too (one on each node's loop and thread), then all go for their
    transactions at once. When each asked and when its last transaction ended are recorded on a shared counter:
    two operations overlapped when each asked before the other was done.
    """

    def __init__(self, first: Node, second: Remote, *labels: str) -> None:
        self.labels = set(labels)
        self.tick = 0
        self._lock = threading.Lock()  # the two nodes' loops run on two threads
        self.asked: dict[str, int] = {}
        self.done: dict[str, int] = {}
        assert second.node is not None
        for node in (first, second.node):
            self._watch(node)

    def _next(self) -> int:
        with self._lock:
            self.tick += 1
            return self.tick

    async def _start_line(self) -> None:
        deadline = asyncio.get_running_loop().time() + START_LINE_WAIT
        while not self.labels <= self.asked.keys() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.0005)

    def _watch(self, node: Node) -> None:
        real = node.storage.transaction

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Any]:
            label = OPERATION.get()
            if label is not None and label not in self.asked:
                with self._lock:
                    self.asked[label] = self.tick = self.tick + 1
                await self._start_line()
            try:
                async with real() as uow:
                    yield uow
            finally:
                if label is not None:
                    self.done[label] = self._next()

        node.storage.transaction = transaction  # type: ignore[method-assign]

    async def run(self, label: str, operation: Awaitable[T]) -> T:
        OPERATION.set(label)  # this task's own context (gather runs each coroutine in a task), seen on both loops
        return await operation

    def assert_overlapped(self) -> None:
        for a in self.labels:
            for b in self.labels - {a}:
                assert a in self.asked and b in self.done and self.asked[a] < self.done[b], (
                    f"{a} first asked for a transaction after {b} was done: no race "
                    f"(asked {self.asked}, done {self.done})")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Node, Remote]]:
    """Two nodes on one database, the second on its own thread and loop."""
    async with database_url(str(request.param), tmp_path) as url:
        first = await open_node(url)
        second = Remote()
        try:
            await second.open(url)
            yield first, second
        finally:
            await first.close()
            await second.close()


async def connection(node: Node, participant_token: str) -> str:
    grant = await node.chat.create_connection(participant_token, ["CONNECTION_CREDENTIALS"], False)
    assert grant.connection_token is not None
    return grant.connection_token


async def test_messages_racing_the_end_never_follow_chat_ended(nodes: tuple[Node, Remote]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    cut_offs = 0  # rounds where the end landed between two messages of one sender: the race happened
    for _ in range(MAX_ROUNDS):
        if cut_offs >= CUT_OFFS:
            break
        started = await start_chat(first, instance_id, flow_id)
        customer = await connection(first, started.participant_token)
        _bot, bot_token = await first.chat.add_bot(SYSTEM, instance_id, started.contact_id, "Bot", None)
        bot = await connection(first, bot_token)

        async def chatter(node: Node | Remote, token: str) -> int:
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
        async with first.storage.transaction() as uow:
            items = await uow.chats.items_after(started.contact_id, 0, 1000)
        kinds = [i.content_type for i in items]
        assert kinds.count(CHAT_ENDED) == 1 and kinds[-1] == CHAT_ENDED, kinds
        assert kinds[-3:-1] == [LEFT, LEFT], kinds
        assert sum(r for r in results if isinstance(r, int)) == kinds.count("text/plain")
        cut_offs += any(isinstance(r, int) and 0 < r < 15 for r in results[:3])
    assert cut_offs >= CUT_OFFS, f"in {MAX_ROUNDS} rounds the end cut a sender off {cut_offs} times: no race"


async def test_two_bots_racing_for_one_seat(nodes: tuple[Node, Remote]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    for _ in range(5):
        started = await start_chat(first, instance_id, flow_id)
        overlap = Overlap(first, second, "bot 0", "bot 1", "bot 2", "bot 3")
        outcomes = await asyncio.gather(
            *(overlap.run(f"bot {n}", node.chat.add_bot(SYSTEM, instance_id, started.contact_id, f"Bot {n}", None))
              for n, node in enumerate[Node | Remote]((first, second, first, second))),
            return_exceptions=True,
        )
        overlap.assert_overlapped()
        seated = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(seated) == 1, outcomes
        assert all(isinstance(o, QuotaExceeded) for o in outcomes if isinstance(o, BaseException)), outcomes
        async with first.storage.transaction() as uow:
            bots = [p for p in await uow.participants.of_chat(started.contact_id) if p.role == "CUSTOM_BOT"]
        assert len(bots) == 1


async def test_a_bot_racing_the_end_of_the_chat(nodes: tuple[Node, Remote]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    for _ in range(5):
        started = await start_chat(first, instance_id, flow_id)
        customer = await connection(first, started.participant_token)
        overlap = Overlap(first, second, "join", "end")
        raced: list[object] = list(await asyncio.gather(
            overlap.run("join", first.chat.add_bot(SYSTEM, instance_id, started.contact_id, "Late Bot", None)),
            overlap.run("end", second.chat.disconnect(customer)), return_exceptions=True,
        ))
        joined = raced[0]
        overlap.assert_overlapped()
        async with first.storage.transaction() as uow:
            participants = await uow.participants.of_chat(started.contact_id)
            items = await uow.chats.items_after(started.contact_id, 0, 1000)
        assert not any(p.active for p in participants), "a participant was left inside an ended chat"
        assert items[-1].content_type == CHAT_ENDED
        if isinstance(joined, BaseException):
            assert isinstance(joined, Conflict), joined


async def test_expiry_on_two_nodes(nodes: tuple[Node, Remote]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    chats = [(await start_chat(first, instance_id, flow_id, f"C{n}")).contact_id for n in range(8)]
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    async with first.storage.transaction() as uow:
        await uow.conn.execute(sa.text("UPDATE chats SET expires_at = :past"), {"past": past})
    rounds = await asyncio.gather(*(node.chat.end_expired_chats() for node in (first, second) * 3))
    assert sum(rounds) == len(chats)
    for chat_id in chats:
        async with first.storage.transaction() as uow:
            kinds = [i.content_type for i in await uow.chats.items_after(chat_id, 0, 100)]
        assert kinds.count(CHAT_ENDED) == 1 and kinds.count(LEFT) == 1 and kinds[-1] == CHAT_ENDED


async def test_concurrent_retries_with_one_client_token(nodes: tuple[Node, Remote]) -> None:
    first, second = nodes
    instance_id, flow_id = await new_instance(first)
    started = await start_chat(first, instance_id, flow_id)
    customer = await connection(first, started.participant_token)
    sent = await asyncio.gather(*(node.chat.send_message(customer, "text/plain", "once", "retry-token")
                                  for node in (first, second) * 4))
    assert len({item.id for item in sent}) == 1
    async with first.storage.transaction() as uow:
        items = await uow.chats.items_after(started.contact_id, 0, 100)
    assert [i.content for i in items if i.type == "MESSAGE"] == ["once"]

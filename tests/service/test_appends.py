"""Group commit (``service/appends.py``) on SQLite and PostgreSQL: requests sharing one transaction are each
checked on their own terms, a refused request writes nothing, a ClientToken repeated within a batch yields one
item, a batch whose transaction fails is retried one request at a time, and a batch waits for more requests only
while they come fast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from parley.domain.errors import AccessDenied, InvalidParameter, Overloaded
from parley.domain.ids import hash_token
from parley.domain.transcript import Item
from parley.service import appends
from parley.service.appends import GATHER_TURNS, Append, Appender
from parley.service.credentials import Caller
from parley.service.repositories import UnitOfWork
from tests.service.chat_world import Node, connection_token, database_url, new_instance, open_node, start_chat


class CountingAppender(Appender):
    """Records the size of every batch it commits."""

    def __init__(self, node: Node, parallel: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(node.storage, node.chat.notifier, parallel=parallel, clock=clock)
        self.sizes: list[int] = []

    async def _commit(self, batch: list[Append]) -> None:
        self.sizes.append(len(batch))
        await super()._commit(batch)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def node(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Node]:
    async with database_url(str(request.param), tmp_path) as url:
        node = await open_node(url)
        try:
            yield node
        finally:
            await node.close()



async def transcript(node: Node, chat_id: str) -> list[Item]:
    async with node.storage.transaction() as uow:
        return await uow.chats.items_after(chat_id, 0, 1000)


async def test_requests_in_one_batch_are_checked_alone(node: Node) -> None:
    appender = CountingAppender(node, parallel=1)
    node.chat.appender = appender
    instance_id, flow_id = await new_instance(node)
    first, second = [await start_chat(node, instance_id, flow_id, name) for name in ("Ann", "Bob")]
    ann = await connection_token(node.chat, first.participant_token)
    bob = await connection_token(node.chat, second.participant_token)
    leaver = await start_chat(node, instance_id, flow_id, "Cy")
    cy = await connection_token(node.chat, leaver.participant_token)
    await node.chat.disconnect(cy)
    before = {c: await transcript(node, c) for c in (first.contact_id, second.contact_id, leaver.contact_id)}

    outcomes = await asyncio.gather(
        node.chat.send_message(ann, "text/plain", "one", "token-1"),
        node.chat.send_message(ann, "text/plain", "two", None),
        node.chat.send_message(bob, "text/plain", "three", "token-1"),  # same token, another participant
        node.chat.send_message(ann, "text/plain", "one again", "token-1"),  # a retry: the first item
        node.chat.send_message("not-a-token", "text/plain", "x", None),
        node.chat.send_message(cy, "text/plain", "after leaving", None),
        node.chat.send_event(ann, "application/vnd.amazonaws.connect.event.message.delivered",
                             '{"messageId": "no-such-message"}', None),
        node.chat.send_event(bob, "application/vnd.amazonaws.connect.event.connection.acknowledged", None, None),
        return_exceptions=True,
    )
    one, two, three, again, stranger, gone, receipt, ack = outcomes
    assert max(appender.sizes) > 1 and sum(appender.sizes) == len(outcomes)
    assert isinstance(one, Item) and isinstance(two, Item) and isinstance(three, Item) and isinstance(ack, Item)
    assert again == one
    assert isinstance(stranger, AccessDenied)
    assert isinstance(gone, AccessDenied) and "no longer accepts" in gone.message
    assert isinstance(receipt, InvalidParameter) and "no-such-message" in receipt.message

    ann_items = (await transcript(node, first.contact_id))[len(before[first.contact_id]):]
    bob_items = (await transcript(node, second.contact_id))[len(before[second.contact_id]):]
    assert [i.content for i in ann_items] == ["one", "two"]
    assert [(i.content, i.content_type) for i in bob_items] == [
        ("three", "text/plain"), (None, "application/vnd.amazonaws.connect.event.connection.acknowledged")]
    for items in (await transcript(node, first.contact_id), await transcript(node, second.contact_id)):
        assert [i.seq for i in items] == list(range(1, len(items) + 1))
    assert await transcript(node, leaver.contact_id) == before[leaver.contact_id]
    # The replay keeps answering with the first item after the batch, too.
    assert await node.chat.send_message(ann, "text/plain", "later", "token-1") == one


async def test_a_caller_that_goes_away_leaves_its_request_to_commit(node: Node) -> None:
    appender = CountingAppender(node, parallel=1)
    node.chat.appender = appender
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    token = await connection_token(node.chat, started.participant_token)
    gone = asyncio.ensure_future(node.chat.send_message(token, "text/plain", "left early", None))
    stays = asyncio.ensure_future(node.chat.send_message(token, "text/plain", "stayed", None))
    await asyncio.sleep(0)  # both requests are queued, neither batch has started
    assert appender.sizes == []
    gone.cancel()
    kept = await stays
    with pytest.raises(asyncio.CancelledError):
        await gone
    await appender.close()
    assert appender.sizes == [2]
    messages = [i for i in await transcript(node, started.contact_id) if i.type == "MESSAGE"]
    assert [i.content for i in messages][-2:] == ["left early", "stayed"]
    assert messages[-1] == kept and messages[-2].seq == kept.seq - 1


async def test_a_failed_batch_is_retried_one_request_at_a_time(node: Node) -> None:
    appender = CountingAppender(node, parallel=1)
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    token = await connection_token(node.chat, started.participant_token)
    before = await transcript(node, started.contact_id)

    def request(text: str) -> Append:
        async def make(uow: UnitOfWork, writer: Caller, seq: int) -> Item:
            if text == "boom":
                raise RuntimeError("a bug in one request")
            me = writer.participant
            return Item(chat_id=writer.chat.id, id=f"id-{text}", type="MESSAGE", content_type="text/plain",
                        content=text, absolute_time=before[-1].absolute_time, contact_id=me.contact_id,
                        participant_id=me.id, display_name=me.display_name, role=me.role, seq=seq)

        return Append(hash_token(token), "SendMessage", None, make)

    blocker = asyncio.ensure_future(appender.append(request("first")))
    for _ in range(GATHER_TURNS + 1):  # the first batch is taken; the next three queue behind it and share one
        await asyncio.sleep(0)
    outcomes = await asyncio.gather(*(appender.append(request(t)) for t in ("a", "boom", "b")),
                                    return_exceptions=True)
    await blocker
    a, boom, b = outcomes
    assert isinstance(boom, RuntimeError)
    assert isinstance(a, Item) and isinstance(b, Item)
    assert appender.sizes[:2] == [1, 3] and sorted(appender.sizes[2:]) == [1, 1, 1]
    items = (await transcript(node, started.contact_id))[len(before):]
    assert [i.content for i in items] == ["first", "a", "b"]
    assert [i.seq for i in items] == [len(before) + 1, len(before) + 2, len(before) + 3]


class Still:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_request_that_waited_past_the_limit_is_refused_and_not_committed(node: Node) -> None:
    """While load shedding refuses (``wait_limit`` not None), a request that waited longer than the limit when its
    batch takes the queue is answered Overloaded and writes nothing; the others of the batch commit, and the
    refused one's ClientToken is free for its retry."""
    clock = Still()
    appender = CountingAppender(node, parallel=1, clock=clock)
    node.chat.appender = appender
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    token = await connection_token(node.chat, started.participant_token)
    appender.wait_limit = lambda: 0.05
    old = asyncio.ensure_future(node.chat.send_message(token, "text/plain", "waited long", "token-old"))
    await asyncio.sleep(0)  # queued at 0.0
    clock.now = 0.1
    fresh = asyncio.ensure_future(node.chat.send_message(token, "text/plain", "just came", None))
    refused, kept = await asyncio.gather(old, fresh, return_exceptions=True)
    assert isinstance(refused, Overloaded) and isinstance(kept, Item)
    assert appender.sizes == [1] and appender.expired == 1
    assert [i.content for i in await transcript(node, started.contact_id) if i.type == "MESSAGE"] == ["just came"]
    appender.wait_limit = lambda: None  # shedding over: the retry with the same ClientToken is stored
    retried = await node.chat.send_message(token, "text/plain", "waited long", "token-old")
    assert [i.content for i in await transcript(node, started.contact_id)
            if i.type == "MESSAGE"] == ["just came", "waited long"]
    assert retried.content == "waited long"


class Ticks:
    """A clock that moves ``step`` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("gap, shared", [(0.0001, True), (1.0, False)])
async def test_a_batch_waits_for_more_requests_only_while_they_come_fast(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gap: float, shared: bool) -> None:
    """On SQLite, whose commits run without giving the event loop a turn, so that only the wait can make a batch
    of requests that arrive some turns apart (on PostgreSQL they also queue while a commit is in flight)."""
    monkeypatch.setattr(appends, "GATHER_SECONDS", 0.05)
    async with database_url("sqlite", tmp_path) as url:
        node = await open_node(url)
        try:
            await paced_sends(node, gap, shared)
        finally:
            await node.close()


async def paced_sends(node: Node, gap: float, shared: bool) -> None:
    appender = CountingAppender(node, parallel=1, clock=Ticks(gap))
    node.chat.appender = appender
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    token = await connection_token(node.chat, started.participant_token)

    async def paced(count: int) -> list[Item]:
        """``count`` sends, each some loop turns after the last: more than a batch gathers without waiting."""
        sends = []
        for k in range(count):
            sends.append(asyncio.ensure_future(node.chat.send_message(token, "text/plain", f"m{k}", None)))
            for _ in range(GATHER_TURNS + 2):
                await asyncio.sleep(0)
        return list(await asyncio.gather(*sends))

    await paced(150)  # the running mean of the gaps between requests settles
    appender.sizes.clear()
    items = await paced(40)
    assert [i.content for i in items] == [f"m{k}" for k in range(40)]
    assert sum(appender.sizes) == 40
    if shared:  # 0.1 ms apart: a batch waited GATHER_SECONDS and took the requests that came meanwhile (at most
        # GATHER_ENOUGH of them were waiting when it decided to wait; more joined while it waited)
        assert max(appender.sizes) >= 10, appender.sizes
    else:  # a second apart: no batch waited, each request was committed alone
        assert appender.sizes == [1] * 40

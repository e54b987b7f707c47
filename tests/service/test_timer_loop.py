"""The background timer loop (``parley.service.timers.Timers``) as a node runs it: started, ticking on its own,
ending a chat when its ``ChatDurationInMinutes`` runs out (and not a round before), dropping expired connection
tokens, upload tickets and agent sessions while keeping live ones, surviving a failed round, and stopping.

Time is a fake clock the test moves (installed where the timer and the chat service read the time), so a
60-minute chat (Connect's shortest) expires without waiting an hour; the loop's pause between rounds is shortened
the same way. Nothing is forced with SQL and ``end_expired_chats`` is never called by the test itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

import parley.service.chat as chat_module
import parley.service.chat_steps as chat_txn_module
import parley.service.timers as timers_module
from parley.domain.agents import AgentSession
from parley.domain.callers import SYSTEM
from parley.domain.clock import utcnow
from parley.domain.ids import hash_token
from parley.domain.transcript import CHAT_ENDED, LEFT, Connection
from parley.service.contacts import ChatRequest
from parley.service.pokes import CHAT_CHANNEL
from parley.service.timers import Timers
from tests.service.chat_world import Node, new_instance, open_node

# Connect's shortest chat duration (StartChatContact ChatDurationInMinutes, 60 to 10080).
MINUTES = 60
# The loop's pause between rounds in this test (5 s in production): short, so rounds come quickly.
ROUND_PAUSE = 0.02
# How long the test waits for something the loop should do: generous for a loaded machine.
WAIT = 20.0


class FakeClock:
    """``utcnow`` for the timer and the chat service: real time plus whatever the test has skipped."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.skipped


class Rounds:
    """Counts finished timer rounds (wrapping the service call the loop makes, which still does the work)."""

    def __init__(self, node: Node) -> None:
        self.done = 0
        self.failures_left = 0
        self._changed = asyncio.Condition()
        real = node.chat.end_expired_chats

        async def counted(limit: int = 100) -> int:
            try:
                if self.failures_left:
                    self.failures_left -= 1
                    raise RuntimeError("storage hiccup (injected by the test)")
                return await real(limit)
            finally:
                async with self._changed:
                    self.done += 1
                    self._changed.notify_all()

        node.chat.end_expired_chats = counted  # type: ignore[method-assign]

    async def wait(self, more: int) -> None:
        """Until ``more`` rounds have finished after now (each also dropped expired credentials, or failed)."""
        target = self.done + more
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.done >= target), WAIT)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    opened = await open_node(tmp_path / "parley.db")
    yield opened
    await opened.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in (timers_module, chat_module, chat_txn_module):
        monkeypatch.setattr(module, "utcnow", fake)
    monkeypatch.setattr(timers_module, "EXPIRY_CHECK_SECONDS", ROUND_PAUSE)
    return fake


async def start_chat(node: Node, instance_id: str, flow_id: str, name: str) -> tuple[str, str]:
    """A chat of ``MINUTES`` minutes with its customer connected: (contact id, connection token)."""
    started = await node.contacts.start_chat(SYSTEM, ChatRequest(instance_id, flow_id, name, {},
                                                         chat_duration_minutes=MINUTES))
    grant = await node.chat.create_connection(started.participant_token, ["CONNECTION_CREDENTIALS"], False)
    assert grant.connection_token is not None
    return started.contact_id, grant.connection_token


async def kinds_of(node: Node, chat_id: str) -> list[str]:
    async with node.storage.transaction() as uow:
        return [i.content_type for i in await uow.chats.items_after(chat_id, 0, 1000)]


async def test_the_loop_ends_a_chat_when_its_duration_runs_out(node: Node, clock: FakeClock) -> None:
    instance_id, flow_id = await new_instance(node)
    chat_id, token = await start_chat(node, instance_id, flow_id, "Ends On Time")
    rounds = Rounds(node)
    timers = Timers(node.storage, node.chat)
    async with node.bus.subscribe(CHAT_CHANNEL) as pokes:
        timers.start()
        try:
            clock.skipped = timedelta(minutes=MINUTES - 1)
            await rounds.wait(2)  # whole rounds ran with the clock a minute short of the end
            assert CHAT_ENDED not in await kinds_of(node, chat_id), "the chat ended before its duration ran out"
            await node.chat.send_message(token, "text/plain", "still here", None)

            clock.skipped = timedelta(minutes=MINUTES, seconds=1)
            # Each poke says a chat has new items: wait, poke by poke, until the loop's chat.ended is there.
            while CHAT_ENDED not in await kinds_of(node, chat_id):
                orjson.loads(await asyncio.wait_for(anext(pokes), WAIT))
            await rounds.wait(2)  # and later rounds leave the ended chat alone
        finally:
            await timers.stop()
    kinds = await kinds_of(node, chat_id)
    assert kinds.count(CHAT_ENDED) == 1 and kinds[-1] == CHAT_ENDED, kinds
    assert kinds[-2] == LEFT and "text/plain" in kinds, kinds
    async with node.storage.transaction() as uow:
        contact = await uow.contacts.find(instance_id, chat_id)
        participants = await uow.participants.of_chat(chat_id)
    assert contact is not None and not contact.is_active and contact.disconnect_reason == "EXPIRED"
    assert not any(p.active for p in participants)


async def test_the_loop_drops_expired_credentials_and_keeps_live_ones(node: Node, clock: FakeClock) -> None:
    instance_id, flow_id = await new_instance(node)
    _chat_id, token = await start_chat(node, instance_id, flow_id, "Token Holder")
    now = utcnow()
    credentials = {
        # connection kind -> (expires, should survive a clock moved 61 minutes on)
        "upload": (now + timedelta(minutes=5), False),
        "download": (now + timedelta(hours=3), True),
    }
    sessions = {"cookie": (now + timedelta(minutes=30), False), "access": (now + timedelta(hours=8), True)}
    async with node.storage.transaction() as uow:
        for kind, (expires, _) in credentials.items():
            await uow.connections.add(hash_token(f"{kind}-ticket"), Connection(kind, "attachment-1", expires))
        for kind, (expires, _) in sessions.items():
            await uow.sessions.add(hash_token(f"{kind}-session"),
                                    AgentSession(kind, instance_id, "user-1", now, expires))

    async def present() -> dict[str, bool]:
        async with node.storage.transaction() as uow:
            found = {kind: await uow.connections.find(hash_token(f"{kind}-ticket")) is not None
                     for kind in credentials}
            found |= {kind: await uow.sessions.find(hash_token(f"{kind}-session")) is not None for kind in sessions}
            found["conn"] = await uow.connections.find(hash_token(token)) is not None
            return found

    rounds = Rounds(node)
    timers = Timers(node.storage, node.chat)
    timers.start()
    try:
        await rounds.wait(2)
        assert all((await present()).values()), "a live credential was dropped"
        clock.skipped = timedelta(minutes=MINUTES + 1)
        await rounds.wait(2)
    finally:
        await timers.stop()
    expected = {kind: keep for kind, (_, keep) in (credentials | sessions).items()}
    # The customer's connection token lives as long as its chat: gone once the chat's duration ran out.
    expected["conn"] = False
    assert await present() == expected


async def test_a_failed_round_does_not_stop_the_loop(node: Node, clock: FakeClock,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    instance_id, flow_id = await new_instance(node)
    chat_id, _token = await start_chat(node, instance_id, flow_id, "Outlives A Hiccup")
    rounds = Rounds(node)
    rounds.failures_left = 2
    clock.skipped = timedelta(minutes=MINUTES + 1)
    timers = Timers(node.storage, node.chat)
    timers.start()
    try:
        await rounds.wait(4)
    finally:
        await timers.stop()
    assert rounds.failures_left == 0
    assert "timer round failed" in caplog.text
    assert (await kinds_of(node, chat_id))[-1] == CHAT_ENDED


async def test_stop_ends_the_loop(node: Node, clock: FakeClock) -> None:
    instance_id, flow_id = await new_instance(node)
    chat_id, _token = await start_chat(node, instance_id, flow_id, "After Stop")
    rounds = Rounds(node)
    timers = Timers(node.storage, node.chat)
    timers.start()
    await rounds.wait(1)
    await asyncio.wait_for(timers.stop(), WAIT)
    finished = rounds.done
    clock.skipped = timedelta(minutes=MINUTES + 1)
    await asyncio.sleep(ROUND_PAUSE * 20)  # many round pauses: a loop still running would have ended the chat
    assert rounds.done == finished
    assert CHAT_ENDED not in await kinds_of(node, chat_id)

"""A party that leaves without an item saying so (a silent monitor) has its sockets of the chat closed on every
node by a ``drop`` poke; every other socket, and every other chat, is left alone; nodes that do not know the
key read a poke of seq 0, which changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from parley.fanout.hub import Feed, Hub
from parley.service.notify import Notifier
from parley.service.pokes import CHAT_CHANNEL, decode_pokes


class FakeSink:
    def __init__(self, participant_id: str, chat_id: str) -> None:
        self.participant_id = participant_id
        self.chat_id = chat_id
        self.pushed: list[str] = []
        self.finished = False

    def push(self, frame: str) -> None:
        self.pushed.append(frame)

    def finish(self) -> None:
        self.finished = True

    async def drained(self, timeout: float) -> None:
        return None


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.callbacks: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self.callbacks.append(callback)


class FakeBus:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    async def publish(self, channel: str, payload: bytes) -> None:
        self.published.append((channel, payload))


async def test_a_drop_poke_closes_only_that_participants_sockets() -> None:
    bus, uow = FakeBus(), FakeUnitOfWork()
    notifier = Notifier(cast(Any, bus), lambda item: "")
    notifier.drop_after_commit(cast(Any, uow), "chat-1", "monitor")
    assert bus.published == [], "nothing is published before the transaction commits"
    for callback in uow.callbacks:
        await callback()
    [(channel, payload)] = bus.published
    assert channel == CHAT_CHANNEL
    [poke] = decode_pokes(payload)
    assert (poke.chat_id, poke.seq, poke.drop, poke.items, poke.ephemeral) == ("chat-1", 0, "monitor", (), None)
    assert poke.sent is not None

    hub = Hub(cast(Any, None), cast(Any, bus), lambda item: "")
    monitor, agent, elsewhere = FakeSink("monitor", "chat-1"), FakeSink("agent", "chat-1"), FakeSink("monitor", "c2")
    hub.feeds["chat-1"] = Feed(last_seq=5, subscribers={monitor, agent})  # type: ignore[arg-type]
    hub.feeds["c2"] = Feed(last_seq=5, subscribers={elsewhere})  # type: ignore[arg-type]
    hub._on_poke(poke)
    assert monitor.finished and not agent.finished and not elsewhere.finished
    assert monitor.pushed == agent.pushed == [], "a drop carries no item"
    assert hub.feeds["chat-1"].last_seq == 5


def test_a_poke_without_drop_has_none() -> None:
    [poke] = decode_pokes(b'[{"chat": "c", "seq": 3}]')
    assert poke.drop is None

"""The per-node hub: keeps this node's chat sockets and pushes committed items to them from storage.

A poke on the bus says "chat C has items up to seq S". The hub reads what it has not pushed yet from
storage, in order, and queues each item's message text to every socket of the chat (the web edge turns the text
into frame bytes). A missed poke costs nothing but time: each chat with sockets is also caught up periodically,
and every new socket triggers a catch-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from parley.domain.transcript import CHAT_ENDED, LEFT, Item
from parley.service.pokes import CHAT_CHANNEL, Delivery, Poke, decode_pokes, delivery
from parley.service.ports import Bus, Sink, Storage, StorageUnavailable
from parley.service.telemetry import Telemetry

log = logging.getLogger(__name__)

# How often chats with sockets are caught up even without pokes (covers pokes lost between nodes).
SWEEP_SECONDS = 2.0
# How long a socket stays open after its participant left, so the chat.ended of a closing chat still reaches it.
LEFT_GRACE_SECONDS = 2.0
# Items read from storage per round trip while catching up.
BATCH = 200
# Chats whose seq one sweep query reads.
SWEEP_CHUNK = 500


@dataclass
class Feed:
    """What this node has pushed of one chat."""

    last_seq: int
    subscribers: set[Sink] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A catch-up task is running; ``dirty`` asks it for one more round (pokes arriving meanwhile coalesce).
    draining: bool = False
    dirty: bool = False


class Hub:
    def __init__(self, storage: Storage, bus: Bus, render: Callable[[Item], str],
                 telemetry: Telemetry | None = None) -> None:
        self.storage = storage
        self.bus = bus
        self.render = render
        # The bus's publish-to-delivery lag (parley.web.metrics); a private one nobody reads by default.
        self.telemetry = telemetry or Telemetry()
        self.feeds: dict[str, Feed] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._draining: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        ready = asyncio.Event()
        self._tasks = [
            asyncio.get_running_loop().create_task(self._listen(ready)),
            asyncio.get_running_loop().create_task(self._sweep()),
        ]
        await ready.wait()

    async def stop(self) -> None:
        for task in [*self._tasks, *self._draining]:
            task.cancel()
        for task in [*self._tasks, *self._draining]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for feed in list(self.feeds.values()):
            for sub in list(feed.subscribers):
                sub.finish()
        self.feeds.clear()

    def count(self, participant_id: str, chat_id: str) -> int:
        feed = self.feeds.get(chat_id)
        return sum(1 for s in feed.subscribers if s.participant_id == participant_id) if feed else 0

    async def add(self, subscriber: Sink) -> None:
        """Start pushing to ``subscriber`` the items committed from now on."""
        feed = self.feeds.get(subscriber.chat_id)
        if feed is None:
            async with self.storage.transaction() as uow:
                chat = await uow.chats.find(subscriber.chat_id)
            feed = self.feeds.setdefault(subscriber.chat_id, Feed(chat.last_seq if chat else 0))
        feed.subscribers.add(subscriber)
        await self.catch_up(subscriber.chat_id)

    def remove(self, subscriber: Sink) -> None:
        feed = self.feeds.get(subscriber.chat_id)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers:
            self.feeds.pop(subscriber.chat_id, None)

    async def flush(self, chat_id: str, timeout: float = 1.0) -> int:
        feed = self.feeds.get(chat_id)
        if feed is None:
            return 0
        await self.catch_up(chat_id)
        subscribers = list(feed.subscribers)
        await asyncio.gather(*(sub.drained(timeout) for sub in subscribers))
        return len(subscribers)

    async def catch_up(self, chat_id: str) -> None:
        feed = self.feeds.get(chat_id)
        if feed is None:
            return
        async with feed.lock:
            while True:
                async with self.storage.transaction() as uow:
                    items = await uow.chats.items_after(chat_id, feed.last_seq, BATCH)
                for item in items:
                    self._deliver(feed, delivery(item, self.render))
                    feed.last_seq = item.seq
                if len(items) < BATCH:
                    return

    def _deliver(self, feed: Feed, item: Delivery) -> None:
        text = item.text  # one object for every socket: the web edge encodes it once for all of them
        for sub in list(feed.subscribers):
            if item.ephemeral and sub.participant_id == item.participant_id:
                continue
            sub.push(text)
            if item.content_type == CHAT_ENDED:
                sub.finish()
            elif item.content_type == LEFT and item.participant_id == sub.participant_id:
                # A party that left stops receiving; when the whole chat is ending, chat.ended (committed with
                # this item) arrives first and closes the socket itself.
                asyncio.get_running_loop().call_later(LEFT_GRACE_SECONDS, sub.finish)

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.bus.subscribe(CHAT_CHANNEL) as messages:
            ready.set()
            async for payload in messages:
                try:
                    pokes = decode_pokes(payload)
                except Exception:
                    log.warning("ignoring a malformed bus payload")
                    continue
                for poke in pokes:
                    self._on_poke(poke)
                # One measure per payload (a group commit's pokes share one), taken once its pokes are handled.
                sent = pokes[0].sent if pokes else None
                if sent is not None:
                    self.telemetry.bus_lag_seconds.observe(max(0.0, time.time() - sent))

    def _on_poke(self, poke: Poke) -> None:
        feed = self.feeds.get(poke.chat_id)
        if feed is None:
            return
        if poke.drop is not None:  # a party gone without an item saying so (a silent monitor that left)
            for sub in [s for s in feed.subscribers if s.participant_id == poke.drop]:
                sub.finish()
            return
        if poke.ephemeral is not None:
            self._deliver(feed, poke.ephemeral)
        elif poke.seq <= feed.last_seq:
            return
        elif poke.items and poke.items[0].seq == feed.last_seq + 1 and not feed.draining and not feed.lock.locked():
            # Up to date and the poke carries the new items: push them without a storage round trip.
            for item in poke.items:
                self._deliver(feed, item)
                feed.last_seq = item.seq
        else:
            self._schedule(poke.chat_id, feed)

    def _schedule(self, chat_id: str, feed: Feed) -> None:
        """Catch a chat up in its own task, so one slow chat never holds back the pokes of the others."""
        if feed.draining:
            feed.dirty = True
            return
        feed.draining = True
        task = asyncio.get_running_loop().create_task(self._drain(chat_id, feed))
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    async def _drain(self, chat_id: str, feed: Feed) -> None:
        try:
            while True:
                feed.dirty = False
                await self.catch_up(chat_id)
                if not feed.dirty:
                    return
        except StorageUnavailable as exc:  # the next sweep tries again once the database is back
            log.warning("catch-up of chat %s failed: %s", chat_id, exc)
        except Exception:
            log.exception("catch-up of chat %s failed", chat_id)
        finally:
            feed.draining = False

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except StorageUnavailable as exc:
                log.warning("the periodic catch-up failed: %s", exc)
            except Exception:
                log.exception("the periodic catch-up failed")

    async def sweep(self) -> None:
        """Catch up every chat whose stored seq is ahead of what this node pushed (one query per chunk)."""
        chat_ids = list(self.feeds)
        for start in range(0, len(chat_ids), SWEEP_CHUNK):
            async with self.storage.transaction() as uow:
                chats = await uow.chats.find_many(chat_ids[start:start + SWEEP_CHUNK])
            for chat_id, chat in chats.items():
                feed = self.feeds.get(chat_id)
                if feed is not None and chat.last_seq > feed.last_seq:
                    self._schedule(chat_id, feed)

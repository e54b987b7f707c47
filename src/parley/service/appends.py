"""Group commit for SendMessage and SendEvent: requests that arrive while a commit is in flight share the next.

Every send still commits before it is answered and still gets the chat's next sequence number, but a burst
of sends into many chats costs a handful of statements and one commit instead of a full transaction each:
one query resolves every connection token of the batch, one locks the chats' rows (in id order, on
PostgreSQL), one looks up every ClientToken, and one multi-row insert stores the items. Each request is
checked on its own; a request that is refused fails alone and writes nothing. If the batch's transaction
fails as a whole, each request is retried alone, so one bad request never takes others down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied, DomainError, Overloaded
from parley.domain.transcript import Item
from parley.service.credentials import DENIED, Caller, sender
from parley.service.notify import Notifier
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork
from parley.service.telemetry import Telemetry

log = logging.getLogger(__name__)

# The most requests one commit takes; more wait for the next.
MAX_BATCH = 256
# Event-loop turns a batch waits before it takes the queued requests: requests whose bytes the same poll of
# the sockets brought in join it, instead of each paying a transaction of its own.
GATHER_TURNS = 2
# While requests arrive at least this often, a batch of fewer than GATHER_ENOUGH also waits this long for more.
# A commit's cost is mostly per transaction and per page it writes (a chat's index page, the table's last page),
# not per request: at 1,600 SendMessage/s into 10 chats, commits of 2 requests took 76 % of a core where commits
# of 9 took 63 %. A batch that is already large does not wait: its requests' clients wait for their answers
# before they send again, so waiting then only adds to every round trip.
GATHER_SECONDS = 0.001
GATHER_ENOUGH = 16
# Weight of the newest gap between two requests in the running mean of those gaps.
GAP_WEIGHT = 0.05

@dataclass
class Append:
    """One request to append an item.

    ``make`` builds the item with the sequence number it is given (or raises a :class:`DomainError`); it may read
    through the transaction but must not write. ClientToken replays are keyed on
    ``<scope>/<participant id><suffix>``.
    """

    token_hash: str
    scope: str
    client_token: str | None
    make: Callable[[UnitOfWork, Caller, int], Awaitable[Item]]
    suffix: str = ""
    future: asyncio.Future[Item] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    queued_at: float = 0.0  # the Appender's clock when it was queued

    def key(self, participant_id: str) -> tuple[str, str] | None:
        return None if not self.client_token else (f"{self.scope}/{participant_id}{self.suffix}", self.client_token)


class Appender:
    """Queues :class:`Append` requests and commits them in batches, ``parallel`` batches at a time.

    ``wait_limit`` (set by the composition root: load shedding's :meth:`parley.web.admission.Admission.wait_limit`)
    says, each time a batch takes the queue, the longest a request may have waited in it, or None for no limit. A
    request that waited longer is refused with :class:`~parley.domain.errors.Overloaded` (ThrottlingException) and
    not committed: controlled delay at the queue's head, as CoDel drops and "Fail at Scale" (Maurer, ACM Queue 2015)
    bounds the time a request spends queued once the queue has stood. What a sudden overload brought in before
    shedding began is otherwise committed and pushed behind a backlog of its own: at 6,000 SendMessage/s into 100
    six-party chats (three times what was served) the group commit's wait reached 136 ms and stayed over 70 ms for
    the first 200 ms of refusing.
    """

    def __init__(self, storage: Storage, notifier: Notifier, *, parallel: int = 1,
                 clock: Callable[[], float] = time.monotonic, telemetry: Telemetry | None = None) -> None:
        self.storage = storage
        self.notifier = notifier
        self.parallel = parallel
        self.clock = clock
        # Batch sizes and commit times (parley.web.metrics); a private one nobody reads by default.
        self.telemetry = telemetry or Telemetry()
        self._pending: list[Append] = []
        self._running: set[asyncio.Task[None]] = set()
        # The batches being committed, each with how long its oldest request had waited when the batch took it.
        self._taken: dict[asyncio.Task[None], float] = {}
        self._gathering = False
        self._last_arrival = 0.0
        self._mean_gap = 1.0  # seconds between requests, a running mean
        self.wait_limit: Callable[[], float | None] = lambda: None
        self.expired = 0  # requests refused for their wait since start

    async def append(self, request: Append) -> Item:
        """Commit ``request``'s item (or find the one its ClientToken already made) and return it."""
        now = self.clock()
        self._mean_gap += GAP_WEIGHT * (min(now - self._last_arrival, 1.0) - self._mean_gap)
        self._last_arrival = now
        request.queued_at = now
        self._pending.append(request)
        self._start()
        # A caller that goes away (a client that hung up) cancels only the future: the request stays queued and
        # commits with its batch, which leaves a cancelled future alone.
        return await request.future

    def oldest_wait(self) -> float:
        """How far the group commit is behind, in seconds (read by load shedding, ``parley.web.admission``): the
        longer of what the oldest request not yet taken by a batch has waited and what the oldest request of a
        batch still being committed had waited when its batch took it (0 when nothing waits or commits).

        The second one is the wait at the moment a request leaves the queue, CoDel's sojourn time. Without it
        the reading fell to 0 each time a batch took the queue and rose again until the next: under a sudden
        overload the first readings over the target were broken by such dips, each starting the controller's
        interval over, and the backlog grew for 240 ms before the first refusal (a probe at 3,400 msg/s into 100
        six-party chats) where the queue had been over the target for all but one look of it."""
        now = self.clock()
        pending = now - self._pending[0].queued_at if self._pending else 0.0
        return max(pending, *self._taken.values()) if self._taken else pending

    async def close(self) -> None:
        """Wait for the batches in flight (requests queued meanwhile are committed too)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _start(self) -> None:
        if self._pending and not self._gathering and len(self._running) < self.parallel:
            self._gathering = True
            task = asyncio.get_running_loop().create_task(self._next())
            self._running.add(task)
            task.add_done_callback(self._done)

    async def _next(self) -> None:
        """Gather for a few loop turns (and GATHER_SECONDS under load), take up to MAX_BATCH queued requests
        and commit them."""
        try:
            for _ in range(GATHER_TURNS):
                await asyncio.sleep(0)
            if self._mean_gap < GATHER_SECONDS and len(self._pending) < GATHER_ENOUGH:
                await asyncio.sleep(GATHER_SECONDS)
        finally:
            self._gathering = False
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        task = asyncio.current_task()
        now = self.clock()
        if batch and task is not None:
            self._taken[task] = now - batch[0].queued_at
        limit = self.wait_limit()
        if limit is not None:
            batch = self._expire(batch, now, limit)
        self._start()  # the rest of the queue, if a batch may start beside this one
        if batch:
            await self._run(batch)

    def _expire(self, batch: list[Append], now: float, limit: float) -> list[Append]:
        """Refuse the requests of ``batch`` that waited longer than ``limit``; returns the others."""
        kept = []
        for request in batch:
            if now - request.queued_at <= limit:
                kept.append(request)
                continue
            self.expired += 1
            if not request.future.done():
                request.future.set_exception(Overloaded())
        return kept

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._taken.pop(task, None)
        self._start()

    async def _run(self, batch: list[Append]) -> None:
        try:
            await self._commit(batch)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            log.warning("a batch of %d appends failed (%r); retrying each alone", len(batch), exc)
            for request in batch:
                with contextlib.suppress(Exception):
                    await self._run([request])

    async def _commit(self, batch: list[Append]) -> None:
        outcomes: dict[int, Item | DomainError] = {}
        started = time.perf_counter()
        async with self.storage.transaction() as uow:
            writers = await _writers(uow, batch, outcomes)
            keys = {i: key for i, r in enumerate(batch) if i in writers
                    and (key := r.key(writers[i].participant.id)) is not None}
            earlier = await uow.appends.find_answers(list(set(keys.values())))
            made: dict[tuple[str, str], Item] = {}
            last_seqs: dict[str, int] = {}
            fresh: list[Item] = []
            for i, request in enumerate(batch):
                writer = writers.get(i)
                if writer is None:
                    continue
                key = keys.get(i)
                if key is not None and key in made:
                    outcomes[i] = made[key]
                    continue
                if key is not None and key in earlier:
                    found = await uow.chats.find_item(writer.chat.id, earlier[key]["Id"])
                    if found is not None:
                        outcomes[i] = found
                        continue
                seq = last_seqs.get(writer.chat.id, writer.chat.last_seq) + 1
                try:
                    item = await request.make(uow, writer, seq)
                except DomainError as exc:
                    outcomes[i] = exc
                    continue
                if item.seq != seq:
                    item = replace(item, seq=seq)
                last_seqs[writer.chat.id] = seq
                fresh.append(item)
                outcomes[i] = item
                if key is not None:
                    made[key] = item
            await uow.appends.store(fresh)
            await uow.appends.save_answers([(scope, token, {"Id": item.id}) for (scope, token), item in made.items()
                                           if (scope, token) not in earlier])
            by_chat: dict[str, list[Item]] = {}
            for item in fresh:
                by_chat.setdefault(item.chat_id, []).append(item)
            self.notifier.pokes_after_commit(uow, by_chat)
        self.telemetry.commit_seconds.observe(time.perf_counter() - started)
        self.telemetry.commit_batch_size.observe(len(batch))
        for i, request in enumerate(batch):
            outcome = outcomes.get(i)
            if request.future.done():
                continue
            if isinstance(outcome, Item):
                request.future.set_result(outcome)
            else:
                request.future.set_exception(outcome or AccessDenied(DENIED))


async def _writers(uow: UnitOfWork, batch: list[Append], outcomes: dict[int, Item | DomainError]) -> dict[int, Caller]:
    """Each request's participant and chat (chat rows locked), or its refusal in ``outcomes``."""
    now = utcnow()
    holders = await uow.appends.lock_writers([r.token_hash for r in batch])
    writers: dict[int, Caller] = {}
    for i, request in enumerate(batch):
        checked = sender(holders.get(request.token_hash), now)
        if isinstance(checked, Caller):
            writers[i] = checked
        else:
            outcomes[i] = checked
    return writers

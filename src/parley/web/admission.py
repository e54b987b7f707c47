"""Load shedding: refuse new work with 429 ThrottlingException while the server is saturated.

Above its capacity a server that accepts everything queues everything, and every answer and every push waits
behind the queue: latency grows without bound. Amazon Connect answers ``ThrottlingException`` (HTTP 429)
instead, and its clients back off (boto3 and the AWS CLI retry throttled calls by themselves). Parley does the
same once it is saturated, so the requests it does accept keep their latency.

The signal is how long work waits in this process (:class:`QueueDelay`): the event loop's lag (how late a
timer that should fire every few milliseconds runs: every request, commit and push of this process waits that
long for the loop) and the age of the oldest SendMessage/SendEvent waiting for the group commit (what waits
for the database, where the loop itself may be idle, as on PostgreSQL). :class:`Admission` follows CoDel's idea
(Nichols and Jacobson, "Controlling Queue Delay"): a burst that drains within ``interval`` is a good queue and
is let through; a delay above ``target`` that lasts a whole ``interval``, during which at least ``min_requests``
requests arrived, is a standing queue of requests, and from then on requests are refused whenever the delay is
above the target, until ``hold`` has passed without a refusal.

A refused request is answered before its body is read and before anything is looked up: nothing changes, and
a refusal costs a fraction of what an accepted one would (0.08-0.12 ms of server CPU against 0.25 ms for a
SendMessage to a chat without sockets, measured on the 2-core development machine; most of it is uvicorn's
parsing and its task per request). Requests that end work or
finish work already paid for are never refused (:data:`NEVER_SHED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.aws.errors import AwsError
from parley.aws.participant.api import CORS_HEADERS
from parley.aws.restjson import Answer, Limiter
from parley.domain.ids import new_request_id

log = logging.getLogger(__name__)

# The delay above which a standing queue is refused. The goal for an accepted message is p99 send-to-delivery
# within 100 ms: the delay the controller keeps near this target comes on top of the message's own commit and
# pushes. The fan-out benchmark's servers run with shedding on and count a 429 as an error, so a rate it reports
# as held is one at which shedding did not fire.
TARGET_SECONDS = 0.025
# How long the delay must stay above the target, at every look (each request and each loop-lag tick), before the
# first refusal: a burst drains within this and is not overload. One long pause of the loop (a garbage
# collection, a slow commit) never counts, however long: the tick right after it looks again and finds the loop on
# time. CoDel's interval is 100 ms, sized to network round trips; here a request takes milliseconds, and what
# overload brings in before the first refusal is queued for all it accepted then (at 2x, 50 ms of it is 50 ms of
# work more for each), so half of that.
INTERVAL_SECONDS = 0.05
# Once refusing, how long after the last refusal a delay above the target is refused at once, without waiting a
# whole interval again. Under sustained overload the delay crosses the target many times a second; without this
# each crossing would let a whole interval's excess in.
HOLD_SECONDS = 1.0
# Requests that must arrive while the delay stays above the target before the first refusal. A delay that few
# requests meet is not theirs to cure (another process or a thread taking the CPU, a slow disk): refusing them
# would spare nearly nothing and fail clients that are not the cause. Overload brings hundreds within an interval
# (4,000 SendMessage/s is 400 in 100 ms); a test suite or a few browsers bring a handful.
MIN_REQUESTS = 64
# How often the event loop's lag is sampled: the lag a request sees is at most this stale.
TICK_SECONDS = 0.005
# The answer's words: Connect's throttling message starts the same way.
SHED = "Rate exceeded: the server is at capacity; retry with backoff."
# Participant Service paths never refused: leaving a chat ends work (and a customer who cannot leave stays in a
# chat an agent is serving); CreateParticipantConnection joins a chat already admitted (an agent who accepted it,
# the customer whose StartChatContact was taken, a ChatJS reconnect), at most a few per participant, and refusing
# it would break that chat instead of keeping new work out (setting up 100 six-party chats on a busy machine had
# agents give up on it after eight tries); completing an upload finishes work whose bytes were already received;
# a CORS preflight refused would reach the page as a CORS failure instead of a 429 it can read. Everything else is
# refused while shedding, GetTranscript too: a page of 100 items costs about ten SendMessages' work, it is a read a
# client may simply retry, and a connected client misses nothing meanwhile (its websocket keeps being pushed the
# new items). Opening the participant websocket is not refused here.
NEVER_SHED = frozenset({"/participant/disconnect", "/participant/connection",
                        "/participant/complete-attachment-upload"})
# Connect API operations never refused: StopContact ends a chat and the work of all its sockets.
CONNECT_NEVER_SHED = frozenset({"StopContact"})


@dataclass(frozen=True)
class Settings:
    """The controller's values: seconds, and ``min_requests`` requests."""

    target: float = TARGET_SECONDS
    interval: float = INTERVAL_SECONDS
    hold: float = HOLD_SECONDS
    min_requests: int = MIN_REQUESTS


class Admission:
    """Decides, request by request, whether the server takes new work (see the module's docstring)."""

    def __init__(self, delay: Callable[[], float], settings: Settings = Settings(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self.settings = settings
        self.clock = clock
        self.refused = 0  # requests refused since start
        self._above_since: float | None = None  # when the delay went above the target (None: it is not)
        self._arrivals = 0  # requests that arrived since then
        self._shedding_until = float("-inf")  # until when a delay above the target refuses at once
        self._episode = 0  # refusals since shedding last started

    @property
    def shedding(self) -> bool:
        return self.clock() < self._shedding_until

    def observe(self) -> bool:
        """Read the delay and note whether it is above the target, and since when: called for every request and
        by :class:`LoopLag` at every tick, so a moment under the target between requests is not missed (only a
        delay above the target at every look for a whole interval is a standing queue). True: above."""
        now = self.clock()
        if self._episode and now >= self._shedding_until:
            log.info("admission: taking every request again after %d refusals", self._episode)
            self._episode = 0
        if self.delay() <= self.settings.target:
            self._above_since = None
            return False
        if self._above_since is None:
            self._above_since = now
            self._arrivals = 0
        return True

    def admit(self) -> bool:
        """True: take the request. False: refuse it (and count it)."""
        if not self.observe():
            return True
        now = self.clock()
        settings = self.settings
        assert self._above_since is not None
        self._arrivals += 1
        if now < self._shedding_until or (now - self._above_since >= settings.interval
                                          and self._arrivals >= settings.min_requests):
            if not self._episode:
                log.warning("admission: queue delay over %.0f ms for %.0f ms (%s; %d requests meanwhile); "
                            "answering 429 while it stays over", settings.target * 1e3,
                            (now - self._above_since) * 1e3, self.delay, self._arrivals)
            self._shedding_until = now + settings.hold
            self._episode += 1
            self.refused += 1
            return False
        return True


class LoopLag:
    """How late the event loop runs a timer due every ``tick`` seconds: the last lateness measured, or, when the
    timer is overdue right now, how overdue it is (so a request handled late in a long loop turn sees it)."""

    def __init__(self, tick: float = TICK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.tick = tick
        self.clock = clock
        self.last = 0.0
        self._due = float("inf")
        self._task: asyncio.Task[None] | None = None

    def __call__(self) -> float:
        return max(self.last, self.clock() - self._due)

    def sample(self) -> None:
        """The timer ran: record its lateness and set when it is due next."""
        now = self.clock()
        if self._due != float("inf"):
            self.last = max(0.0, now - self._due)
        self._due = now + self.tick

    def start(self, listener: Callable[[], object] | None = None) -> None:
        """Sample every tick; ``listener`` is called after each sample (:meth:`Admission.observe`)."""
        self._task = asyncio.get_running_loop().create_task(self._run(listener))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, listener: Callable[[], object] | None) -> None:
        while True:
            self.sample()
            if listener is not None:
                listener()
            await asyncio.sleep(self.tick)


class QueueDelay:
    """The longer of the event loop's lag and the oldest queued append's wait (``oldest_wait()``, seconds)."""

    def __init__(self, lag: Callable[[], float], oldest_wait: Callable[[], float]) -> None:
        self.lag = lag
        self.oldest_wait = oldest_wait

    def __call__(self) -> float:
        return max(self.lag(), self.oldest_wait())

    def __str__(self) -> str:
        return f"event-loop lag {self.lag() * 1e3:.0f} ms, oldest queued append {self.oldest_wait() * 1e3:.0f} ms"


def sheds(method: str, path: str) -> bool:
    """Whether a Participant Service request may be refused (its path and method; see :data:`NEVER_SHED`)."""
    return method != "OPTIONS" and path not in NEVER_SHED


def throttled() -> Answer:
    """The Participant Service's own ThrottlingException answer (as :class:`RestJsonApi` words its errors)."""
    headers = {"x-amzn-RequestId": new_request_id(), **CORS_HEADERS, "x-amzn-ErrorType": "ThrottlingException"}
    return Answer(429, headers, b'{"Message":"' + SHED.encode() + b'"}')


def connect_admission(admission: Admission, then: Limiter | None) -> Limiter:
    """A Connect API limiter: refuse while saturated (before the per-instance rate limits, so a refused call
    spends no rate), then ``then``. Only Participant Service requests count as in progress: a flood of Connect
    API calls alone is met by the per-instance rate limits (:mod:`parley.aws.ratelimit`)."""

    async def check(call: Any) -> None:
        if call.op.name not in CONNECT_NEVER_SHED and not admission.admit():
            raise AwsError("ThrottlingException", SHED, 429)
        if then is not None:
            await then(call)

    return check

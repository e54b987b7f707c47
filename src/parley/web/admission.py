"""Load shedding: refuse new work with 429 ThrottlingException while the server is saturated.

Above its capacity a server that accepts everything queues everything, and every answer and every push waits
behind the queue: latency grows without bound. Amazon Connect answers ``ThrottlingException`` (HTTP 429)
instead, and its clients back off (boto3 and the AWS CLI retry throttled calls by themselves). Parley does the
same once it is saturated, so the requests it does accept keep their latency.

The signal is how long work waits in this process (:class:`QueueDelay`): the event loop's lag (how late a
timer that should fire every few milliseconds runs: every request, commit and push of this process waits that
long for the loop) and how long SendMessage/SendEvent wait for the group commit (the oldest one queued, or
the oldest of a batch being committed when the batch took it: ``Appender.oldest_wait``; what waits for the
database, where the loop itself may be idle, as on PostgreSQL). :class:`Admission` follows CoDel's idea
(Nichols and Jacobson, "Controlling Queue Delay"): a burst that drains within ``interval`` is a good queue and
is let through; a delay above ``target`` that lasts a whole ``interval``, during which at least ``min_requests``
requests arrived, is a standing queue of requests, and from then on requests are refused whenever the delay is
above a lower delay, ``control_share`` of the target (see :data:`CONTROL_SHARE`), until ``hold`` has passed
without a refusal; meanwhile a share of those that find it under that delay is refused too, the share following
the delay and its trend as PIE does (see :data:`SHARE_GAIN`). While refusing, the group commit also refuses a
request that waited longer than the target for it (:meth:`Admission.wait_limit`, ``Appender.wait_limit``): what
came in before the first refusal is not committed behind a backlog of its own.

The event loop's lag counts only while the loop is saturated (:meth:`LoopLag.busy`). A timer runs late for two
reasons: the loop was busy with other work (its own queue: shedding shortens it), or the loop was ready but the
process was not given a CPU (other processes on the machine took it: starvation, which shedding cannot cure, and
refusing then fails clients that the server would have served as soon as it ran again). The loop's thread tells
them apart by where its time went over the last ``interval``: running, waiting on a run queue for a CPU, or
asleep in the loop's poll with nothing to do. A saturated loop never sleeps: it runs or waits for a CPU the whole
time, so the share of the time it could run (wall time less run-queue wait) that it ran is about 1; a starved
loop with spare capacity sleeps between its bursts, and the share falls well below 1, however late its timers
are. Linux reports the run-queue wait per thread (``/proc/thread-self/schedstat``); where it does not, the share
is the thread's CPU time over wall time, which cannot tell a loop that waits for a CPU from an idle one (then
only a loop that gets a whole CPU counts as saturated). The age of the oldest queued append counts whatever the
loop does: a database that cannot keep up is saturation even while the loop sleeps.

A refused request is answered as soon as its head is parsed (:class:`EarlyRefusal`, called by
:class:`parley.web.server.httpprotocol.ParleyHttpToolsProtocol` before uvicorn makes a task for the request): its body
is read only to be dropped, nothing is looked up or changed, and no application code runs: a refusal costs a
fraction of an accepted request (``python -m bench.refusal_cpu`` measures it; figures in docs/benchmarks.md).
The same decision is taken in
the application (:class:`parley.web.front.FrontDoor`, :func:`connect_admission`) for requests the
protocol did not decide (another ASGI server, Connect API paths that share a first segment with Parley's own
routes). Requests that end work or finish work already paid for are never refused (:data:`NEVER_SHED`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.model import ServiceModel

from parley.aws.errors import AwsError
from parley.aws.participant.api import CORS_HEADERS
from parley.aws.restjson import Answer, Limiter
from parley.domain.errors import AT_CAPACITY
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
# The share of the time the loop's thread could run (wall time less its wait for a CPU) that it must have run over
# the last interval for its lag to count as saturation. A saturated loop polls without sleeping and shows 0.97-1.0;
# one that sleeps a tenth of the time had room for more work, and its late timers were the scheduler's doing.
BUSY_SHARE = 0.9
# How often the lag is sampled while the loop ran less than IDLE_SHARE of the last window. Load that arrives
# meanwhile does not wait for it: the first request wakes the sampler (:meth:`LoopLag.arrival`), which then ticks
# every TICK_SECONDS; waiting for the idle tick put up to 100 ms of a sudden overload's first requests (and the
# backlog they left) out of the controller's sight.
IDLE_TICK_SECONDS = 0.1
IDLE_SHARE = 0.2
# Where Linux reports, for the thread that reads it, nanoseconds run and nanoseconds waited on a run queue.
SCHEDSTAT = "/proc/thread-self/schedstat"
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
PARTICIPANT_PREFIX = "/participant/"
# Under the Participant Service's prefix but served by the Starlette app: attachment downloads and uploads (their
# URLs were handed out for work already admitted), never refused.
ATTACHMENT_FILES = "/participant/attachments/"
# Where the protocol notes in a request's scope that it took the admission decision (the app does not ask again).
DECIDED = "parley.admission_decided"
# Connect API operations never refused: StopContact ends a chat and the work of all its sockets.
CONNECT_NEVER_SHED = frozenset({"StopContact"})


# While shedding, the share of requests refused even when the delay is under the held delay (Settings.control) at
# that moment, adjusted every SHARE_UPDATE_SECONDS as PIE does (Pan et al., RFC 8033): up by SHARE_GAIN per second
# of delay over the held delay and by SHARE_TREND per second the delay grew since the last update, down likewise.
# Refusing only while the delay was over it let through every request of the moments it dipped under: at twice the
# capacity the server took 3,630 SendMessage/s where 2,500 would have kept its queue short, and the queue grew to
# seconds.
SHARE_UPDATE_SECONDS = 0.016
SHARE_GAIN = 1.0
SHARE_TREND = 10.0
MAX_SHARE = 0.95


# Once shedding, the delay the controller holds the queue to, as a share of the target: a request is refused
# whenever the delay is over it, and the share refused under it follows the delay's distance from it. The target
# decides whether there is a standing queue at all (a server near its capacity without one is never refused); the
# lower delay kept once there is one is what accepted requests wait. A message waits it several times over on its
# way (read, group commit, pushes: each a turn of a loop that runs this late): held at the whole 25 ms target,
# accepted messages took p50 50 ms, p99 110-150 ms at twice the capacity; held at 10 ms, p50 25 ms.
CONTROL_SHARE = 0.4


@dataclass(frozen=True)
class Settings:
    """The controller's values: seconds, ``min_requests`` requests, and ``control_share`` of the target."""

    target: float = TARGET_SECONDS
    interval: float = INTERVAL_SECONDS
    hold: float = HOLD_SECONDS
    min_requests: int = MIN_REQUESTS
    control_share: float = CONTROL_SHARE

    @property
    def control(self) -> float:
        """The delay held while shedding (seconds)."""
        return self.target * self.control_share


class Admission:
    """Decides, request by request, whether the server takes new work (see the module's docstring)."""

    def __init__(self, delay: Callable[[], float], settings: Settings = Settings(),
                 clock: Callable[[], float] = time.monotonic,
                 arrival: Callable[[], object] | None = None) -> None:
        self.delay = delay
        self.arrival = arrival  # told of each request before it is decided (LoopLag.arrival)
        self.settings = settings
        self.clock = clock
        self.refused = 0  # requests refused since start
        self._above_since: float | None = None  # when the delay went above the target (None: it is not)
        self._arrivals = 0  # requests that arrived since then
        self._shedding_until = float("-inf")  # until when a delay above the held delay refuses at once
        self._episode = 0  # refusals since shedding last started
        self.share = 0.0  # while shedding: the share of requests refused under the held delay too (PIE's probability)
        self._owed = 0.0  # refusals owed by the share (one is made each time this reaches 1: no randomness)
        self._updated = float("-inf")
        self._last_delay = 0.0

    @property
    def shedding(self) -> bool:
        return self.clock() < self._shedding_until

    def observe(self) -> float:
        """Read the delay and note whether it is above the target, and since when: called for every request and
        by :class:`LoopLag` at every tick, so a moment under the target between requests is not missed (only a
        delay above the target at every look for a whole interval is a standing queue). Returns the delay read."""
        now = self.clock()
        if self._episode and now >= self._shedding_until:
            log.info("admission: taking every request again after %d refusals", self._episode)
            self._episode = 0
        delay = self.delay()
        self._update_share(now, delay)
        if delay <= self.settings.target:
            self._above_since = None
        elif self._above_since is None:
            self._above_since = now
            self._arrivals = 0
        return delay

    def _update_share(self, now: float, delay: float) -> None:
        if now - self._updated < SHARE_UPDATE_SECONDS:
            return
        if now < self._shedding_until:
            step = SHARE_GAIN * (delay - self.settings.control) + SHARE_TREND * (delay - self._last_delay)
            self.share = min(MAX_SHARE, max(0.0, self.share + step))
        else:
            self.share = 0.0
            self._owed = 0.0
        self._updated, self._last_delay = now, delay

    def admit(self) -> bool:
        """True: take the request. False: refuse it (and count it)."""
        if self.arrival is not None:
            self.arrival()
        delay = self.observe()
        now = self.clock()
        settings = self.settings
        if now < self._shedding_until:  # shedding: hold the delay at settings.control
            if delay > settings.control:
                return self._refuse(now)
            if self.share <= 0.0:
                return True
            self._owed += self.share  # under it just now: refuse the share's part of requests
            if self._owed < 1.0:
                return True
            self._owed -= 1.0
            return self._refuse(now)
        if delay <= settings.target:
            return True
        assert self._above_since is not None
        self._arrivals += 1
        if now - self._above_since >= settings.interval and self._arrivals >= settings.min_requests:
            log.warning("admission: queue delay over %.0f ms for %.0f ms (%s; %d requests meanwhile); answering 429 "
                        "while it stays over %.0f ms", settings.target * 1e3, (now - self._above_since) * 1e3,
                        self.delay, self._arrivals, settings.control * 1e3)
            return self._refuse(now)
        return True

    def wait_limit(self) -> float | None:
        """While shedding, the longest a SendMessage/SendEvent may have waited for the group commit when a batch
        takes it (the target; a longer wait is refused there, see ``Appender.wait_limit``); None otherwise."""
        return self.settings.target if self.shedding else None

    def _refuse(self, now: float) -> bool:
        """Count a refusal and keep shedding for a hold from now; False, admit()'s answer."""
        self._shedding_until = now + self.settings.hold
        self._episode += 1
        self.refused += 1
        return False


class ThreadCpu:
    """Seconds the calling thread has run and has waited on a run queue for a CPU, since it started.

    Read from :data:`SCHEDSTAT`, opened by the first call (so it is the thread that calls, the event loop's: the
    file is kept open and read again from its start each time). Where it cannot be read the wait is 0 and the run
    time is :func:`time.thread_time`."""

    def __init__(self, path: str = SCHEDSTAT) -> None:
        self.path = path
        self._fd: int | None = None
        self._unavailable = False

    def __call__(self) -> tuple[float, float]:
        if not self._unavailable:
            try:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY)
                run, waited = os.pread(self._fd, 128, 0).split()[:2]
                return int(run) / 1e9, int(waited) / 1e9
            except (OSError, ValueError):
                self._unavailable = True
                self.close()
        return time.thread_time(), 0.0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LoopLag:
    """How late the event loop runs a timer due every ``tick`` seconds: the last lateness measured, or, when the
    timer is overdue right now, how overdue it is (so a request handled late in a long loop turn sees it). And, at
    each tick, where the loop's thread spent its time (``cpu()``: seconds run and seconds waited for a CPU, as
    :class:`ThreadCpu` reads them), for :meth:`busy`. While the loop mostly sleeps the timer is due every
    :data:`IDLE_TICK_SECONDS` instead, until a request arrives (:meth:`arrival`)."""

    def __init__(self, tick: float = TICK_SECONDS, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], tuple[float, float]] | None = None, window: float = INTERVAL_SECONDS) -> None:
        self.tick = tick
        self.clock = clock
        self.cpu = cpu
        self.window = window
        self.last = 0.0
        self._due = float("inf")
        self._idle = False  # the timer is due after IDLE_TICK_SECONDS, not after a tick
        self._timer: asyncio.TimerHandle | None = None
        self._listener: Callable[[], object] | None = None
        # (clock, seconds run, seconds waited for a CPU) at each tick, the oldest one at least a window old.
        self._samples: deque[tuple[float, float, float]] = deque()

    def __call__(self) -> float:
        return max(self.last, self.clock() - self._due)

    def busy(self) -> float:
        """The share of the last ``window`` that the loop's thread ran, of the time it could have run (the wall
        time less what it waited for a CPU): about 1 when it never slept. 1.0 before two samples are taken, or
        without ``cpu``."""
        samples = self._samples
        if len(samples) < 2:
            return 1.0
        then, run_then, waited_then = samples[0]
        now, run_now, waited_now = samples[-1]
        could_run = (now - then) - (waited_now - waited_then)
        if could_run <= 0:
            return 1.0
        return min(1.0, (run_now - run_then) / could_run)

    def sample(self) -> float:
        """The timer ran: record its lateness and set when it is due next; returns the seconds until then."""
        now = self.clock()
        if self._due != float("inf"):
            self.last = max(0.0, now - self._due)
        if self.cpu is not None:
            run, waited = self.cpu()
            samples = self._samples
            samples.append((now, run, waited))
            while len(samples) > 2 and now - samples[1][0] >= self.window:
                samples.popleft()
        pause = self.next_tick()
        self._idle = pause > self.tick
        self._due = now + pause
        return pause

    def arrival(self) -> None:
        """A request arrived. While the timer waits out an idle pause, sample now and tick from here on: the
        samples taken while the loop slept are dropped (the window starts now), so the load just arriving is
        measured within a tick, not after the rest of the pause."""
        if not self._idle or self._timer is None:
            return
        self._timer.cancel()
        self._samples.clear()
        self._run()

    def start(self, listener: Callable[[], object] | None = None) -> None:
        """Sample every tick; ``listener`` is called after each sample (:meth:`Admission.observe`)."""
        self._listener = listener
        self._run()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if isinstance(self.cpu, ThreadCpu):
            self.cpu.close()

    def _run(self) -> None:
        pause = self.sample()
        if self._listener is not None:
            self._listener()
        self._timer = asyncio.get_running_loop().call_later(pause, self._run)

    def next_tick(self) -> float:
        """``tick`` while the loop works; :data:`IDLE_TICK_SECONDS` while it mostly sleeps (a sleeping loop has no
        queue to watch, and 200 wake-ups a second cost an idle server a few percent of a core)."""
        return self.tick if self.busy() >= IDLE_SHARE else max(self.tick, IDLE_TICK_SECONDS)


class QueueDelay:
    """The longer of the event loop's lag, counted only while the loop is saturated (``busy()`` at least
    :data:`BUSY_SHARE`), and the group commit's wait (``oldest_wait()``, seconds)."""

    def __init__(self, lag: Callable[[], float], oldest_wait: Callable[[], float],
                 busy: Callable[[], float] = lambda: 1.0) -> None:
        self.lag = lag
        self.oldest_wait = oldest_wait
        self.busy = busy

    def __call__(self) -> float:
        oldest = self.oldest_wait()
        if self.busy() < BUSY_SHARE:  # the loop slept: its timers ran late for want of a CPU, not of time
            return oldest
        return max(self.lag(), oldest)

    def __str__(self) -> str:
        return (f"event-loop lag {self.lag() * 1e3:.0f} ms with the loop busy {self.busy():.0%} of the time it "
                f"could run, group commit's wait {self.oldest_wait() * 1e3:.0f} ms")


def sheds(method: str, path: str) -> bool:
    """Whether a Participant Service request may be refused (its path and method; see :data:`NEVER_SHED`)."""
    return method != "OPTIONS" and path not in NEVER_SHED and not path.startswith(ATTACHMENT_FILES)


def throttled() -> Answer:
    """The Participant Service's own ThrottlingException answer (as :class:`RestJsonApi` words its errors)."""
    headers = {"x-amzn-RequestId": new_request_id(), **CORS_HEADERS, "x-amzn-ErrorType": "ThrottlingException"}
    return Answer(429, headers, b'{"Message":"' + AT_CAPACITY.encode() + b'"}')


def connect_admission(admission: Admission, then: Limiter | None) -> Limiter:
    """A Connect API limiter: refuse while saturated (before the per-instance rate limits, so a refused call
    spends no rate), then ``then``; for calls the protocol did not decide already (:class:`EarlyRefusal`)."""

    async def check(call: Any) -> None:
        if (call.op.name not in CONNECT_NEVER_SHED and DECIDED not in call.request.scope
                and not admission.admit()):
            raise AwsError("ThrottlingException", AT_CAPACITY, 429)
        if then is not None:
            await then(call)

    return check


# An answer written by the protocol: status, header lines (``name: value`` CR LF each, without content-length) and
# body; the protocol adds its own headers (server, date), content-length and, when it closes, connection: close.
Refusal = tuple[int, bytes, bytes]


@dataclass(frozen=True)
class ConnectPaths:
    """Which requests are the Connect API's, told from the path's first segment alone, and the ones never shed."""

    segments: frozenset[str]  # first path segments only Connect API operations use
    kept: frozenset[tuple[str, str]]  # (method, path) of the operations in CONNECT_NEVER_SHED

    @classmethod
    def of(cls, model: ServiceModel, own_paths: Iterable[str]) -> ConnectPaths:
        """From the Connect model's request URIs, less the first segments of Parley's own routes (``/connect/``,
        ``/auth/``...: a request there may be a page's, decided by the app instead)."""
        own = {first_segment(path) for path in own_paths}
        segments: set[str] = set()
        kept: set[tuple[str, str]] = set()
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http["requestUri"].split("?", 1)[0]
            segment = first_segment(uri)
            if name in CONNECT_NEVER_SHED:
                if "{" in uri:  # not a fixed path: its whole segment is left to the app's decision
                    own.add(segment)
                kept.add((http["method"], uri))
            segments.add(segment)
        return cls(frozenset(segments - own - {""}), frozenset(kept))


def first_segment(path: str) -> str:
    return path[1:].split("/", 1)[0] if path.startswith("/") else path.split("/", 1)[0]


class EarlyRefusal:
    """Admission for a request whose head was just parsed (the protocol calls it with the request's ASGI scope
    before it makes a task for the request): None to go on, or the whole 429 to write instead.

    Only requests the controller may refuse are counted and decided here (Participant Service operations but
    :data:`NEVER_SHED`, Connect API operations but :data:`CONNECT_NEVER_SHED`; never ``OPTIONS`` or ``HEAD``);
    their scope is marked :data:`DECIDED` so the app does not ask again. The answers are the services' own:
    ``x-amzn-RequestId`` (a new one: the request never reaches :class:`parley.web.tracking.Tracking`, which gives
    ids to the others), ``x-amzn-ErrorType: ThrottlingException``, ``{"Message": ...}``, and the Participant
    Service's CORS headers on its paths."""

    def __init__(self, admission: Admission, connect: ConnectPaths) -> None:
        self.admission = admission
        self.connect = connect
        body = orjson.dumps({"Message": AT_CAPACITY})
        self._body = body
        error = b"x-amzn-errortype: ThrottlingException\r\ncontent-type: application/json\r\n"
        cors = "".join(f"{name.lower()}: {value}\r\n" for name, value in CORS_HEADERS.items()).encode("latin-1")
        self._participant = cors + error
        self._connect = error

    def __call__(self, scope: Any) -> Refusal | None:
        method: str = scope["method"]
        path: str = scope["path"]
        if path.startswith(PARTICIPANT_PREFIX):
            if method == "HEAD" or not sheds(method, path):
                return None
            rest = self._participant
        else:
            if (method in ("OPTIONS", "HEAD") or first_segment(path) not in self.connect.segments
                    or (method, path) in self.connect.kept):
                return None
            rest = self._connect
        scope[DECIDED] = True
        if self.admission.admit():
            return None
        return 429, b"x-amzn-requestid: " + new_request_id().encode() + b"\r\n" + rest, self._body

"""The load-shedding controller with a fake clock, a fake queue and a fake CPU counter: when it refuses and when it
admits again, how it tells a saturated event loop from a starved one, and which requests the protocol decides."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from parley.aws.model import Service
from parley.service.appends import Append, Appender
from parley.web.admission import (
    DECIDED,
    IDLE_TICK_SECONDS,
    Admission,
    ConnectPaths,
    EarlyRefusal,
    LoopLag,
    QueueDelay,
    Settings,
    ThreadCpu,
    sheds,
    throttled,
)

TARGET = 0.025
INTERVAL = 0.1
HOLD = 1.0
MIN_REQUESTS = 4


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Queue:
    """A queue whose oldest entry was queued at ``oldest`` (None: empty), read with the fake clock."""

    clock: Clock
    oldest: float | None = None

    def __call__(self) -> float:
        return 0.0 if self.oldest is None else self.clock.now - self.oldest


def controller() -> tuple[Admission, Clock, Queue]:
    clock = Clock()
    queue = Queue(clock)
    return Admission(queue, Settings(TARGET, INTERVAL, HOLD, MIN_REQUESTS), clock), clock, queue


def arrive(admission: Admission, clock: Clock, seconds: float, count: int = MIN_REQUESTS) -> list[bool]:
    """``count`` requests spread over ``seconds``: what admit() answered each."""
    answers = []
    for _ in range(count):
        clock.now += seconds / count
        answers.append(admission.admit())
    return answers


def overloaded() -> tuple[Admission, Clock, Queue]:
    """A controller whose queue has stayed over the target for a whole interval of requests: it has begun to refuse."""
    admission, clock, queue = controller()
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    admission.observe()
    arrive(admission, clock, INTERVAL + 0.001)
    return admission, clock, queue


def test_admits_while_the_queue_is_short() -> None:
    admission, clock, queue = controller()
    for _ in range(100):
        clock.now += 0.001
        queue.oldest = clock.now - TARGET / 2  # always drained to half the target
        assert admission.admit()
    assert admission.refused == 0 and not admission.shedding


def test_refuses_once_the_oldest_wait_stays_over_the_target_for_an_interval() -> None:
    admission, clock, queue = controller()
    queue.oldest = clock.now  # work queued now and never taken
    clock.now += TARGET + 0.001
    admission.observe()  # the loop-lag ticker's look: over the target from now
    assert arrive(admission, clock, INTERVAL - 0.002) == [True] * MIN_REQUESTS, "a burst until it lasts an interval"
    clock.now += 0.003
    assert not admission.admit(), "over the target for a whole interval: refuse"
    assert not admission.admit()
    assert admission.refused == 2 and admission.shedding


def test_a_spike_that_drains_never_refuses() -> None:
    admission, clock, queue = controller()
    for _ in range(20):  # a 90 ms spike every 200 ms, each drained in between
        queue.oldest = clock.now
        assert all(arrive(admission, clock, 0.09, 10))
        queue.oldest = None
        assert all(arrive(admission, clock, 0.11, 10))
    assert admission.refused == 0


def test_admits_again_when_the_queue_drains() -> None:
    admission, _clock, queue = overloaded()
    assert not admission.admit()
    queue.oldest = None  # drained
    assert admission.admit()
    assert admission.admit()


def test_while_shedding_a_new_rise_refuses_at_once_until_the_hold_passes() -> None:
    admission, clock, queue = overloaded()
    assert not admission.admit()
    queue.oldest = None
    clock.now += 0.01
    assert admission.admit()
    queue.oldest = clock.now  # over the target again soon after: no interval of grace
    clock.now += TARGET + 0.001
    assert not admission.admit()
    queue.oldest = None
    clock.now += HOLD + 0.001  # a whole hold without a refusal
    assert admission.admit() and not admission.shedding
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    assert admission.admit(), "after the hold, a rise is a burst again until it lasts an interval"


def test_a_look_under_the_target_between_requests_ends_the_standing_queue() -> None:
    admission, clock, queue = controller()
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    admission.observe()
    assert all(arrive(admission, clock, INTERVAL / 2))
    queue.oldest = None
    clock.now += 0.005
    admission.observe()  # the loop-lag ticker looked while the queue was empty
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    admission.observe()
    assert all(arrive(admission, clock, INTERVAL * 0.9)), "over the target for an interval only if over at every look"
    clock.now += INTERVAL * 0.1 + 0.001
    assert not admission.admit(), "now over the target at every look for an interval"


def test_under_sustained_overload_a_share_is_refused_even_when_the_delay_dips_under_the_target() -> None:
    admission, clock, queue = overloaded()
    assert admission.shedding
    # Overload goes on: the delay is over the target half of the time and dips under it in between (each dip
    # is work that was let through). Requests arriving in the dips are refused in a growing share.
    admitted_in_dips = offered_in_dips = 0
    for _ in range(30):
        queue.oldest = clock.now - 2 * TARGET  # over the target: refused
        assert not any(arrive(admission, clock, 0.01, 5))
        queue.oldest = clock.now - TARGET / 2  # under it for a moment
        answers = arrive(admission, clock, 0.01, 5)
        admitted_in_dips += sum(answers)
        offered_in_dips += len(answers)
    assert admission.share > 0 and admitted_in_dips < offered_in_dips * 0.8, (admission.share, admitted_in_dips)
    # The overload ends: the share falls with the delay, and once a hold has passed nothing is refused.
    queue.oldest = None
    arrive(admission, clock, 0.2, 20)
    clock.now += HOLD + 0.001
    assert all(arrive(admission, clock, 0.5, 50)) and admission.share == 0 and not admission.shedding


def test_few_requests_are_never_refused() -> None:
    admission, clock, queue = controller()
    queue.oldest = clock.now  # a delay the requests did not cause (another process took the CPU)
    assert all(arrive(admission, clock, 10 * INTERVAL, MIN_REQUESTS - 1))
    assert not admission.admit(), "the MIN_REQUESTS-th request while the delay stays over the target"


def test_loop_lag_is_the_last_lateness_or_how_overdue_the_timer_is() -> None:
    clock = Clock()
    lag = LoopLag(tick=0.005, clock=clock)
    lag.sample()
    assert lag() == 0.0
    clock.now += 0.005
    lag.sample()  # on time
    assert lag() == 0.0
    clock.now += 0.035  # the timer ran 30 ms late
    lag.sample()
    assert abs(lag() - 0.030) < 1e-9
    clock.now += 0.001
    lag.sample()
    assert lag() == 0.0
    clock.now += 0.005 + 0.050  # overdue by 50 ms and not run yet: a request handled now sees it
    assert abs(lag() - 0.050) < 1e-9


def test_queue_delay_is_the_longer_of_the_two() -> None:
    assert QueueDelay(lambda: 0.01, lambda: 0.04)() == 0.04
    assert QueueDelay(lambda: 0.05, lambda: 0.0)() == 0.05


def test_the_appender_reports_its_oldest_queued_wait() -> None:
    async def scenario() -> tuple[float, float]:
        clock = Clock()
        appender = Appender(None, None, clock=clock)  # type: ignore[arg-type]  # nothing is committed here
        before = appender.oldest_wait()
        request = Append("hash", "scope", None, None)  # type: ignore[arg-type]
        request.queued_at = clock.now
        appender._pending.append(request)  # queued, as append() does, without starting a batch
        clock.now += 0.2
        return before, appender.oldest_wait()

    before, after = asyncio.run(scenario())
    assert before == 0.0
    assert abs(after - 0.2) < 1e-9


def test_a_batch_being_committed_keeps_reporting_the_wait_its_oldest_request_had() -> None:
    """The wait is read when a batch takes the queue (CoDel's sojourn time) and counts until that batch is
    committed: the queue being empty right after a take is not the group commit catching up."""

    class Blocked:
        def __init__(self) -> None:
            self.release = asyncio.Event()

        @contextlib.asynccontextmanager
        async def transaction(self) -> AsyncIterator[None]:
            await self.release.wait()
            raise RuntimeError("nothing is committed here")
            yield  # pragma: no cover - an async generator, for asynccontextmanager

    async def scenario() -> tuple[float, float, float]:
        clock = Clock()
        storage = Blocked()
        appender = Appender(storage, None, clock=clock)  # type: ignore[arg-type]
        waiting = asyncio.ensure_future(appender.append(Append("hash", "scope", None, None)))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # queued; the batch has not taken it yet
        clock.now += 0.2
        for _ in range(10):  # the batch's gathering turns: it takes the request and blocks in its commit
            await asyncio.sleep(0)
        assert not appender._pending
        during = appender.oldest_wait()
        clock.now += 0.5  # still committing: what it took had waited 0.2 s when taken, not longer
        later = appender.oldest_wait()
        storage.release.set()
        with contextlib.suppress(RuntimeError):
            await waiting
        await asyncio.sleep(0)
        return during, later, appender.oldest_wait()

    during, later, after = asyncio.run(scenario())
    assert abs(during - 0.2) < 1e-9 and abs(later - 0.2) < 1e-9
    assert after == 0.0


def test_what_is_never_shed() -> None:
    assert sheds("POST", "/participant/message")
    assert sheds("POST", "/participant/transcript")
    assert sheds("POST", "/participant/event")
    assert not sheds("POST", "/participant/connection")
    assert not sheds("POST", "/participant/disconnect")
    assert not sheds("POST", "/participant/complete-attachment-upload")
    assert not sheds("OPTIONS", "/participant/message")


def test_the_answer_is_the_participant_services_throttling_shape() -> None:
    answer = throttled()
    assert answer.status == 429
    assert answer.headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.body.startswith(b'{"Message":"Rate exceeded')


@dataclass
class Cpu:
    """The loop thread's counters as ThreadCpu reports them: seconds run, seconds waited for a CPU."""

    run: float = 0.0
    waited: float = 0.0

    def __call__(self) -> tuple[float, float]:
        return self.run, self.waited


def ticking(lag: LoopLag, clock: Clock, cpu: Cpu, seconds: float, *, ran: float, waited: float,
            late: float = 0.0) -> None:
    """Ticks over ``seconds``: of each tick's wall time the thread ran ``ran`` and waited for a CPU ``waited``
    (shares); each tick ran ``late`` seconds after it was due."""
    for _ in range(round(seconds / lag.tick)):
        step = lag.tick + late
        clock.now += step
        cpu.run += ran * step
        cpu.waited += waited * step
        lag.sample()


def test_a_loop_that_never_sleeps_is_busy_even_while_it_waits_for_a_cpu() -> None:
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
    assert lag.busy() == 1.0, "no samples yet: the lag counts, as before the loop was measured"
    ticking(lag, clock, cpu, 0.2, ran=1.0, waited=0.0)
    assert lag.busy() > 0.99
    ticking(lag, clock, cpu, 0.2, ran=0.4, waited=0.6)  # saturated on a machine whose CPUs others take
    assert lag.busy() > 0.99, "ran 40% and waited 60% for a CPU: it never slept"


def test_a_loop_that_sleeps_is_not_busy_however_late_its_timers() -> None:
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
    ticking(lag, clock, cpu, 0.2, ran=0.3, waited=0.4, late=0.03)  # slept 30% of the time
    assert abs(lag.busy() - 0.3 / 0.6) < 1e-6
    assert lag() > TARGET, "its timers do run late"


def test_the_busy_share_covers_the_last_window_only() -> None:
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
    ticking(lag, clock, cpu, 1.0, ran=0.2, waited=0.0)  # a long idle second
    ticking(lag, clock, cpu, 0.06, ran=1.0, waited=0.0)  # then a window of saturation
    assert lag.busy() > 0.95


def test_without_run_queue_figures_the_share_is_cpu_time_over_wall_time() -> None:
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
    ticking(lag, clock, cpu, 0.2, ran=0.5, waited=0.0)
    assert abs(lag.busy() - 0.5) < 1e-6


def starved_or_saturated(ran: float, waited: float) -> tuple[Admission, Clock, Cpu, LoopLag]:
    """A controller on the loop's lag alone (nothing queued for the database), the loop running ``ran`` and
    waiting for a CPU ``waited`` of the time, its timers 30 ms late for longer than an interval."""
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=INTERVAL)
    admission = Admission(QueueDelay(lag, lambda: 0.0, lag.busy), Settings(TARGET, INTERVAL, HOLD, MIN_REQUESTS),
                          clock)
    for _ in range(round(2 * INTERVAL / lag.tick)):
        ticking(lag, clock, cpu, lag.tick, ran=ran, waited=waited, late=0.03)
        admission.observe()
        admission.admit()
    return admission, clock, cpu, lag


def test_a_saturated_loop_is_shed_even_on_a_starved_machine() -> None:
    admission, *_ = starved_or_saturated(ran=0.5, waited=0.5)
    assert admission.refused > 0 and admission.shedding


def test_a_starved_loop_with_room_to_spare_is_not_shed() -> None:
    admission, *_ = starved_or_saturated(ran=0.3, waited=0.5)  # asleep a fifth of the time
    assert admission.refused == 0 and not admission.shedding


def test_the_oldest_append_counts_even_while_the_loop_sleeps() -> None:
    assert QueueDelay(lambda: 0.5, lambda: 0.04, lambda: 0.1)() == 0.04, "the loop's lag is not counted"
    assert QueueDelay(lambda: 0.5, lambda: 0.04, lambda: 0.95)() == 0.5


def test_thread_cpu_reads_this_threads_run_and_wait_times() -> None:
    cpu = ThreadCpu()
    run, waited = cpu()
    deadline = time.thread_time() + 0.05
    while time.thread_time() < deadline:
        pass
    later, waited_later = cpu()
    cpu.close()
    assert later - run >= 0.04 and waited_later >= waited >= 0.0
    missing = ThreadCpu("/nonexistent/schedstat")
    assert missing()[1] == 0.0 and missing()[0] > 0.0, "falls back to the thread's CPU time"


def test_early_refusal_decides_only_what_may_be_shed() -> None:
    connect = ConnectPaths.of(Service.load("connect", "2017-08-08").model, ["/connect/login", "/api", "/health"])
    assert {"instance", "users", "contact", "quick-connects"} <= connect.segments
    assert "connect" not in connect.segments and "api" not in connect.segments
    assert ("POST", "/contact/stop") in connect.kept
    refusing = Admission(lambda: 1.0, Settings(TARGET, INTERVAL, HOLD, MIN_REQUESTS))
    refusing.admit = lambda: False  # type: ignore[method-assign]
    early = EarlyRefusal(refusing, connect)
    for method, path in [("POST", "/participant/connection"), ("POST", "/participant/disconnect"),
                         ("OPTIONS", "/participant/message"), ("HEAD", "/participant/message"),
                         ("PUT", "/participant/attachments/abc"), ("POST", "/contact/stop"),
                         ("GET", "/connect/login"), ("POST", "/api"), ("GET", "/health")]:
        scope = {"method": method, "path": path}
        assert early(scope) is None, (method, path)
        assert DECIDED not in scope, "left to the app"
    participant = early({"method": "POST", "path": "/participant/message"})
    connect_answer = early({"method": "PUT", "path": "/contact/chat"})
    assert participant is not None and connect_answer is not None
    status, head, body = participant
    assert status == 429 and b"x-amzn-errortype: ThrottlingException\r\n" in head
    assert b"access-control-allow-origin: *\r\n" in head and head.startswith(b"x-amzn-requestid: ")
    assert orjson.loads(body)["Message"].startswith("Rate exceeded")
    assert b"access-control" not in connect_answer[1] and b"x-amzn-errortype: ThrottlingException" in connect_answer[1]
    admitting = EarlyRefusal(Admission(lambda: 0.0), connect)
    scope = {"method": "POST", "path": "/participant/message"}
    assert admitting(scope) is None and scope[DECIDED], "admitted here: the app does not ask again"


def test_the_lag_is_sampled_slowly_while_the_loop_sleeps_and_every_tick_while_it_works() -> None:
    now = [0.0]
    ran = [0.0]
    lag = LoopLag(tick=0.005, clock=lambda: now[0], cpu=lambda: (ran[0], 0.0), window=0.05)
    for _ in range(3):  # the loop sleeps: 1 ms of work in every 100 ms
        lag.sample()
        now[0] += 0.1
        ran[0] += 0.001
    lag.sample()
    assert lag.next_tick() == IDLE_TICK_SECONDS
    for _ in range(12):  # the loop works all the time
        now[0] += 0.005
        ran[0] += 0.005
        lag.sample()
    assert lag.next_tick() == 0.005


def test_once_shedding_the_delay_is_held_under_a_share_of_the_target() -> None:
    admission, clock, queue = overloaded()
    control = Settings(TARGET, INTERVAL, HOLD, MIN_REQUESTS).control
    assert 0 < control < TARGET
    queue.oldest = clock.now - (control + TARGET) / 2  # under the target, over the held delay
    assert not admission.admit(), "while shedding, a delay over the held delay is refused"
    queue.oldest = clock.now - control / 2
    admission.share = 0.0
    assert admission.admit(), "under the held delay (and no share owed): taken"
    clock2 = Clock()
    fresh = Admission(lambda: (control + TARGET) / 2, Settings(TARGET, INTERVAL, HOLD, MIN_REQUESTS), clock2)
    assert all(arrive(fresh, clock2, 10 * INTERVAL, 10 * MIN_REQUESTS)), \
        "not shedding: a delay under the target is no standing queue, however long it lasts"


def test_an_idle_timers_lateness_is_measured_from_its_idle_pause() -> None:
    clock, cpu = Clock(), Cpu()
    lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
    lag.sample()
    for _ in range(3):  # asleep: the timer is next due after the idle pause
        clock.now += IDLE_TICK_SECONDS
        cpu.run += 0.001
        assert lag.sample() == IDLE_TICK_SECONDS
    assert lag() == 0.0, "it ran when it was due"
    clock.now += IDLE_TICK_SECONDS + 0.03
    lag.sample()
    assert abs(lag() - 0.03) < 1e-9


def test_a_request_wakes_an_idle_sampler_which_then_ticks_at_once() -> None:
    async def scenario() -> tuple[int, int, float, float]:
        clock, cpu = Clock(), Cpu()
        looks: list[float] = []
        lag = LoopLag(tick=0.005, clock=clock, cpu=cpu, window=0.05)
        for _ in range(3):  # it has slept: the next sample waits an idle pause
            lag.sample()
            clock.now += IDLE_TICK_SECONDS
            cpu.run += 0.001
        lag.start(lambda: looks.append(clock.now))
        first = len(looks)
        lag.arrival()  # a request while the timer waits out its idle pause
        woken = len(looks)
        pause = lag.next_tick()
        lag.arrival()  # already ticking: nothing more
        clock.now += 0.005
        cpu.run += 0.005
        await asyncio.sleep(0.05)  # real time: the timer runs every tick now, not after 100 ms
        ticks = len(looks) - woken
        await lag.stop()
        return first, woken, pause, ticks

    first, woken, pause, ticks = asyncio.run(scenario())
    assert first == 1 and woken == 2, "the arrival sampled and looked at once"
    assert pause == 0.005
    assert ticks >= 2, ticks

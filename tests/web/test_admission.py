"""The load-shedding controller with a fake clock and a fake queue: when it refuses and when it admits again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from parley.service.appends import Append, Appender
from parley.web.admission import (
    Admission,
    LoopLag,
    QueueDelay,
    Settings,
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
    admission, clock, queue = controller()
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    admission.observe()
    arrive(admission, clock, INTERVAL + 0.001)
    assert not admission.admit()
    queue.oldest = None  # drained
    assert admission.admit()
    assert admission.admit()


def test_while_shedding_a_new_rise_refuses_at_once_until_the_hold_passes() -> None:
    admission, clock, queue = controller()
    queue.oldest = clock.now
    clock.now += TARGET + 0.001
    admission.observe()
    arrive(admission, clock, INTERVAL + 0.001)
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

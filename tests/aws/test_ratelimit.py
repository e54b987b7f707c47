from __future__ import annotations

import pytest

from parley.aws.ratelimit import Rate, RateLimiter, parse_rate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter({"SendMessage": Rate(10, 3)}, clock=clock)
    assert [limiter.allow("i", "SendMessage") for _ in range(4)] == [True, True, True, False]
    clock.now += 0.1  # one token back at 10/s
    assert limiter.allow("i", "SendMessage")
    assert not limiter.allow("i", "SendMessage")


def test_instances_and_operations_are_separate() -> None:
    limiter = RateLimiter({"SendMessage": Rate(1, 1)}, clock=Clock())
    assert limiter.allow("a", "SendMessage")
    assert limiter.allow("b", "SendMessage")
    assert not limiter.allow("a", "SendMessage")
    assert limiter.allow("a", "GetTranscript"), "operations without a rate and no default are not limited"


def test_default_rate_applies_to_unlisted_operations() -> None:
    limiter = RateLimiter({}, default=Rate(1, 1), clock=Clock())
    assert limiter.allow("a", "ListUsers")
    assert not limiter.allow("a", "ListUsers")


def test_parse_rate() -> None:
    assert parse_rate("SendMessage=100/150") == ("SendMessage", Rate(100, 150))
    assert parse_rate("SendMessage=10") == ("SendMessage", Rate(10, 15))
    for bad in ("SendMessage", "=5", "SendMessage=x", "SendMessage=0"):
        with pytest.raises(ValueError):
            parse_rate(bad)

"""Per-instance request rate limits (token buckets), answered with 429 ThrottlingException like Connect."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parley.aws.errors import AwsError


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


# Connect's documented default quotas ("Amazon Connect service quotas"), per instance.
PARTICIPANT_RATES: dict[str, Rate] = {
    "CreateParticipantConnection": Rate(6, 9),
    "SendMessage": Rate(10, 15),
    "SendEvent": Rate(10, 15),
    "GetTranscript": Rate(8, 12),
    "GetAttachment": Rate(8, 12),
    "DisconnectParticipant": Rate(3, 5),
    "StartAttachmentUpload": Rate(2, 5),
    "CompleteAttachmentUpload": Rate(2, 5),
}
CONNECT_RATES: dict[str, Rate] = {
    "StartChatContact": Rate(5, 8),
    "CreateParticipant": Rate(5, 8),
    "DescribeContact": Rate(10, 15),
    "StopContact": Rate(10, 15),
    "GetContactAttributes": Rate(10, 15),
    "UpdateContactAttributes": Rate(10, 15),
    "GetCurrentMetricData": Rate(5, 8),
}
# Every other Connect operation.
CONNECT_DEFAULT = Rate(2, 5)


def parse_rate(text: str) -> tuple[str, Rate]:
    """``SendMessage=100`` or ``SendMessage=100/150`` (requests per second / burst)."""
    op, sep, value = text.partition("=")
    rate, _, burst = value.partition("/")
    try:
        per_second = float(rate)
        size = int(burst) if burst else max(1, int(per_second * 1.5))
    except ValueError as exc:
        raise ValueError(f"rate limit {text!r} is not OPERATION=RATE[/BURST]") from exc
    if not sep or not op or per_second <= 0 or size < 1:
        raise ValueError(f"rate limit {text!r} is not OPERATION=RATE[/BURST] with positive numbers")
    return op, Rate(per_second, size)


class RateLimiter:
    """Token buckets keyed by (instance, operation)."""

    def __init__(self, rates: Mapping[str, Rate], default: Rate | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = dict(rates)
        self.default = default
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def allow(self, instance_id: str, operation: str) -> bool:
        rate = self.rates.get(operation, self.default)
        if rate is None:
            return True
        now = self.clock()
        tokens, since = self._buckets.get((instance_id, operation), (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - since) * rate.per_second)
        if tokens < 1:
            self._buckets[(instance_id, operation)] = (tokens, now)
            return False
        self._buckets[(instance_id, operation)] = (tokens - 1, now)
        return True


THROTTLED = "Rate exceeded: this instance is over its request rate for the operation; retry with backoff."


def connect_limiter(limiter: RateLimiter) -> Callable[[Any], Awaitable[None]]:
    """Limit Connect API calls per InstanceId (calls without one, like ListInstances, per access key)."""

    async def check(call: Any) -> None:
        key = str(call.params.get("InstanceId") or call.caller)
        if not limiter.allow(key, call.op.name):
            raise AwsError("ThrottlingException", THROTTLED, 429)

    return check


def participant_limiter(
    limiter: RateLimiter, instance_of: Callable[[str], Awaitable[str | None]]
) -> Callable[[Any], Awaitable[None]]:
    """Limit Participant Service calls per instance of the bearer token's chat."""

    async def check(call: Any) -> None:
        instance = await instance_of(call.caller) if call.caller else None
        if instance is not None and not limiter.allow(instance, call.op.name):
            raise AwsError("ThrottlingException", THROTTLED, 429)

    return check

"""How many chats one client address may start from a browser (the widget and the test chat page): a token bucket
per address, so a script on the open internet cannot fill the queues with chats.

State is per process, bounded (the least recently used addresses are forgotten first). IPv6 addresses count by
their /64, as the sign-in throttle counts them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from parley.domain.errors import LimitExceeded
from parley.service.signin_throttle import address_key


@dataclass(frozen=True)
class StartRate:
    """Chats one address may start: ``burst`` at once, then ``per_minute`` (a customer starts one or two; an
    office behind one address a few more)."""

    per_minute: float = 5.0
    burst: int = 10
    max_keys: int = 100_000  # addresses remembered, so memory stays bounded


class ChatStartsThrottled(LimitExceeded):
    """This address started too many chats; it may try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        plural = "" if retry_after == 1 else "s"
        super().__init__(f"Too many chats started from your network. Try again in {retry_after} second{plural}.")
        self.retry_after = retry_after


class ChatStartLimiter:
    """Token buckets of chat starts, one per client address."""

    def __init__(self, rate: StartRate | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate or StartRate()
        if not (self.rate.per_minute > 0 and self.rate.burst >= 1):
            raise ValueError("a chat start rate needs a positive rate and a burst of at least 1")
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, address: str) -> None:
        """Count one chat start from ``address``, or raise :class:`ChatStartsThrottled` (nothing counted)."""
        key = address_key(address)
        now = self.clock()
        per_second = self.rate.per_minute / 60.0
        tokens, since = self._buckets.get(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - since) * per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            raise ChatStartsThrottled(max(1, math.ceil((1 - tokens) / per_second)))
        self._buckets[key] = (tokens - 1, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.rate.max_keys:
            self._buckets.popitem(last=False)


# The name ``--rate-limit`` gives this rate (``StartWidgetChat=RATE/BURST``, RATE in chats per second).
RATE_NAME = "StartWidgetChat"


def configured_limiter(limits_on: bool, overrides: dict[str, tuple[float, int]]) -> ChatStartLimiter | None:
    """The limiter the server's settings ask for: None with rate limits off (``--rate-limits off``, or ``--demo``
    without ``--rate-limits on``); the default rate unless ``--rate-limit StartWidgetChat=RATE/BURST`` overrides it."""
    if not limits_on:
        return None
    if RATE_NAME not in overrides:
        return ChatStartLimiter()
    per_second, burst = overrides[RATE_NAME]
    return ChatStartLimiter(StartRate(per_minute=per_second * 60, burst=burst))

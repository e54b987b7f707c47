"""Sign-in throttling: exponential back-off per username and per client address, never a permanent lock-out.

Each key (an instance alias + username, or a client address) counts failed sign-ins. After ``free`` failures,
each further failure closes the key for ``base * 2**(failures - free - 1)`` seconds, at most ``cap``; while closed,
attempts are refused with :class:`Throttled` (``Retry-After``) before any password work. Failures are forgiven
one per ``forgive_every`` seconds, and a success clears the username's count, so a real agent who waits out the
window signs in normally. A key also admits only ``max_in_flight`` checks at once, so parallel guesses cannot
slip past the count. State is per process (a few dozen bytes a key, at most ``max_keys`` keys per policy).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """One throttling policy."""

    free: int  # failures allowed before any waiting
    base: float  # seconds of the first wait
    cap: float  # longest wait (no lock-out is permanent)
    forgive_every: float  # one failure is forgotten per this many seconds without failures
    max_in_flight: int  # checks of one key running at once
    max_keys: int  # keys remembered (least recently used dropped first), so memory stays bounded

    def wait_after(self, failures: int) -> float:
        excess = failures - self.free
        return 0.0 if excess <= 0 else min(self.cap, self.base * 2.0 ** min(excess - 1, 64))


# Per instance + username: five free tries for typos, then 1, 2, 4 … s up to 15 minutes (like Cognito's longest
# lock-out); one failure forgiven every 5 minutes: about one guess per 5 minutes per account at worst.
USERNAME_BACKOFF = Backoff(free=5, base=1.0, cap=900.0, forgive_every=300.0, max_in_flight=2, max_keys=100_000)
# Per client address: room for a shared office address (30 failures), then 1, 2, 4 … s up to 15 minutes; one
# failure forgiven every 10 s: about 6 guesses a minute across every username from one address at worst.
ADDRESS_BACKOFF = Backoff(free=30, base=1.0, cap=900.0, forgive_every=10.0, max_in_flight=8, max_keys=100_000)


class Throttled(Exception):
    """A sign-in refused by the throttle before any password check; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many sign-in attempts. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


@dataclass
class _Key:
    failures: int = 0
    updated: float = 0.0  # when the last whole failure was forgiven (or the first one counted)
    closed_until: float = 0.0
    in_flight: int = 0


@dataclass
class _Policy:
    backoff: Backoff
    keys: OrderedDict[str, _Key] = field(default_factory=OrderedDict)

    def get(self, name: str, now: float) -> _Key:
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = _Key(updated=now)
            while len(self.keys) > self.backoff.max_keys:
                oldest = next(iter(self.keys))
                if self.keys[oldest].in_flight:
                    break
                del self.keys[oldest]
        else:
            self.keys.move_to_end(name)
            periods = int((now - key.updated) // self.backoff.forgive_every)
            if periods > 0:
                key.failures = max(0, key.failures - periods)
                key.updated += periods * self.backoff.forgive_every
        return key

    def drop_if_idle(self, name: str, key: _Key, now: float) -> None:
        if key.failures == 0 and key.in_flight == 0 and key.closed_until <= now:
            self.keys.pop(name, None)


@dataclass(frozen=True)
class Attempt:
    """A sign-in admitted by :meth:`SigninThrottle.admit`; report its outcome with :meth:`SigninThrottle.done`."""

    user_key: str
    address_key: str


class SigninThrottle:
    """The throttle state of one process, built in ``app.py`` and handed to the auth service."""

    def __init__(self, username: Backoff = USERNAME_BACKOFF, address: Backoff = ADDRESS_BACKOFF,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._user = _Policy(username)
        self._address = _Policy(address)
        self._clock = clock

    def admit(self, instance_alias: str, username: str, address: str) -> Attempt:
        """Admit one attempt or raise :class:`Throttled` with the seconds to wait."""
        now = self._clock()
        attempt = Attempt(f"{instance_alias.strip().lower()}\x00{username.lower()}", address)
        checks = ((self._user, attempt.user_key), (self._address, attempt.address_key))
        keys = [(policy, policy.get(name, now)) for policy, name in checks]
        wait = max(key.closed_until - now for _policy, key in keys)
        busy = any(key.in_flight >= policy.backoff.max_in_flight for policy, key in keys)
        if wait > 0 or busy:
            for (policy, name), (_policy, key) in zip(checks, keys, strict=True):
                policy.drop_if_idle(name, key, now)
            raise Throttled(max(1, math.ceil(wait)))
        for _policy, key in keys:
            key.in_flight += 1
        return attempt

    def done(self, attempt: Attempt, *, success: bool | None) -> None:
        """Record the outcome: True (signed in), False (wrong credentials) or None (not checked, e.g. busy)."""
        now = self._clock()
        for policy, name in ((self._user, attempt.user_key), (self._address, attempt.address_key)):
            key = policy.get(name, now)
            key.in_flight = max(0, key.in_flight - 1)
            if success is False:
                if key.failures == 0:
                    key.updated = now
                key.failures += 1
                key.closed_until = max(key.closed_until, now + policy.backoff.wait_after(key.failures))
            elif success and policy is self._user:
                key.failures = 0
                key.closed_until = 0.0
            policy.drop_if_idle(name, key, now)

"""Sign-in throttling: exponential back-off per username, per client address and per known device, and a cheap
per-address cap on sign-in posts; never a permanent lock-out.

Each key (an instance alias + username, a client address, or a device cookie's id) counts failed sign-ins. After
``free`` failures, each further failure closes the key for ``base * 2**(failures - free - 1)`` seconds, at most
``cap``; while closed, attempts are refused with :class:`Throttled` (``Retry-After``) before any password work.
Failures are forgiven one per ``forgive_every`` seconds, and a success clears the username's (or device's) count,
so a real agent who waits out the window signs in normally. A key also admits only ``max_in_flight`` checks at
once, so parallel guesses cannot slip past the count.

An attempt that presents a valid device cookie for its account (:mod:`parley.service.device_cookies`: the browser
signed in as that agent before) is counted under that device instead of the username and the address, so an
attacker guessing the username cannot keep its agent out; a stolen device cookie still gets only its own back-off.

:meth:`SigninThrottle.gate` is the check the web edge makes before it reads a sign-in form: the address is closed,
or its bucket of posts (``burst``, refilled at ``per_second``; a successful sign-in gives its post back) is empty.
A flood of guesses is then refused for the cost of one dictionary look-up each.

State is per process (a few dozen bytes a key, at most ``max_keys`` keys per policy). IPv6 addresses count by
their /64 (one subscriber usually holds a whole /64).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


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


@dataclass(frozen=True)
class PostRate:
    """A token bucket per client address for sign-in posts, checked before the form is read."""

    burst: int  # posts one address may send at once
    per_second: float  # posts given back per second
    max_keys: int  # addresses remembered (least recently used dropped first)


# Per instance + username: five free tries for typos, then 1, 2, 4 … s up to 15 minutes (like Cognito's longest
# lock-out); one failure forgiven every 5 minutes: about one guess per 5 minutes per account at worst.
USERNAME_BACKOFF = Backoff(free=5, base=1.0, cap=900.0, forgive_every=300.0, max_in_flight=2, max_keys=100_000)
# Per client address: room for a shared office address (30 failures), then 1, 2, 4 … s up to 15 minutes; one
# failure forgiven every 10 s: about 6 guesses a minute across every username from one address at worst.
ADDRESS_BACKOFF = Backoff(free=30, base=1.0, cap=900.0, forgive_every=10.0, max_in_flight=8, max_keys=100_000)
# Per device cookie: the username's rules, so a stolen device cookie guesses no faster than anyone could guess
# an account that is not under attack.
DEVICE_BACKOFF = Backoff(free=5, base=1.0, cap=900.0, forgive_every=300.0, max_in_flight=2, max_keys=100_000)
# Sign-in posts per client address that reach the form: 20 at once, then one a second. Successful sign-ins give
# theirs back, so an office of agents behind one address signing in at the start of a shift never runs out; a
# guesser gets one form read a second and every other post is refused before its body is read.
ADDRESS_POSTS = PostRate(burst=20, per_second=1.0, max_keys=100_000)

Kind = Literal["user", "address", "device"]


def try_again(seconds: int) -> str:
    """What a person is told when a sign-in is throttled."""
    return f"Too many sign-in attempts. Try again in {seconds} second{'' if seconds == 1 else 's'}."


class Throttled(Exception):
    """A sign-in refused by the throttle before any password check; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(try_again(retry_after))
        self.retry_after = retry_after


def user_key(instance_alias: str, username: str) -> str:
    """The throttle's key of an account: the instance alias as typed (trimmed) and the username, lower-cased."""
    return f"{instance_alias.strip().lower()}\x00{username.lower()}"


def address_key(address: str) -> str:
    """The throttle's key of a client address: an IPv6 address by its /64, any other as it is."""
    if ":" not in address:
        return address
    try:
        return f"{ipaddress.IPv6Network(f'{address}/64', strict=False).network_address}/64"
    except ValueError:
        return address


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


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Buckets:
    rate: PostRate
    buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def _refilled(self, name: str, now: float) -> _Bucket:
        bucket = self.buckets.get(name)
        if bucket is None:
            bucket = self.buckets[name] = _Bucket(float(self.rate.burst), now)
            if len(self.buckets) > self.rate.max_keys:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(name)
            bucket.tokens = min(float(self.rate.burst), bucket.tokens + (now - bucket.at) * self.rate.per_second)
            bucket.at = now
        return bucket

    def take(self, name: str, now: float) -> float:
        """0 when a post was taken, else the seconds until one is back."""
        bucket = self._refilled(name, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate.per_second

    def give_back(self, name: str, now: float) -> None:
        bucket = self._refilled(name, now)
        bucket.tokens = min(float(self.rate.burst), bucket.tokens + 1.0)


@dataclass(frozen=True)
class Attempt:
    """A sign-in admitted by :meth:`SigninThrottle.admit`; report its outcome with :meth:`SigninThrottle.done`."""

    keys: tuple[tuple[Kind, str], ...]  # the policies it counts under, and its key in each

    @property
    def device(self) -> bool:
        """True when it counts under a device cookie (not the username and address)."""
        return any(kind == "device" for kind, _name in self.keys)


class SigninThrottle:
    """The throttle state of one process, built in ``app.py`` and handed to the auth service."""

    def __init__(self, username: Backoff = USERNAME_BACKOFF, address: Backoff = ADDRESS_BACKOFF,
                 clock: Callable[[], float] = time.monotonic, *, device: Backoff = DEVICE_BACKOFF,
                 posts: PostRate = ADDRESS_POSTS) -> None:
        self._user = _Policy(username)
        self._address = _Policy(address)
        self._device = _Policy(device)
        self._policies: dict[Kind, _Policy] = {"user": self._user, "address": self._address, "device": self._device}
        self._posts = _Buckets(posts)
        self._clock = clock

    def gate(self, address: str) -> int:
        """Seconds a sign-in post from ``address`` must wait (its address is closed, or it has sent too many
        posts), or 0 when its form may be read; takes one post from the address's bucket."""
        now = self._clock()
        name = address_key(address)
        key = self._address.keys.get(name)
        closed = key.closed_until - now if key is not None else 0.0
        if closed > 0:
            return max(1, math.ceil(closed))
        wait = self._posts.take(name, now)
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    def signed_in(self, address: str) -> None:
        """A post that :meth:`gate` let through signed someone in: it does not count against the address."""
        self._posts.give_back(address_key(address), self._clock())

    def admit(self, instance_alias: str, username: str, address: str, *, device: str | None = None) -> Attempt:
        """Admit one attempt or raise :class:`Throttled` with the seconds to wait. ``device`` is the id of a valid
        device cookie of this account: the attempt then counts under it alone."""
        now = self._clock()
        checks: tuple[tuple[Kind, str], ...] = (
            (("device", device),) if device else
            (("user", user_key(instance_alias, username)), ("address", address_key(address)))
        )
        keys = [(self._policies[kind], name, self._policies[kind].get(name, now)) for kind, name in checks]
        wait = max(key.closed_until - now for _policy, _name, key in keys)
        busy = any(key.in_flight >= policy.backoff.max_in_flight for policy, _name, key in keys)
        if wait > 0 or busy:
            for policy, name, key in keys:
                policy.drop_if_idle(name, key, now)
            raise Throttled(max(1, math.ceil(wait)))
        for _policy, _name, key in keys:
            key.in_flight += 1
        return Attempt(checks)

    def done(self, attempt: Attempt, *, success: bool | None) -> None:
        """Record the outcome: True (signed in), False (wrong credentials) or None (not checked, e.g. busy)."""
        now = self._clock()
        for kind, name in attempt.keys:
            policy = self._policies[kind]
            key = policy.get(name, now)
            key.in_flight = max(0, key.in_flight - 1)
            if success is False:
                if key.failures == 0:
                    key.updated = now
                key.failures += 1
                key.closed_until = max(key.closed_until, now + policy.backoff.wait_after(key.failures))
            elif success and kind != "address":
                key.failures = 0
                key.closed_until = 0.0
            policy.drop_if_idle(name, key, now)

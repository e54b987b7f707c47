"""Sign-in bounds without a server: the throttle's back-off (with a hand-driven clock) and the Argon2 work gate
(real Argon2 in threads): never more checks at once than the slots and memory budget allow, a bounded queue."""

from __future__ import annotations

import asyncio

import pytest

from parley.service.passwords import Passwords, PasswordsBusy, WorkBound, memory_of
from parley.service.signin_throttle import (
    ADDRESS_BACKOFF,
    ADDRESS_POSTS,
    DEVICE_BACKOFF,
    USERNAME_BACKOFF,
    Backoff,
    PostRate,
    SigninThrottle,
    Throttled,
    address_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SigninThrottle, user: str = "agent1", address: str = "10.0.0.1") -> None:
    throttle.done(throttle.admit("demo", user, address), success=False)


def retry_after(throttle: SigninThrottle, user: str = "agent1", address: str = "10.0.0.1") -> int:
    with pytest.raises(Throttled) as caught:
        throttle.admit("demo", user, address)
    return caught.value.retry_after


def test_username_backoff_doubles_after_five_free_failures_and_is_capped() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(USERNAME_BACKOFF.free):
        fail(throttle)
    waits = []
    for _ in range(12):
        fail(throttle)
        waits.append(retry_after(throttle))
        clock.now += waits[-1]  # wait it out exactly (forgiveness is far slower than these waits)
    assert waits[:6] == [1, 2, 4, 8, 16, 32]
    assert max(waits) <= USERNAME_BACKOFF.cap


def test_a_real_agent_gets_in_after_the_window_and_the_count_resets() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(USERNAME_BACKOFF.free + 3):
        clock.now += 100
        fail(throttle)
    wait = retry_after(throttle)
    clock.now += wait
    attempt = throttle.admit("demo", "agent1", "10.0.0.1")
    throttle.done(attempt, success=True)
    fail(throttle)  # after a success the five free tries are back
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1"), success=True)


def test_failures_are_forgiven_over_time() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(USERNAME_BACKOFF.free + 1):
        fail(throttle)
    clock.now += USERNAME_BACKOFF.forgive_every * 2
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1"), success=False)
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1"), success=None)  # not closed: two forgiven


def test_usernames_are_per_instance_and_case_insensitive() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(USERNAME_BACKOFF.free + 1):
        fail(throttle, user="Agent1")
    assert retry_after(throttle, user="agent1", address="10.0.0.2") == 1
    throttle.done(throttle.admit("other", "agent1", "10.0.0.2"), success=None)


def test_one_address_guessing_many_usernames_is_slowed() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for n in range(ADDRESS_BACKOFF.free + 1):
        fail(throttle, user=f"user{n}")
    assert retry_after(throttle, user="someone-else") == 1
    # another address is not affected, and a success does not reopen the guessing address
    throttle.done(throttle.admit("demo", "someone-else", "10.0.0.9"), success=True)
    assert retry_after(throttle, user="someone-else") >= 1


def test_parallel_checks_of_one_key_are_capped() -> None:
    throttle = SigninThrottle(clock=Clock())
    held = [throttle.admit("demo", "agent1", "10.0.0.1") for _ in range(USERNAME_BACKOFF.max_in_flight)]
    assert retry_after(throttle) == 1
    throttle.done(held[0], success=None)
    throttle.admit("demo", "agent1", "10.0.0.1")


def test_remembered_keys_are_bounded() -> None:
    small = Backoff(free=1, base=1.0, cap=10.0, forgive_every=60.0, max_in_flight=2, max_keys=50)
    throttle = SigninThrottle(username=small, address=small, clock=Clock())
    for n in range(500):
        fail(throttle, user=f"u{n}", address=f"10.1.{n // 250}.{n % 250}")
    assert len(throttle._user.keys) <= 50 and len(throttle._address.keys) <= 50


# the gate before the form is read ---------------------------------------------------------------------------
def test_the_gate_lets_a_burst_of_posts_through_then_one_a_second() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    assert [throttle.gate("10.0.0.1") for _ in range(ADDRESS_POSTS.burst)] == [0] * ADDRESS_POSTS.burst
    assert throttle.gate("10.0.0.1") == 1
    assert throttle.gate("10.0.0.2") == 0  # another address has its own bucket
    clock.now += 1 / ADDRESS_POSTS.per_second
    assert throttle.gate("10.0.0.1") == 0
    assert throttle.gate("10.0.0.1") == 1


def test_successful_sign_ins_give_their_post_back() -> None:
    throttle = SigninThrottle(clock=Clock())
    for _ in range(ADDRESS_POSTS.burst * 3):  # an office behind one address, everyone signing in
        assert throttle.gate("10.0.0.1") == 0
        throttle.signed_in("10.0.0.1")
    assert throttle.gate("10.0.0.1") == 0


def test_the_gate_refuses_a_closed_address_until_its_window_ends() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock, posts=PostRate(burst=10_000, per_second=1.0, max_keys=10))
    for n in range(ADDRESS_BACKOFF.free + 1):
        fail(throttle, user=f"user{n}")
    clock.now += 0.5
    assert throttle.gate("10.0.0.1") == 1
    clock.now += 0.5
    assert throttle.gate("10.0.0.1") == 0


def test_ipv6_addresses_count_by_their_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("10.0.0.1") == "10.0.0.1"
    throttle = SigninThrottle(clock=Clock())
    for n in range(ADDRESS_POSTS.burst):
        assert throttle.gate(f"2001:db8::{n + 1:x}") == 0
    assert throttle.gate("2001:db8::ffff") == 1


def test_bucket_addresses_are_bounded() -> None:
    throttle = SigninThrottle(clock=Clock(), posts=PostRate(burst=2, per_second=1.0, max_keys=50))
    for n in range(500):
        throttle.gate(f"10.2.{n // 250}.{n % 250}")
    assert len(throttle._posts.buckets) <= 50


# device cookies ---------------------------------------------------------------------------------------------
def test_a_known_device_signs_in_while_its_username_is_closed() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(USERNAME_BACKOFF.free):  # an attacker keeps the username closed
        fail(throttle, address="10.9.9.9")
    for _ in range(6):
        fail(throttle, address="10.9.9.9")
        clock.now += retry_after(throttle, address="10.9.9.9")
    fail(throttle, address="10.9.9.9")
    assert retry_after(throttle, address="10.0.0.1") >= 32  # a new browser waits
    attempt = throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1")
    assert attempt.device
    throttle.done(attempt, success=True)
    # its success does not reopen the username for the attacker
    assert retry_after(throttle, address="10.9.9.9") >= 31


def test_device_failures_back_off_per_device_only() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock=clock)
    for _ in range(DEVICE_BACKOFF.free + 1):
        throttle.done(throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1"), success=False)
    with pytest.raises(Throttled) as caught:
        throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1")
    assert caught.value.retry_after == 1
    # neither the username, the address nor another device of the same agent is affected
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1"), success=None)
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1", device="dev-2"), success=None)
    clock.now += 1
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1"), success=True)
    for _ in range(DEVICE_BACKOFF.free):  # a success gives the device its free tries back
        throttle.done(throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1"), success=False)
    throttle.done(throttle.admit("demo", "agent1", "10.0.0.1", device="dev-1"), success=None)


# the Argon2 gate --------------------------------------------------------------------------------------------
async def test_password_checks_beyond_the_queue_are_refused_at_once() -> None:
    passwords = Passwords(fast=True, slots=1, max_waiting=2)
    stored = await passwords.hash("right")
    results = await asyncio.gather(*(passwords.verify(stored, "wrong") for _ in range(6)), return_exceptions=True)
    assert sum(isinstance(r, PasswordsBusy) for r in results) == 3, results
    assert [r for r in results if not isinstance(r, Exception)] == [False] * 3
    assert passwords.bound.peak == 1 and passwords.bound.running == 0
    assert await passwords.verify(stored, "right") is True


async def test_hashing_waits_its_turn_within_the_slots() -> None:
    passwords = Passwords(fast=True, slots=2)
    hashes = await asyncio.gather(*(passwords.hash(f"p{n}") for n in range(8)))
    assert len(set(hashes)) == 8
    assert passwords.bound.peak == 2 and passwords.bound.running == 0


async def test_memory_budget_runs_big_hashes_one_at_a_time() -> None:
    bound = WorkBound(slots=4, budget_kib=64 * 1024, max_waiting=10)
    await bound.acquire(64 * 1024, may_refuse=True)
    waiting = asyncio.ensure_future(bound.acquire(64 * 1024, may_refuse=True))
    await asyncio.sleep(0)
    assert not waiting.done() and bound.running == 1
    bound.release(64 * 1024)
    await waiting
    assert bound.running == 1 and bound.peak == 1
    bound.release(64 * 1024)
    assert memory_of("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", 1) == 65536


async def test_a_cancelled_check_keeps_its_slot_until_its_thread_ends() -> None:
    passwords = Passwords(fast=True, slots=1, max_waiting=4)
    stored = await passwords.hash("right")
    first = asyncio.ensure_future(passwords.verify(stored, "wrong"))
    queued = asyncio.ensure_future(passwords.verify(stored, "right"))
    await asyncio.sleep(0)
    first.cancel()
    queued.cancel()
    await asyncio.gather(first, queued, return_exceptions=True)
    assert passwords.bound.running <= 1  # the first thread may still be running; the queued one never started
    assert await passwords.verify(stored, "right") is True
    assert passwords.bound.peak == 1 and passwords.bound.running == 0

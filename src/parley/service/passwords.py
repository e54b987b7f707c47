"""Password hashing with Argon2id, run in threads and bounded so a flood of sign-ins cannot take the machine.

Each Argon2 computation holds its memory cost in RAM and one core for its duration. :class:`WorkBound` lets at
most ``slots`` run at once and within a memory budget (a hash made with a bigger memory cost than the budget
still runs, alone); sign-in checks wait in a bounded FIFO queue and beyond it are refused at once with
:class:`PasswordsBusy` (the web edge answers 503 with ``Retry-After``), so no queue grows without bound.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Argon2id parameters of new hashes: OWASP's first recommended configuration (19 MiB, 2 passes, 1 lane). One
# lane keeps a check on one core; 19 MiB keeps the memory of a few checks at once far below the budget below.
# (argon2-cffi's default, RFC 9106's 64 MiB x 3 passes x 4 lanes, cost 6x the CPU and 3.4x the memory per
# check.) Hashes made with other parameters keep verifying with their own.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
# Memory all running Argon2 computations may hold together: 64 MiB (3 checks of 19 MiB, or one older 64 MiB hash).
MEMORY_BUDGET_KIB = 64 * 1024
# Sign-in checks that may wait for a slot; beyond this the check is refused at once (about a second of work at
# 2 slots and ~40 ms a check: a burst of real agents waits, a flood is told to come back).
MAX_WAITING = 32
T = TypeVar("T")
# The memory cost written in an Argon2 hash string (``$argon2id$v=19$m=65536,t=3,p=4$…``).
_MEMORY = re.compile(r"\$m=(\d+),")


class PasswordsBusy(Exception):
    """Too many password checks are running and waiting: refused without queuing (retry in a moment)."""


class WorkBound:
    """A FIFO gate for Argon2 work: at most ``slots`` computations within ``budget_kib`` of memory at once."""

    def __init__(self, slots: int, budget_kib: int, max_waiting: int) -> None:
        self.slots = max(1, slots)
        self.budget_kib = budget_kib
        self.max_waiting = max_waiting
        self.running = 0
        self.used_kib = 0
        self.peak = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def _fits(self, kib: int) -> bool:
        return self.running == 0 or (self.running < self.slots and self.used_kib + kib <= self.budget_kib)

    def _take(self, kib: int) -> None:
        self.running += 1
        self.used_kib += kib
        self.peak = max(self.peak, self.running)

    async def acquire(self, kib: int, *, may_refuse: bool) -> None:
        """Take a slot for ``kib`` of memory; waits in turn, or raises :class:`PasswordsBusy` when ``may_refuse``
        and the queue is full."""
        if not self._waiters and self._fits(kib):
            self._take(kib)
            return
        if may_refuse and len(self._waiters) >= self.max_waiting:
            raise PasswordsBusy("Too many sign-ins at once; try again in a moment.")
        entry = (kib, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await entry[1]
        except asyncio.CancelledError:
            if entry in self._waiters:
                self._waiters.remove(entry)
            elif entry[1].done() and not entry[1].cancelled():
                self.release(kib)  # the slot was handed over just as the caller went away
            raise

    def release(self, kib: int) -> None:
        self.running -= 1
        self.used_kib -= kib
        while self._waiters and self._fits(self._waiters[0][0]):
            kib_next, future = self._waiters.popleft()
            if future.done():  # its caller was cancelled while waiting
                continue
            self._take(kib_next)
            future.set_result(None)


def memory_of(password_hash: str, default: int) -> int:
    """The memory cost (KiB) an Argon2 hash string asks for; ``default`` when it names none."""
    found = _MEMORY.search(password_hash)
    return int(found.group(1)) if found else default


class Passwords:
    """Hashes and checks passwords. ``fast`` lowers the cost for test suites only.

    ``slots`` (default: the number of CPUs) and ``max_waiting`` bound the work; see :class:`WorkBound`.
    """

    def __init__(self, *, fast: bool = False, slots: int | None = None, max_waiting: int = MAX_WAITING) -> None:
        self._hasher = (
            PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1) if fast
            else PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
        )
        self.bound = WorkBound(slots or os.cpu_count() or 1, MEMORY_BUDGET_KIB, max_waiting)

    async def hash(self, password: str) -> str:
        """A new hash (administrators creating users wait their turn; they are never refused)."""
        kib = self._hasher.memory_cost
        await self.bound.acquire(kib, may_refuse=False)
        return await self._in_thread(kib, lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; raises :class:`PasswordsBusy` when too many checks are queued."""
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        kib = memory_of(password_hash, self._hasher.memory_cost)
        await self.bound.acquire(kib, may_refuse=True)
        return await self._in_thread(kib, check)

    async def _in_thread(self, kib: int, work: Callable[[], T]) -> T:
        """Run ``work`` in a thread holding the slot until the thread is done, even if the caller goes away
        (a cancelled request must not free a slot whose Argon2 computation is still running)."""
        future = asyncio.get_running_loop().run_in_executor(None, work)
        future.add_done_callback(lambda _done: self.bound.release(kib))
        return await asyncio.shield(future)

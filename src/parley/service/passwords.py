"""Password hashing with Argon2id; hashing runs in a thread so it never blocks the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords. ``fast`` lowers the cost for test suites only."""

    def __init__(self, *, fast: bool = False) -> None:
        self._hasher = (
            PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1) if fast else PasswordHasher()
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

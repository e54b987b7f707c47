"""Background timers of a node: chat duration expiry and credential clean-up, safe with several nodes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from parley.domain.clock import utcnow
from parley.service.chat import ChatService
from parley.service.ports import Storage, StorageUnavailable

log = logging.getLogger(__name__)

# How often a node looks for chats whose duration ran out (chat durations are whole minutes).
EXPIRY_CHECK_SECONDS = 5.0


class Timers:
    def __init__(self, storage: Storage, chat: ChatService) -> None:
        self.storage = storage
        self.chat = chat
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> int:
        """One round: end expired chats and drop expired credentials. Returns chats ended."""
        ended = await self.chat.end_expired_chats()
        async with self.storage.transaction() as uow:
            await uow.connections.delete_expired(utcnow())
            await uow.sessions.delete_expired(utcnow())
        return ended

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except StorageUnavailable as exc:  # the database is down: no traceback, the next round retries
                log.warning("timer round failed: %s", exc)
            except Exception:
                log.exception("timer round failed")
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)

"""The participant WebSocket with automatic reconnect: subscribe, heartbeat, push, and catch-up from the
transcript so that a socket closed by the server (lifetime expiry, restart) loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from parley.client.errors import ParleyError
from parley.client.items import CHAT_ENDED, LEFT, Item
from parley.client.log import ItemLog

SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
HEARTBEAT = '{"topic":"aws/heartbeat"}'
# How long the server may take to open a socket and confirm the subscription.
OPEN_TIMEOUT = 10.0
# Pauses between failed reconnects: the first, and the cap of the doubling.
FIRST_PAUSE = 0.1
MAX_PAUSE = 5.0
# A socket closed sooner than this after opening is reopened only after a pause, so a server that keeps
# closing sockets at once is not hammered.
SHORT_SESSION = 1.0

OpenSocket = Callable[[], Awaitable[str]]
CatchUp = Callable[[str | None], Awaitable[list[Item]]]


class Stream:
    """Feeds an :class:`ItemLog` from successive sockets until the chat ends for this participant.

    ``open_socket`` calls CreateParticipantConnection and returns a fresh WebSocket URL; ``catch_up(cursor)``
    returns the transcript from ``cursor`` on (from the start when None), oldest first.
    """

    def __init__(self, log: ItemLog, open_socket: OpenSocket, catch_up: CatchUp, *, heartbeat: float,
                 reconnect_timeout: float, participant_id: str | None = None) -> None:
        self.log = log
        self.open_socket = open_socket
        self.catch_up = catch_up
        self.heartbeat = heartbeat
        self.reconnect_timeout = reconnect_timeout
        self.participant_id = participant_id
        self.ready = asyncio.Event()
        self.left = False
        self.sockets = 0

    async def run(self, url: str | None) -> None:
        """Keep a subscribed socket until the stream ends; errors end the log rather than escape."""
        failing_since: float | None = None
        pause = FIRST_PAUSE
        try:
            while not self.log.ended:
                opened = time.monotonic()
                try:
                    if url is None:
                        url = await self.open_socket()
                    await self._session(url)
                    failing_since = None
                except ParleyError as exc:
                    if exc.code == "AccessDeniedException" and self.ready.is_set():
                        await self._last_catch_up()  # the chat ended or we left while no socket was open
                        self.log.end()
                        return
                    if exc.status not in (0, 429) and exc.status < 500:
                        raise
                    failing_since = self._failed(exc, failing_since)
                except (OSError, WebSocketException, httpx.TransportError, TimeoutError) as exc:
                    failing_since = self._failed(exc, failing_since)
                url = None
                if self.left and not self.log.ended:
                    self.log.end()
                if self.log.ended:
                    return
                if failing_since is None and time.monotonic() - opened > SHORT_SESSION:
                    pause = FIRST_PAUSE  # a socket that lived normally is replaced at once
                    continue
                await asyncio.sleep(pause)  # failed, or closed right away: back off rather than spin
                pause = min(pause * 2, MAX_PAUSE)
        except asyncio.CancelledError:
            self.log.end()
            raise
        except Exception as exc:
            self.log.end(exc)

    def _failed(self, exc: BaseException, failing_since: float | None) -> float:
        """Note a failed attempt; give up (re-raise) before the first success or after ``reconnect_timeout``."""
        now = time.monotonic()
        if not self.ready.is_set() or (failing_since is not None and now - failing_since > self.reconnect_timeout):
            raise exc
        return now if failing_since is None else failing_since

    async def _last_catch_up(self) -> None:
        with contextlib.suppress(ParleyError, httpx.TransportError):
            for item in await self.catch_up(self.log.cursor):
                self._accept(item)

    async def _session(self, url: str) -> None:
        async with connect(url, open_timeout=OPEN_TIMEOUT, max_size=None) as ws:
            self.sockets += 1
            await ws.send(SUBSCRIBE)
            early = await asyncio.wait_for(self._subscribed(ws), OPEN_TIMEOUT)
            # Items committed while no socket was subscribed are in the transcript; frames that arrived
            # meanwhile are newer than it or duplicates, so they follow.
            for item in await self.catch_up(self.log.cursor):
                self._accept(item)
            for item in early:
                self._accept(item)
            self.ready.set()
            if self.log.ended:
                return
            beat = asyncio.get_running_loop().create_task(self._beat(ws))
            try:
                async for raw in ws:
                    pushed = _chat_item(raw)
                    if pushed is not None:
                        self._accept(pushed)
                        if self.log.ended:
                            return
            except ConnectionClosed:
                pass
            finally:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat

    async def _subscribed(self, ws: ClientConnection) -> list[Item]:
        early: list[Item] = []
        while True:
            raw = await ws.recv()
            frame = _frame(raw)
            if frame.get("topic") == "aws/subscribe":
                content = frame.get("content")
                status = content.get("status") if isinstance(content, dict) else None
                if status != "success":
                    raise ParleyError("SubscriptionFailed", f"aws/subscribe was refused: {frame!r}", 0)
                return early
            item = _chat_item(raw)
            if item is not None:
                early.append(item)

    async def _beat(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(self.heartbeat)
                await ws.send(HEARTBEAT)

    def _accept(self, item: Item) -> None:
        if not self.log.add(item):
            return
        content_type = item.get("ContentType")
        if content_type == CHAT_ENDED:
            self.log.end()
        elif content_type == LEFT and self.participant_id and item.get("ParticipantId") == self.participant_id:
            # We left (or were removed): the server closes the socket shortly, after a chat.ended committed with
            # our participant.left; the stream ends then instead of reconnecting.
            self.left = True


def _frame(raw: str | bytes) -> dict[str, object]:
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return frame if isinstance(frame, dict) else {}


def _chat_item(raw: str | bytes) -> Item | None:
    """The item of an ``aws/chat`` frame (its content is the item as a JSON string), else None."""
    frame = _frame(raw)
    if frame.get("topic") != "aws/chat":
        return None
    content = frame.get("content")
    try:
        item = orjson.loads(content) if isinstance(content, str | bytes) else content
    except orjson.JSONDecodeError:
        return None
    return item if isinstance(item, dict) else None

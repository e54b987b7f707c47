"""The participant WebSocket: ``aws/subscribe``, ``aws/heartbeat``, ``aws/ping`` and pushed ``aws/chat``.

A participant holds at most 5 sockets, counted from accept to close on every node (``SocketSlots``); a socket
that has not subscribed within the subscribe timeout is closed. Frame sizes and rates are held by the protocol
(:mod:`parley.web.wsprotocol`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

import orjson
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from parley.domain.errors import AccessDenied
from parley.service.chat import ChatService
from parley.service.frames import text_frame
from parley.service.ports import Feeds, SocketSlots
from parley.web.wslimits import CLOSE_POLICY
from parley.web.wsprotocol import DirectFrames, direct_frames

log = logging.getLogger(__name__)

# How many frames may wait for a slow socket before it is closed (the client reconnects and reloads).
SOCKET_QUEUE = 1000
# Connect's limit: at most 5 open websocket connections per chat participant.
MAX_SOCKETS_PER_PARTICIPANT = 5
# How long a socket may stay open without aws/subscribe (the default of Config.websocket_subscribe_timeout):
# ChatJS subscribes as soon as the socket opens and retries every 500 ms, so 30 s is only ever reached by a
# client that holds a slot without listening.
SUBSCRIBE_TIMEOUT_SECONDS = 30.0
# RFC 6455 "internal error": the slot count could not be reached (the bus is down); the client reconnects.
CLOSE_UNAVAILABLE = 1011
CHAT_TOPIC = "aws/chat"


class Subscriber:
    """One socket's outbound side: frames go out in the order they were pushed.

    Where the server offers :class:`~parley.web.wsprotocol.DirectFrames` and nothing is waiting, a pushed
    frame is written to the connection there and then: no task, no coroutine, the message's frame encoded once
    for all its sockets. Otherwise frames wait in a deque and one writer task, started when the first one
    waits, writes them in order through the direct writer (once the transport takes bytes again) or the ASGI
    ``send``. An idle socket has no task at all.
    """

    def __init__(self, participant_id: str, chat_id: str, send: Callable[[str], Awaitable[None]],
                 close: Callable[[int], Awaitable[None]], direct: DirectFrames | None = None) -> None:
        self.participant_id = participant_id
        self.chat_id = chat_id
        self._send = send
        self._close = close
        self._direct = direct
        # Frames not written yet (text, and the encoded frame when the pusher had it); None asks for the close.
        self._frames: deque[tuple[str, bytes | None] | None] = deque()
        self._task: asyncio.Task[None] | None = None
        self._empty: asyncio.Event | None = None
        self.closed = False
        self.close_code = 1000

    def push(self, frame: str, wire: bytes | None = None) -> None:
        """Send ``frame``; ``wire`` is the same frame already encoded by :func:`text_frame`, if the caller has it."""
        if self.closed:
            return
        if not self._frames:
            direct = self._direct
            if direct is not None and direct.ready():
                direct.write(wire if wire is not None else text_frame(frame))
                return
        elif len(self._frames) >= SOCKET_QUEUE:
            log.warning("socket of participant %s is too slow; closing it", self.participant_id)
            self.finish()
            return
        self._queue((frame, wire))

    def finish(self, code: int = 1000) -> None:
        """Close after everything pushed so far has been written."""
        self.close_code = code
        if not self.closed:
            self.closed = True
            self._queue(None)

    def _queue(self, frame: tuple[str, bytes | None] | None) -> None:
        self._frames.append(frame)
        if self._empty is not None:
            self._empty.clear()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._writer())

    async def _writer(self) -> None:
        frames = self._frames
        try:
            while frames:
                frame = frames[0]  # stays queued while it is written, so a push meanwhile queues behind it
                if frame is None:
                    frames.clear()
                    self._drained()
                    await self._close(self.close_code)
                    return
                await self._write(*frame)
                frames.popleft()
            self._drained()
        except Exception:  # the peer went away; the reader side cleans up
            self.closed = True
            frames.clear()
            self._drained()
        finally:
            self._task = None

    async def _write(self, text: str, wire: bytes | None) -> None:
        direct = self._direct
        if direct is not None:
            await direct.writable()
            if direct.ready():
                direct.write(wire if wire is not None else text_frame(text))
                return
        await self._send(text)  # not open any more: the ASGI send says how (an error, or nothing to do)

    def _drained(self) -> None:
        if self._empty is not None:
            self._empty.set()

    async def drained(self, timeout: float) -> None:
        """Wait (up to ``timeout``) until every frame pushed so far has been written."""
        if self._task is not None and self._frames:
            if self._empty is None:
                self._empty = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._empty.wait(), timeout)

    async def stop(self) -> None:
        self.closed = True
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class ParticipantSocket:
    """The participant websocket endpoint (served by :class:`parley.web.front.FrontDoor`)."""

    def __init__(self, chat: ChatService, hub: Feeds, slots: SocketSlots, lifetime_seconds: float,
                 subscribe_timeout: float = SUBSCRIBE_TIMEOUT_SECONDS) -> None:
        self.chat = chat
        self.hub = hub
        self.slots = slots
        self.lifetime_seconds = lifetime_seconds
        self.subscribe_timeout = subscribe_timeout

    async def serve(self, websocket: WebSocket, send: Send) -> None:
        """Serve one connection; ``websocket`` accepts, reads and closes, frames go out through the ASGI ``send``
        itself (one call each, no wrappers: six frames per message in a six-party chat)."""
        try:
            caller = await self.chat.resolve_websocket(websocket.query_params.get("ticket"))
        except AccessDenied:
            await websocket.close(code=1008, reason="Forbidden")
            return
        participant = caller.participant
        await websocket.accept()
        holder = uuid.uuid4().hex
        try:
            taken = await self.slots.acquire(participant.id, holder, MAX_SOCKETS_PER_PARTICIPANT)
        except Exception as exc:
            log.warning("participant websocket refused: the socket slots cannot be counted: %s", exc)
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_UNAVAILABLE, reason="Try again")
            return
        if not taken:
            log.info("participant %s already holds %d websockets; refusing another", participant.id,
                     MAX_SOCKETS_PER_PARTICIPANT)
            with contextlib.suppress(Exception):
                await self._send(websocket, {"message": f"A participant may hold at most "
                                             f"{MAX_SOCKETS_PER_PARTICIPANT} open websocket connections."})
                await websocket.close(code=CLOSE_POLICY, reason="Too many connections")
            return
        try:
            await self._serve(websocket, send, participant.id, caller.chat.id)
        finally:
            try:
                await self.slots.release(participant.id, holder)
            except Exception as exc:  # it lapses by itself once this node stops refreshing it
                log.warning("could not release a websocket slot of participant %s: %s", participant.id, exc)

    async def _serve(self, websocket: WebSocket, send: Send, participant_id: str, chat_id: str) -> None:
        """Serve an accepted socket that holds one of its participant's slots."""

        async def write(frame: str) -> None:
            await send({"type": "websocket.send", "text": frame})

        async def close(code: int) -> None:
            with contextlib.suppress(Exception):
                await websocket.close(code=code)

        subscriber = Subscriber(participant_id, chat_id, write, close, direct_frames(websocket.scope))
        loop = asyncio.get_running_loop()
        # Like Connect's websockets, a connection lives for a bounded time; clients reconnect and catch up.
        expiry = loop.call_later(self.lifetime_seconds, subscriber.finish, 1001)

        def unsubscribed_too_long() -> None:
            log.warning("closing a websocket of participant %s with %d: no aws/subscribe within %g s",
                        participant_id, CLOSE_POLICY, self.subscribe_timeout)
            subscriber.finish(CLOSE_POLICY)

        # A socket holds a slot from accept: one that never subscribes must not hold it for its whole lifetime.
        deadline: asyncio.TimerHandle | None = loop.call_later(self.subscribe_timeout, unsubscribed_too_long)
        subscribed = False
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    raise WebSocketDisconnect(message.get("code", 1000))
                text = message.get("text") or message.get("bytes") or b""  # binary frames get the same answers
                try:
                    frame = orjson.loads(text)
                    topic = frame.get("topic") if isinstance(frame, dict) else None
                except orjson.JSONDecodeError:
                    topic = None
                if topic == "aws/heartbeat":
                    subscriber.push('{"topic":"aws/heartbeat"}')
                elif topic == "aws/ping":
                    subscriber.push('{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}')
                elif topic in ("aws/subscribe", "aws/unsubscribe"):
                    topics = _topics(frame)
                    if not topics or any(t != CHAT_TOPIC for t in topics):
                        subscriber.push(orjson.dumps({"topic": topic, "content": {
                            "status": "failure", "topics": topics or [],
                            "message": f'Send {{"topics": ["{CHAT_TOPIC}"]}}: only {CHAT_TOPIC} can be '
                                       "subscribed to."}}).decode())
                        continue
                    subscriber.push(orjson.dumps({"topic": topic, "content": {
                        "status": "success", "topics": topics}}).decode())
                    if topic == "aws/subscribe" and not subscribed:
                        subscribed = True
                        if deadline is not None:
                            deadline.cancel()
                            deadline = None
                        await self.hub.add(subscriber)
                    elif topic == "aws/unsubscribe" and subscribed:
                        subscribed = False
                        self.hub.remove(subscriber)
                        deadline = loop.call_later(self.subscribe_timeout, unsubscribed_too_long)
                else:
                    subscriber.push(orjson.dumps({"message": "Unknown or malformed frame: send JSON with a topic "
                                                  "of aws/subscribe, aws/heartbeat or aws/ping."}).decode())
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("participant websocket failed")
        finally:
            expiry.cancel()
            if deadline is not None:
                deadline.cancel()
            self.hub.remove(subscriber)
            await subscriber.stop()

    async def _send(self, websocket: WebSocket, frame: dict[str, object]) -> None:
        await websocket.send_text(orjson.dumps(frame).decode())


def _topics(frame: dict[str, object]) -> list[object] | None:
    """The ``content.topics`` list of a subscribe frame, or None when the frame does not have one."""
    content = frame.get("content")
    topics = content.get("topics") if isinstance(content, dict) else None
    return topics if isinstance(topics, list) else None

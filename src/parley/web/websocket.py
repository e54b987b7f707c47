"""The participant WebSocket, and every socket's outbound side (:class:`Subscriber`).

The protocol (``aws/subscribe``, ``aws/heartbeat``, ``aws/ping``, the subscribe timeout) is the one both sockets
speak (:mod:`parley.web.socket_protocol`); what is the participant socket's own is here: its ticket, the cap of 5
sockets per participant, counted from accept to close on every node (``SocketSlots``), and subscribing to its
chat's feed. Frame sizes and rates are held by the server protocol (:mod:`parley.web.server.wsprotocol`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.types import Send
from starlette.websockets import WebSocket

from parley.domain.errors import AccessDenied
from parley.service.chat import ChatService
from parley.service.ports import Feeds, SocketSlots
from parley.web.server.wsprotocol import DirectFrames, direct_frames
from parley.web.socket_protocol import SocketProtocol
from parley.web.wsframes import TextFrames
from parley.web.wslimits import CLOSE_POLICY

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
# The participant socket's answer to a frame it does not understand: it names what to send.
MALFORMED = ('{"message":"Unknown or malformed frame: send JSON with a topic of aws/subscribe, aws/heartbeat or '
             'aws/ping."}')
# What the socket over the cap is told before it is closed.
TOO_MANY_SOCKETS = (f'{{"message":"A participant may hold at most {MAX_SOCKETS_PER_PARTICIPANT} open websocket '
                    'connections."}')


class Subscriber:
    """One socket's outbound side: frames go out in the order they were pushed.

    Where the server offers :class:`~parley.web.server.wsprotocol.DirectFrames` and nothing is waiting, a pushed
    frame is written to the connection there and then: no task, no coroutine, and the message's frame bytes
    encoded once for all its sockets (``frames``, shared by the node's sockets). Otherwise frames wait in a
    deque and one writer task, started when the first one waits, writes them in order through the direct writer
    (once the transport takes bytes again) or the ASGI ``send``. An idle socket has no task at all.
    """

    def __init__(self, participant_id: str, chat_id: str, send: Callable[[str], Awaitable[None]],
                 close: Callable[[int], Awaitable[None]], direct: DirectFrames | None = None,
                 frames: TextFrames | None = None) -> None:
        self.participant_id = participant_id
        self.chat_id = chat_id
        self._send = send
        self._close = close
        self._direct = direct
        self._encoder = frames or TextFrames()
        # Frames not written yet (their text); None asks for the close.
        self._frames: deque[str | None] = deque()
        self._task: asyncio.Task[None] | None = None
        self._empty: asyncio.Event | None = None
        self.closed = False
        self.close_code = 1000

    def push(self, frame: str) -> None:
        """Send the text ``frame``."""
        if self.closed:
            return
        if not self._frames:
            direct = self._direct
            if direct is not None and direct.ready():
                memo = self._encoder  # TextFrames.encode's test, inlined: five of a message's six pushes hit it
                direct.write(memo.frame if frame is memo.text else memo.encode(frame))
                return
        elif len(self._frames) >= SOCKET_QUEUE:
            log.warning("socket of participant %s is too slow; closing it", self.participant_id)
            self.finish()
            return
        self._queue(frame)

    def finish(self, code: int = 1000) -> None:
        """Close after everything pushed so far has been written."""
        self.close_code = code
        if not self.closed:
            self.closed = True
            self._queue(None)

    def _queue(self, frame: str | None) -> None:
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
                await self._write(frame)
                frames.popleft()
            self._drained()
        except Exception:  # the peer went away; the reader side cleans up
            self.closed = True
            frames.clear()
            self._drained()
        finally:
            self._task = None

    async def _write(self, text: str) -> None:
        direct = self._direct
        if direct is not None:
            await direct.writable()
            if direct.ready():
                direct.write(self._encoder.encode(text))
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


class ChatFeed:
    """What a participant socket's ``aws/subscribe`` attaches: its chat's feed on this node's hub."""

    def __init__(self, feeds: Feeds, subscriber: Subscriber) -> None:
        self.feeds = feeds
        self.subscriber = subscriber

    async def attach(self) -> None:
        await self.feeds.add(self.subscriber)

    def detach(self) -> None:
        self.feeds.remove(self.subscriber)

    async def close(self) -> None:
        self.detach()


class ParticipantSocket:
    """The participant websocket endpoint (served by :class:`parley.web.front.FrontDoor`)."""

    def __init__(self, chat: ChatService, hub: Feeds, slots: SocketSlots, lifetime_seconds: float,
                 subscribe_timeout: float = SUBSCRIBE_TIMEOUT_SECONDS, frames: TextFrames | None = None) -> None:
        self.chat = chat
        self.hub = hub
        self.slots = slots
        self.frames = frames or TextFrames()
        self.protocol = SocketProtocol("participant", MALFORMED, lifetime_seconds, subscribe_timeout,
                                       only_chat=True)

    async def serve(self, websocket: WebSocket, send: Send) -> None:
        """Serve one connection; ``websocket`` accepts, reads and closes, frames go out through the ASGI ``send``
        itself (one call each, no wrappers: six frames per message in a six-party chat)."""
        try:
            caller = await self.chat.resolve_websocket(websocket.query_params.get("ticket"))
        except AccessDenied:
            await websocket.close(code=1008, reason="Forbidden")
            return
        participant_id = caller.participant.id
        await websocket.accept()
        holder = uuid.uuid4().hex
        if not await self._take_slot(websocket, participant_id, holder):
            return
        try:
            await self._serve(websocket, send, participant_id, caller.chat.id)
        finally:
            try:
                await self.slots.release(participant_id, holder)
            except Exception as exc:  # it lapses by itself once this node stops refreshing it
                log.warning("could not release a websocket slot of participant %s: %s", participant_id, exc)

    async def _take_slot(self, websocket: WebSocket, participant_id: str, holder: str) -> bool:
        """Take one of the participant's socket slots for ``holder``; when none is free (or they cannot be
        counted), say so and close the socket, and return False."""
        try:
            taken = await self.slots.acquire(participant_id, holder, MAX_SOCKETS_PER_PARTICIPANT)
        except Exception as exc:
            log.warning("participant websocket refused: the socket slots cannot be counted: %s", exc)
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_UNAVAILABLE, reason="Try again")
            return False
        if not taken:
            log.info("participant %s already holds %d websockets; refusing another", participant_id,
                     MAX_SOCKETS_PER_PARTICIPANT)
            with contextlib.suppress(Exception):
                await websocket.send_text(TOO_MANY_SOCKETS)
                await websocket.close(code=CLOSE_POLICY, reason="Too many connections")
        return taken

    async def _serve(self, websocket: WebSocket, send: Send, participant_id: str, chat_id: str) -> None:
        """Serve an accepted socket that holds one of its participant's slots."""

        async def write(frame: str) -> None:
            await send({"type": "websocket.send", "text": frame})

        async def close(code: int) -> None:
            with contextlib.suppress(Exception):
                await websocket.close(code=code)

        subscriber = Subscriber(participant_id, chat_id, write, close, direct_frames(websocket.scope), self.frames)
        await self.protocol.serve(websocket, subscriber, ChatFeed(self.hub, subscriber))

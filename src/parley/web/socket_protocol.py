"""The protocol both websockets speak, written once: ``aws/subscribe`` and ``aws/unsubscribe`` of ``aws/chat``,
``aws/heartbeat``, ``aws/ping``, their answers, the answer to anything else, a socket's lifetime and its
subscribe timeout.

The participant socket (:mod:`parley.web.websocket`) and the agent socket (:mod:`parley.web.agent_socket`) differ
only in what is passed in: a :class:`SocketProtocol` (how the socket answers where the two differ, its lifetime,
its subscribe timeout) and an :class:`Attachment` (what subscribing to ``aws/chat`` attaches: the participant's
chat, or every chat the agent is connected to). Inbound limits (frame sizes, the frame budget, UTF-8) are held
below the app, by :mod:`parley.web.server.wsprotocol`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

import orjson
from starlette.websockets import WebSocket

from parley.web.wslimits import CLOSE_POLICY

log = logging.getLogger(__name__)

# The topics a client sends (reference/chatjs.md §2) and the one it can subscribe to.
SUBSCRIBE = "aws/subscribe"
UNSUBSCRIBE = "aws/unsubscribe"
HEARTBEAT = "aws/heartbeat"
PING = "aws/ping"
CHAT_TOPIC = "aws/chat"
# The answers to aws/heartbeat and aws/ping: fixed texts, as Connect sends them (ChatJS reads the topic, and the
# ping's statusCode).
HEARTBEAT_ANSWER = '{"topic":"aws/heartbeat"}'
PING_ANSWER = '{"topic":"aws/ping","statusCode":200,"statusContent":"OK"}'
# What a refused (un)subscribe is told, on a socket that takes aws/chat only.
ONLY_CHAT = f'Send {{"topics": ["{CHAT_TOPIC}"]}}: only {CHAT_TOPIC} can be subscribed to.'
# RFC 6455 "going away": the socket reached its lifetime; the client reconnects and catches up.
CLOSE_LIFETIME = 1001


class Outbound(Protocol):
    """A socket's outbound side (:class:`parley.web.websocket.Subscriber`)."""

    participant_id: str

    def push(self, frame: str) -> None: ...

    def finish(self, code: int = 1000) -> None: ...

    async def stop(self) -> None: ...


class Attachment(Protocol):
    """What subscribing to ``aws/chat`` attaches a socket to: the part that differs between the sockets."""

    async def attach(self) -> None:
        """The socket subscribed: deliver the chat (or chats) to it from now on."""
        ...

    def detach(self) -> None:
        """The socket unsubscribed: deliver nothing more until it subscribes again."""
        ...

    async def close(self) -> None:
        """The socket is gone: detach for good, and wait for anything still attaching."""
        ...


@dataclass(frozen=True)
class Request:
    """One frame from the client, as far as the protocol reads it."""

    topic: str | None  # the frame's "topic" (None when it has none, or the frame is not a JSON object)
    topics: list[object]  # the "content.topics" list of an (un)subscribe (empty when it has none)


def read_request(data: str | bytes) -> Request:
    """Read one frame's text (binary frames are read the same way, and get the same answers)."""
    try:
        frame = orjson.loads(data)
    except orjson.JSONDecodeError:
        return Request(None, [])
    if not isinstance(frame, dict):
        return Request(None, [])
    topic = frame.get("topic")
    content = frame.get("content")
    topics = content.get("topics") if isinstance(content, dict) else None
    return Request(topic if isinstance(topic, str) else None, topics if isinstance(topics, list) else [])


@dataclass(frozen=True)
class SocketProtocol:
    """The protocol of one kind of socket: the shared rules, and the few values in which the sockets differ."""

    name: str  # whose socket it is, for log lines ("participant", "agent")
    malformed: str  # the answer to a frame that is none of the four topics
    lifetime: float  # seconds until the socket is closed (1001), like Connect's sockets
    subscribe_timeout: float | None = None  # seconds an unsubscribed socket stays open (None: no limit)
    only_chat: bool = False  # refuse an (un)subscribe naming no topic, or any topic but aws/chat

    def answer(self, request: Request) -> tuple[str, str | None]:
        """The frame that answers ``request``, and the subscription change it asks for (:data:`SUBSCRIBE`,
        :data:`UNSUBSCRIBE`, or None)."""
        topic = request.topic
        if topic == HEARTBEAT:
            return HEARTBEAT_ANSWER, None
        if topic == PING:
            return PING_ANSWER, None
        if topic != SUBSCRIBE and topic != UNSUBSCRIBE:
            return self.malformed, None
        topics = request.topics
        if self.only_chat and (not topics or any(t != CHAT_TOPIC for t in topics)):
            return orjson.dumps({"topic": topic, "content": {"status": "failure", "topics": topics,
                                                             "message": ONLY_CHAT}}).decode(), None
        answer = orjson.dumps({"topic": topic, "content": {"status": "success", "topics": topics}}).decode()
        return answer, (topic if CHAT_TOPIC in topics else None)

    async def serve(self, websocket: WebSocket, out: Outbound, attachment: Attachment) -> None:
        """Answer an accepted socket's frames through ``out`` until it closes, attaching and detaching
        ``attachment`` as it subscribes and unsubscribes; then close ``attachment`` and stop ``out``."""
        loop = asyncio.get_running_loop()
        expiry = loop.call_later(self.lifetime, out.finish, CLOSE_LIFETIME)
        # A socket may hold a slot from accept: one that never subscribes must not hold it for its whole lifetime.
        deadline = self._deadline(out)
        subscribed = False
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                answer, change = self.answer(read_request(message.get("text") or message.get("bytes") or b""))
                out.push(answer)
                if change == SUBSCRIBE and not subscribed:
                    subscribed = True
                    if deadline is not None:
                        deadline.cancel()
                        deadline = None
                    await attachment.attach()
                elif change == UNSUBSCRIBE and subscribed:
                    subscribed = False
                    attachment.detach()
                    deadline = self._deadline(out)
        except Exception:
            log.exception("%s websocket failed", self.name)
        finally:
            expiry.cancel()
            if deadline is not None:
                deadline.cancel()
            await attachment.close()
            await out.stop()

    def _deadline(self, out: Outbound) -> asyncio.TimerHandle | None:
        """Close ``out`` unless it subscribes within the subscribe timeout (when the socket has one)."""
        timeout = self.subscribe_timeout
        if timeout is None:
            return None

        def unsubscribed_too_long() -> None:
            log.warning("closing a websocket of %s %s with %d: no aws/subscribe within %g s", self.name,
                        out.participant_id, CLOSE_POLICY, timeout)
            out.finish(CLOSE_POLICY)

        return asyncio.get_running_loop().call_later(timeout, unsubscribed_too_long)

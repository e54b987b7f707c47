"""The agent websocket (CTI ``CreateTransport`` web_socket): one socket carries ``aws/chat`` for every chat
the agent is connected to, following the agent as chats are accepted and left.

It speaks the protocol both sockets share (:mod:`parley.web.socket_protocol`); what is its own is here: its
ticket, and what subscribing to ``aws/chat`` attaches. Frame sizes and rates are held by the server protocol
(:mod:`parley.web.server.wsprotocol`), as on the participant socket. There is no subscribe timeout: StreamsJS's worker
opens this socket at sign-in and subscribes to nothing itself (pages subscribe ``aws/chat`` when they use chat),
so an unsubscribed agent socket is normal; it is bounded by its lifetime and costs no fan-out until it
subscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from starlette.websockets import WebSocket

from parley.domain.agents import AgentSession
from parley.service.agents import AgentService
from parley.service.auth import AuthService
from parley.service.ports import AgentSignals, Feeds
from parley.web.server.wsprotocol import direct_frames
from parley.web.socket_protocol import SocketProtocol
from parley.web.websocket import Subscriber
from parley.web.wsframes import TextFrames

log = logging.getLogger(__name__)

# What StreamsJS is told: the URL must be opened within 100 s; the socket lives an hour (StreamsJS needs >= 300 s).
TICKET_SECONDS = 100
LIFETIME_SECONDS = 3600
# The URL prefix Parley's CCP worker rewrites to ws://<its host>/ (see web/static/ccp/worker.js).
INSECURE_MARKER = "wss://parley-insecure.invalid/"
# How long the socket waits for a poke before re-reading the agent's chats anyway.
RESYNC_SECONDS = 30.0
# How the agent socket speaks the shared protocol: it answers success to any (un)subscribe (only aws/chat attaches
# anything), answers a frame it does not understand briefly, has no subscribe timeout (see above), and lives a
# minute longer than StreamsJS is told, so that StreamsJS is the one to reconnect.
PROTOCOL = SocketProtocol("agent", '{"message":"Unknown or malformed frame."}', LIFETIME_SECONDS + 60)


class ChatSink:
    """The agent socket's view of one chat, as the hub sees it; finishing it only detaches that chat."""

    def __init__(self, socket: Subscriber, chat_id: str, participant_id: str, feeds: Feeds) -> None:
        self.socket = socket
        self.chat_id = chat_id
        self.participant_id = participant_id
        self.feeds = feeds

    def push(self, frame: str) -> None:
        self.socket.push(frame)

    def finish(self, code: int = 1000) -> None:
        self.feeds.remove(self)

    async def drained(self, timeout: float) -> None:
        await self.socket.drained(timeout)


class AgentSockets:
    def __init__(self, auth: AuthService, agents: AgentService, feeds: Feeds, signals: AgentSignals,
                 websocket_base: str, frames: TextFrames | None = None) -> None:
        self.auth = auth
        self.agents = agents
        self.feeds = feeds
        self.signals = signals
        self.websocket_base = websocket_base
        self.frames = frames or TextFrames()

    async def ticket_url(self, who: AgentSession) -> tuple[str, int, datetime]:
        ticket, expires = await self.auth.issue_socket_ticket(who, TICKET_SECONDS)
        path = f"connect/agent-ws?ticket={ticket}"
        if self.websocket_base.startswith("ws://"):
            # StreamsJS accepts only wss:// URLs; Parley's CCP worker dials this one over ws:// on its own host.
            return f"{INSECURE_MARKER}{path}", LIFETIME_SECONDS, expires
        return f"{self.websocket_base}/{path}", LIFETIME_SECONDS, expires

    async def handle(self, websocket: WebSocket) -> None:
        who = await self.auth.socket_session(websocket.query_params.get("ticket"))
        if who is None:
            await websocket.close(code=1008, reason="Forbidden")
            return
        await websocket.accept()

        async def send(frame: str) -> None:
            await websocket.send_text(frame)

        async def close(code: int) -> None:
            with contextlib.suppress(Exception):
                await websocket.close(code=code)

        socket = Subscriber(who.user_id, "", send, close, direct_frames(websocket.scope), self.frames)
        await PROTOCOL.serve(websocket, socket, AgentChats(who, socket, self.agents, self.feeds, self.signals))


class AgentChats:
    """What an agent socket's ``aws/subscribe`` attaches: every chat the agent is connected to, followed as the
    agent accepts and leaves chats (a task that re-reads them on each poke of the agent)."""

    def __init__(self, who: AgentSession, socket: Subscriber, agents: AgentService, feeds: Feeds,
                 signals: AgentSignals) -> None:
        self.who = who
        self.socket = socket
        self.agents = agents
        self.feeds = feeds
        self.signals = signals
        self.sinks: dict[str, ChatSink] = {}
        self.follower: asyncio.Task[None] | None = None

    async def attach(self) -> None:
        if self.follower is None:
            self.follower = asyncio.get_running_loop().create_task(self._follow())

    def detach(self) -> None:
        if self.follower is not None:
            self.follower.cancel()
            self.follower = None
        self._detach_all()

    async def close(self) -> None:
        follower, self.follower = self.follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        self._detach_all()

    def _detach_all(self) -> None:
        for sink in self.sinks.values():
            self.feeds.remove(sink)
        self.sinks.clear()

    async def _follow(self) -> None:
        """Keep the socket attached to exactly the chats the agent is connected to."""
        who, sinks = self.who, self.sinks
        while True:
            seen = self.signals.mark(who.user_id)
            try:
                chats = await self.agents.chats_of(who)
                for chat_id in [c for c in sinks if c not in chats]:
                    self.feeds.remove(sinks.pop(chat_id))
                for chat_id, participant_id in chats.items():
                    if chat_id not in sinks:
                        sinks[chat_id] = ChatSink(self.socket, chat_id, participant_id, self.feeds)
                        await self.feeds.add(sinks[chat_id])
            except Exception:
                log.exception("agent websocket could not follow the agent's chats")
            await self.signals.wait(who.user_id, RESYNC_SECONDS, since=seen)

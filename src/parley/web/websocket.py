"""The participant WebSocket: ``aws/subscribe``, ``aws/heartbeat``, ``aws/ping`` and pushed ``aws/chat``."""

from __future__ import annotations

import contextlib
import logging

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from parley.domain.errors import AccessDenied
from parley.fanout.hub import Hub, Subscriber
from parley.service.chat import ChatService

log = logging.getLogger(__name__)

# Connect's limit: at most 5 open websocket connections per chat participant.
MAX_SOCKETS_PER_PARTICIPANT = 5
CHAT_TOPIC = "aws/chat"


class ParticipantSocket:
    """The Starlette websocket endpoint."""

    def __init__(self, chat: ChatService, hub: Hub) -> None:
        self.chat = chat
        self.hub = hub

    async def handle(self, websocket: WebSocket) -> None:
        try:
            caller = await self.chat.resolve_websocket(websocket.query_params.get("ticket"))
        except AccessDenied:
            await websocket.close(code=1008, reason="Forbidden")
            return
        participant = caller.participant
        await websocket.accept()
        if self.hub.count(participant.id, caller.chat.id) >= MAX_SOCKETS_PER_PARTICIPANT:
            await self._send(websocket, {"message": f"A participant may hold at most {MAX_SOCKETS_PER_PARTICIPANT} "
                                                    "open websocket connections."})
            await websocket.close(code=1008, reason="Too many connections")
            return

        async def send(frame: str) -> None:
            await websocket.send_text(frame)

        async def close(code: int) -> None:
            with contextlib.suppress(Exception):
                await websocket.close(code=code)

        subscriber = Subscriber(participant.id, caller.chat.id, send, close)
        subscribed = False
        try:
            while True:
                text = await websocket.receive_text()
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
                    topics = (frame.get("content") or {}).get("topics") or []
                    if not isinstance(topics, list) or any(t != CHAT_TOPIC for t in topics):
                        subscriber.push(orjson.dumps({"topic": topic, "content": {
                            "status": "failure", "topics": topics if isinstance(topics, list) else [],
                            "message": f"Only {CHAT_TOPIC} can be subscribed to."}}).decode())
                        continue
                    subscriber.push(orjson.dumps({"topic": topic, "content": {
                        "status": "success", "topics": topics}}).decode())
                    if topic == "aws/subscribe" and not subscribed:
                        subscribed = True
                        await self.hub.add(subscriber)
                    elif topic == "aws/unsubscribe" and subscribed:
                        subscribed = False
                        self.hub.remove(subscriber)
                else:
                    subscriber.push(orjson.dumps({"message": "Unknown or malformed frame: send JSON with a topic "
                                                  "of aws/subscribe, aws/heartbeat or aws/ping."}).decode())
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("participant websocket failed")
        finally:
            self.hub.remove(subscriber)
            await subscriber.stop()

    async def _send(self, websocket: WebSocket, frame: dict[str, object]) -> None:
        await websocket.send_text(orjson.dumps(frame).decode())

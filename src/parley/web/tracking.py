"""The first thing every request passes through: its request id, and the count of open websockets.

Every HTTP response carries ``x-amzn-RequestId`` (the header Amazon Connect's services answer with): the Connect
API and the Participant Service write it themselves (:class:`parley.aws.restjson.RestJsonApi` takes the id this
gives the request, from the scope), every other response gets it added here. The same id is the request's
:data:`REQUEST_ID` while it runs, so every log line written on its behalf carries it (``--log-format json``).

Websockets are counted by kind (participant, agent) from their accept until their handler ends, and each close
by its code: the one the server sent, else the one the client sent, else 1006 (the connection dropped). The frames
a socket pushes to its client go past this (straight to the transport, :mod:`parley.web.server.wsprotocol`), so this
costs nothing per frame pushed.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.aws.restjson import REQUEST_ID_KEY
from parley.domain.ids import new_request_id
from parley.service.telemetry import Telemetry

# The id of the request the running code serves (None outside requests). A context variable is per task: each
# request's task sees its own value, and tasks it starts inherit it.
REQUEST_ID: ContextVar[str | None] = ContextVar("parley_request_id", default=None)
HEADER = b"x-amzn-requestid"
# Websocket paths by the kind counted; any other path counts as "other".
SOCKET_KINDS = {"/participant/ws": "participant", "/connect/agent-ws": "agent"}
# The close code counted when neither side sent a close frame before the handler ended (RFC 6455: abnormal).
NO_CLOSE_FRAME = 1006


class Tracking:
    """Wraps the ASGI app (see the module's docstring)."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # HTTP requests are served inline here: one coroutine less on the hot path
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        token = REQUEST_ID.set(request_id)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                if not any(name.lower() == HEADER for name, _ in headers):
                    message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            REQUEST_ID.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        socket_kind = SOCKET_KINDS.get(scope.get("path", ""), "other")
        telemetry = self.telemetry
        opened = False
        code: int | None = None

        async def sending(message: Message) -> None:
            nonlocal opened, code
            kind = message["type"]
            if kind == "websocket.accept":
                await send(message)
                if not opened:
                    opened = True
                    telemetry.socket_opened(socket_kind)
                return
            if kind == "websocket.close" and code is None:
                code = int(message.get("code", 1000))
            await send(message)

        async def receiving() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = int(message.get("code", 1005))
            return message

        try:
            await self.app(scope, receiving, sending)
        finally:
            REQUEST_ID.reset(token)
            telemetry.socket_ended(socket_kind, opened, NO_CLOSE_FRAME if code is None else code)

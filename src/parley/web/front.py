"""The ASGI app uvicorn serves: the Participant Service's hot paths go straight to their handlers.

Every SendMessage and every frame pushed to a participant's websocket would otherwise pass through Starlette's
error and exception middleware (each outgoing message through two wrapping ``send`` functions) and its route
matching: about a tenth of the server's CPU at saturation. The Participant Service API and the participant
websocket need none of it (the API turns every error into an AWS-style answer itself, the websocket handler
catches its own), so :class:`FrontDoor` hands them their requests directly and everything else to the
Starlette app with its routes. While the server is saturated, :class:`parley.web.admission.Admission` refuses
Participant Service operations with 429 ThrottlingException before their bodies are read: in the HTTP protocol
as soon as the head is parsed (:class:`parley.web.admission.EarlyRefusal`), or here for a request the protocol
did not decide (another ASGI server runs the app).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from parley.aws.participant.api import ParticipantApi
from parley.web.admission import ATTACHMENT_FILES, DECIDED, PARTICIPANT_PREFIX, Admission, sheds, throttled
from parley.web.server.httpprotocol import direct_response
from parley.web.websocket import ParticipantSocket

log = logging.getLogger(__name__)

PARTICIPANT_SOCKET = "/participant/ws"
# ATTACHMENT_FILES, under PARTICIPANT_PREFIX, are served by the Starlette app: file downloads and uploads.


class FrontDoor:
    """Dispatches ``/participant/*`` operations and the participant websocket; the rest goes to ``app``."""

    def __init__(self, app: ASGIApp, participant_api: ParticipantApi, participant_socket: ParticipantSocket,
                 admission: Admission | None = None) -> None:
        self.app = app
        self.participant_api = participant_api
        self.participant_socket = participant_socket
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith(PARTICIPANT_PREFIX):
            kind = scope["type"]
            if kind == "http" and not path.startswith(ATTACHMENT_FILES):
                await self._operation(scope, receive, send)
                return
            if kind == "websocket" and path == PARTICIPANT_SOCKET:
                await self.participant_socket.serve(WebSocket(scope, receive, send), send)
                return
        await self.app(scope, receive, send)

    async def _operation(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        whole = direct_response(scope)
        admission = self.admission
        if (admission is not None and DECIDED not in scope and sheds(scope["method"], scope["path"])
                and not admission.admit()):
            await throttled().send(send, whole)  # the body is never read: nothing was looked up or changed
            return
        try:
            await self.participant_api.serve(Request(scope, receive), sending, whole)
        except Exception:  # the API answers every error itself; this is the last line, like Starlette's
            log.exception("Participant Service request failed")
            if not started and (whole is None or whole.ready()):
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)

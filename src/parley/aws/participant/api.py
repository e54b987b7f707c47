"""Builds the Participant Service endpoint from botocore's ``connectparticipant`` model, with CORS."""

from __future__ import annotations

from botocore.model import OperationModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from parley.aws.bodies import PARTICIPANT_BODY_LIMIT
from parley.aws.errors import AwsError
from parley.aws.model import Service
from parley.aws.restjson import PARTICIPANT, Limiter, RestJsonApi, WholeResponse, collect_handlers
from parley.service.credentials import DENIED

# What browsers may send and read cross-origin (ChatJS's preflight asks for exactly these headers).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, OPTIONS",
    "Access-Control-Allow-Headers": "authorization, content-type, x-amz-bearer, x-amz-content-sha256, "
                                    "x-amz-date, x-amz-user-agent, x-amz-security-token, amz-sdk-invocation-id, "
                                    "amz-sdk-request",
    "Access-Control-Expose-Headers": "x-amzn-requestid, x-amzn-errortype",
    "Access-Control-Max-Age": "600",
}


async def bearer(request: Request, _body: bytes, _op: OperationModel) -> str:
    """The Participant Service authenticates by ``X-Amz-Bearer`` only; any SigV4 header is ignored."""
    token = request.headers.get("x-amz-bearer")
    if not token:
        raise AwsError("AccessDeniedException", DENIED, 403)  # the same answer as for any bad token
    return token


class ParticipantApi:
    """The Participant Service's operations, answered on one path: :meth:`serve`, called by the front door for
    ``/participant/*`` (:class:`parley.web.front.FrontDoor`) and, as an ASGI app, by the routes that share the
    prefix with the attachment files."""

    def __init__(self, api: RestJsonApi[str]) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.serve(Request(scope, receive), send)

    async def serve(self, request: Request, send: Send, whole: WholeResponse | None = None) -> None:
        """Answer ``request`` through the ASGI ``send`` (or ``whole``) directly, no Response object for the
        operations."""
        if request.method == "OPTIONS":
            await Response(status_code=204, headers=CORS_HEADERS)(request.scope, request.receive, send)
            return
        await (await self.api.answer(request)).send(send, whole)


def build_participant_api(service: Service, *handlers: object, limiter: Limiter | None = None) -> ParticipantApi:
    api = RestJsonApi(service, collect_handlers(service, *handlers), bearer, PARTICIPANT,
                      label="Participant Service", limiter=limiter, headers=CORS_HEADERS,
                      body_limit=PARTICIPANT_BODY_LIMIT)
    return ParticipantApi(api)

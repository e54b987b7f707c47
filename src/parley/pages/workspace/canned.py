"""``/agent/canned``: the workspace's canned responses, for the agent signed in with the CCP's session cookie.

``GET`` answers the instance's list and the agent's own (``{"shared": [...], "own": [...]}``); ``POST`` a JSON
``{"name", "text"}`` adds one to the agent's own list; ``DELETE /agent/canned/<id>`` removes one of the agent's.
Writes need the page's CSRF token in ``X-CSRF-Token`` (:mod:`parley.pages.csrf`). Every rule is the service's
(:class:`parley.service.canned.CannedResponseService`); refusals answer ``{"message"}`` with the service's words.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from parley.domain.callers import Member
from parley.domain.canned import CannedResponse
from parley.domain.errors import AccessDenied, DomainError, Duplicate, LimitExceeded, NotFound
from parley.pages.csrf import Csrf
from parley.service.auth import AuthService
from parley.service.canned import CannedResponseService

# A name and a text of the longest allowed, as JSON with every character escaped, fit well under this.
MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}
SIGNED_OUT = "You are signed out. Sign in again to use canned responses."
BAD_CSRF = "This page is out of date (its security token did not match). Reload the page and try again."
STATUS = {NotFound: 404, Duplicate: 409, LimitExceeded: 409, AccessDenied: 403}


def _message(text: str, status: int) -> JSONResponse:
    return JSONResponse({"message": text}, status, NO_STORE)


def _view(response: CannedResponse) -> dict[str, Any]:
    return {"id": response.id, "name": response.name, "text": response.text, "shared": response.shared}


class CannedApi:
    def __init__(self, canned: CannedResponseService, auth: AuthService, csrf: Csrf, *, session_cookie: str) -> None:
        self.canned = canned
        self.auth = auth
        self.csrf = csrf
        self.session_cookie = session_cookie

    def routes(self) -> list[Route]:
        return [Route("/agent/canned", self.collection, methods=["GET", "POST"]),
                Route("/agent/canned/{response_id}", self.one, methods=["DELETE"])]

    async def _member(self, request: Request) -> Member | None:
        token = request.cookies.get(self.session_cookie, "")
        return await self.auth.member(token) if token else None

    async def collection(self, request: Request) -> Response:
        member = await self._member(request)
        if member is None:
            return _message(SIGNED_OUT, 401)
        try:
            if request.method == "GET":
                found = await self.canned.for_agent(member)
                return JSONResponse({"shared": [_view(r) for r in found.shared], "own": [_view(r) for r in found.own]},
                                    200, NO_STORE)
            if not self.csrf.check(request, None):
                return _message(BAD_CSRF, 403)
            body = await _json_body(request)
            name, text = body.get("name"), body.get("text")
            if not isinstance(name, str) or not isinstance(text, str):
                return _message("Send the canned response as JSON with a \"name\" and a \"text\", both text.", 400)
            created = await self.canned.create(member, member.instance_id, name, text, owner_user_id=member.user.id)
            return JSONResponse(_view(created), 201, NO_STORE)
        except BodyRefused as refused:
            return _message(refused.message, refused.status)
        except DomainError as exc:
            return _message(exc.message, STATUS.get(type(exc), 400))

    async def one(self, request: Request) -> Response:
        member = await self._member(request)
        if member is None:
            return _message(SIGNED_OUT, 401)
        if not self.csrf.check(request, None):
            return _message(BAD_CSRF, 403)
        try:
            await self.canned.delete(member, request.path_params["response_id"])
        except DomainError as exc:
            return _message(exc.message, STATUS.get(type(exc), 400))
        return Response(status_code=204, headers=NO_STORE)


class BodyRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, of bounded size."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise BodyRefused("Send the canned response as application/json.", 415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyRefused("This canned response is too large.", 413)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BodyRefused("The request's body is not valid JSON.", 400) from None
    if not isinstance(data, dict):
        raise BodyRefused("Send the canned response as a JSON object.", 400)
    return data

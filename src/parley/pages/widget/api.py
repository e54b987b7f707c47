"""The widget's JSON endpoints for browsers (CORS, no SigV4): read a widget's settings, start a chat through a widget
(Parley's own contract, and amazon-connect-chat-interface's "startChat" backend contract), and start chats from the
test chat page.

Routes (every answer ``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``, ``Vary: Origin``; errors
``{"Code", "Message"}``):

- ``GET /widget/{id}/config``: the widget's look and whether it needs a token, for a page of an allowed origin.
- ``POST /widget/{id}/start`` ``{"DisplayName", "Attributes"?, "Token"?}``: a chat's participant credentials.
- ``POST /widget/{id}/start-chat``: the request amazon-connect-chat-interface's ``initiateChat`` posts to its
  ``apiGatewayEndpoint`` (``{"InstanceId", "ContactFlowId", "ParticipantDetails": {"DisplayName"}, "Attributes"?,
  "InitialMessage"?, "SupportedMessagingContentTypes"?, "ChatDurationInMinutes"?, ...}``), answered as the
  sample startChatContactAPI Lambda does: ``{"data": {"startChatResult": {...}, "featurePermissions": {...}}}``. The
  instance and flow come from the widget, whatever the browser sent.
- ``POST /test-chat/start`` ``{"InstanceId", "ContactFlowId", "DisplayName", "Attributes"?}`` and ``GET
  /test-chat/options``: the test chat page, from Parley's own origin only.

The rules (origins, tokens, names, attributes, rates, who may use the test chat page) are the service's
(:class:`parley.service.widgets.WidgetService`); this module only reads requests and writes answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.domain.errors import AccessDenied, DomainError, LimitExceeded, NotFound, QuotaExceeded
from parley.domain.widget_tokens import WidgetTokenInvalid
from parley.domain.widgets import OriginNotAllowed, Widget
from parley.service.chat_starts import ChatStartsThrottled
from parley.service.contacts import StartedChat
from parley.service.ports import StorageUnavailable
from parley.service.widgets import ChatOptions, InstanceChoice, SignInRequired, WidgetService

# A start request holds a name, a few attributes and a token: far less than this. Bigger bodies are refused
# unread (Content-Length) or as soon as the stream passes it.
MAX_BODY = 16 * 1024
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BASE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Vary": "Origin"}
# Request headers a widget page may send cross-origin. amazon-connect-chat-interface passes its ``headers`` option
# on (API Gateway's usual ones); Parley reads a widget token from Authorization.
ALLOWED_HEADERS = "Content-Type, Authorization, X-Api-Key, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent"
# How long a browser may keep a preflight's answer.
PREFLIGHT_SECONDS = "600"
# Seconds a client should wait while the database cannot be reached.
UNAVAILABLE_RETRY = "1"
START_FIELDS = frozenset({"DisplayName", "Attributes", "Token"})
TEST_CHAT_FIELDS = frozenset({"InstanceId", "ContactFlowId", "DisplayName", "Attributes"})
MARKDOWN = "text/markdown"

Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """The request is not what the endpoint reads (size, JSON, a field's type); answered 400 or 413."""

    def __init__(self, message: str, status: int = 400, code: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def _answer(status: int, body: Any, origin: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer with the common headers, readable by a page of ``origin`` when one is given."""
    extra = {**BASE_HEADERS, **(headers or {})}
    if origin:
        extra["Access-Control-Allow-Origin"] = origin
    return Response(orjson.dumps(body), status, extra, media_type="application/json")


def _error_status(exc: Exception, not_found: str) -> tuple[int, str, dict[str, str]]:
    """The status, Code and extra headers of a refusal."""
    if isinstance(exc, BadRequest):
        return exc.status, exc.code, {}
    if isinstance(exc, OriginNotAllowed):
        return 403, "OriginNotAllowed", {}
    if isinstance(exc, WidgetTokenInvalid):
        return 403, "InvalidToken", {}
    if isinstance(exc, SignInRequired):
        return 403, "SignInRequired", {}
    if isinstance(exc, AccessDenied):
        return 403, "AccessDenied", {}
    if isinstance(exc, NotFound):
        return 404, not_found, {}
    if isinstance(exc, ChatStartsThrottled):
        return 429, "Throttled", {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, LimitExceeded | QuotaExceeded):
        return 429, "LimitExceeded", {}
    if isinstance(exc, StorageUnavailable):
        return 503, "ServiceUnavailable", {"Retry-After": UNAVAILABLE_RETRY}
    return 400, "InvalidRequest", {}


def _message(exc: Exception) -> str:
    if isinstance(exc, BadRequest | DomainError):
        return exc.message
    return "Parley cannot reach its database right now; try again in a moment."


async def _read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, read up to MAX_BODY bytes (whatever its Content-Type: amazon-connect-chat-interface
    posts JSON as text/plain, which needs no preflight)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest(f"The request body is larger than {MAX_BODY} bytes.", 413, "RequestTooLarge")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(f"The request body is larger than {MAX_BODY} bytes.", 413, "RequestTooLarge")
        chunks.append(chunk)
    try:
        data = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def _refuse_unknown(data: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:5])
        raise BadRequest(f"Unknown field(s): {shown}. This endpoint reads {', '.join(sorted(known))}.")


def _string(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string.")
    return value


def _string_map(value: Any, name: str) -> dict[str, str]:
    """An object of string values (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest(f"{name} must be an object whose values are strings.")
    return dict(value)


def _chat_interface_attributes(value: Any) -> dict[str, str]:
    """``Attributes`` as amazon-connect-chat-interface sends them (an object, parsed from its ``contactAttributes``
    string option) or as that JSON string itself."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("Attributes must be an object of strings (or its JSON text).") from exc
    return _string_map(value, "Attributes")


def _chat_options(data: dict[str, Any]) -> ChatOptions:
    """InitialMessage, SupportedMessagingContentTypes and ChatDurationInMinutes as StartChatContact takes them."""
    initial = data.get("InitialMessage")
    content: str | None = None
    if initial is not None:
        if not isinstance(initial, dict) or not isinstance(initial.get("Content"), str):
            raise BadRequest("InitialMessage must be an object with a Content string.")
        if initial.get("ContentType", "text/plain") != "text/plain":
            raise BadRequest("InitialMessage.ContentType must be text/plain.")
        content = initial["Content"]
    types = data.get("SupportedMessagingContentTypes")
    if isinstance(types, str):  # the option's comma-separated form
        types = [t.strip() for t in types.split(",") if t.strip()]
    if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
        raise BadRequest("SupportedMessagingContentTypes must be a list of content types.")
    minutes = data.get("ChatDurationInMinutes")
    if isinstance(minutes, float) and minutes.is_integer():
        minutes = int(minutes)
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        raise BadRequest("ChatDurationInMinutes must be a whole number of minutes.")
    return ChatOptions(content, tuple(types) if types else None, minutes)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


class WidgetApi:
    """The routes; ``public_origin`` is Parley's public base URL (ChatJS's endpoint; its origin, the service's
    ``public_origin``, runs the widget's chat window and the test chat page)."""

    def __init__(self, widgets: WidgetService, public_origin: str, region: str, *,
                 session_cookie: str = "parley_session") -> None:
        self.widgets = widgets
        self.endpoint = public_origin.rstrip("/")
        self.region = region
        self.session_cookie = session_cookie

    def routes(self) -> list[BaseRoute]:
        widget, page, lambda_shape = "widget", "test chat page", "chat interface"
        return [
            Route("/widget/{widget_id}/config", self._guard(self.config, "GET", widget), methods=METHODS),
            Route("/widget/{widget_id}/start", self._guard(self.start, "POST", widget), methods=METHODS),
            Route("/widget/{widget_id}/start-chat", self._guard(self.start_chat, "POST", lambda_shape),
                  methods=METHODS),
            Route("/test-chat/start", self._guard(self.test_start, "POST", page), methods=METHODS),
            Route("/test-chat/options", self._guard(self.test_options, "GET", page), methods=METHODS),
        ]

    def _guard(self, handler: Handler, method: str, kind: str) -> Handler:
        """Preflights (for widget routes: other sites' pages call them), 405 for other methods, JSON for every
        refusal, in the chat interface's failure shape for its route."""
        widget_route = kind != "test chat page"
        not_found = "WidgetNotFound" if widget_route else "ResourceNotFound"
        allowed = {method, "HEAD"} if method == "GET" else {method}

        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS" and widget_route:
                return await self._preflight(request, method)
            if request.method not in allowed:
                return _answer(405, {"Code": "MethodNotAllowed",
                                     "Message": f"Use {method} for {request.url.path}."},
                               headers={"Allow": ", ".join(sorted(allowed))})
            try:
                return await handler(request)
            except (BadRequest, DomainError, StorageUnavailable) as exc:
                status, code, headers = _error_status(exc, not_found)
                origin = request.headers.get("origin")
                readable = origin if widget_route and isinstance(exc, OriginNotAllowed) else None
                body: dict[str, Any] = {"Code": code, "Message": _message(exc)}
                if kind == "chat interface":  # the sample startChatContactAPI Lambda's failure shape
                    body["data"] = {"Error": {"code": code, "message": body["Message"], "statusCode": status}}
                return _answer(status, body, readable or getattr(request.state, "cors_origin", None), headers)

        return endpoint

    async def _preflight(self, request: Request, method: str) -> Response:
        origin = request.headers.get("origin")
        try:
            await self.widgets.for_origin(request.path_params["widget_id"], origin)
        except (DomainError, StorageUnavailable) as exc:
            status, code, headers = _error_status(exc, "WidgetNotFound")
            return _answer(status, {"Code": code, "Message": _message(exc)}, None, headers)
        return Response(status_code=204, headers={
            **BASE_HEADERS, "Access-Control-Allow-Origin": origin or "", "Access-Control-Allow-Methods": method,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": PREFLIGHT_SECONDS,
        })

    async def _allowed_widget(self, request: Request, *, same_origin: bool = False) -> Widget:
        """The widget for this request's Origin (remembered for the answer's Access-Control-Allow-Origin)."""
        origin = request.headers.get("origin")
        widget = await self.widgets.for_origin(request.path_params["widget_id"], origin, same_origin=same_origin)
        request.state.cors_origin = origin
        return widget

    def _started(self, started: StartedChat) -> dict[str, str]:
        return {"ContactId": started.contact_id, "ParticipantId": started.participant_id,
                "ParticipantToken": started.participant_token, "Region": self.region,
                "ParticipantEndpoint": self.endpoint}

    async def config(self, request: Request) -> Response:
        widget = await self._allowed_widget(request, same_origin=True)
        return _answer(200, {
            "WidgetId": widget.id, "Title": widget.title, "Greeting": widget.greeting,
            "PrimaryColor": widget.primary_color, "OnPrimaryColor": widget.on_primary_color,
            "NeedsToken": widget.needs_token, "Region": self.region, "ParticipantEndpoint": self.endpoint,
        }, request.state.cors_origin)

    async def start(self, request: Request) -> Response:
        widget = await self._allowed_widget(request)
        data = await _read_json(request)
        _refuse_unknown(data, START_FIELDS)
        name = _string(data, "DisplayName", required=True)
        attributes = _string_map(data.get("Attributes"), "Attributes")
        token = _string(data, "Token")
        assert name is not None
        started = await self.widgets.start(widget.id, request.headers.get("origin"), name, attributes, token,
                                           _address(request))
        return _answer(200, self._started(started), request.state.cors_origin)

    async def start_chat(self, request: Request) -> Response:
        """amazon-connect-chat-interface's startChat contract (the browser's InstanceId and ContactFlowId are
        ignored: the widget's are used)."""
        widget = await self._allowed_widget(request)
        data = await _read_json(request)
        details = data.get("ParticipantDetails")
        if not isinstance(details, dict) or not isinstance(details.get("DisplayName"), str):
            raise BadRequest("ParticipantDetails.DisplayName must be a string: the customer's name.")
        name: str = details["DisplayName"]
        # The sample Lambda passes the name on as the customerName attribute; the page's attributes come after it.
        attributes = {"customerName": name.strip(), **_chat_interface_attributes(data.get("Attributes"))}
        options = _chat_options(data)
        token = _bearer(request) or _string(data, "Token")
        started = await self.widgets.start(widget.id, request.headers.get("origin"), name, attributes, token,
                                           _address(request), options)
        types = options.supported_content_types or ()
        return _answer(200, {"data": {
            "startChatResult": {"ContactId": started.contact_id, "ParticipantId": started.participant_id,
                                "ParticipantToken": started.participant_token},
            "featurePermissions": {"ATTACHMENTS": True, "MESSAGING_MARKDOWN": not types or MARKDOWN in types},
        }}, request.state.cors_origin)

    async def test_start(self, request: Request) -> Response:
        data = await _read_json(request)
        _refuse_unknown(data, TEST_CHAT_FIELDS)
        instance_id = _string(data, "InstanceId", required=True)
        flow_id = _string(data, "ContactFlowId", required=True)
        name = _string(data, "DisplayName", required=True)
        attributes = _string_map(data.get("Attributes"), "Attributes")
        assert instance_id is not None and flow_id is not None and name is not None
        started = await self.widgets.start_test_chat(
            request.cookies.get(self.session_cookie), request.headers.get("origin"), instance_id, flow_id, name,
            attributes, _address(request),
        )
        return _answer(200, self._started(started))

    async def test_options(self, request: Request) -> Response:
        choices = await self.widgets.test_chat_options(request.cookies.get(self.session_cookie),
                                                       request.headers.get("origin"))
        return _answer(200, [_choice(c) for c in choices])


def _choice(choice: InstanceChoice) -> dict[str, Any]:
    return {"InstanceId": choice.id, "InstanceAlias": choice.alias,
            "ContactFlows": [{"Id": f.id, "Name": f.name, "Default": f.default} for f in choice.flows]}

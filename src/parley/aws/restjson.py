"""One ASGI endpoint per rest-json service: route, authenticate, bind and validate, call the handler
named like boto3 names the operation, serialize the output or the error."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import orjson
from botocore.model import OperationModel
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Send

from parley.aws import shapes
from parley.aws.bodies import CONNECT_BODY_LIMIT, TOO_LARGE, BodyTooLarge, read_body
from parley.aws.errors import AwsError, error_status, from_domain, unavailable_error
from parley.aws.model import Service
from parley.domain.errors import DomainError
from parley.domain.ids import new_request_id
from parley.service.ports import StorageUnavailable
from parley.service.telemetry import UNKNOWN, Requests

log = logging.getLogger(__name__)

# Where the request's id is in the ASGI scope when the web edge gave it one (parley.web.tracking), so the
# ``x-amzn-RequestId`` answered is the id the request's log lines carry.
REQUEST_ID_KEY = "parley.request_id"


# Who is calling, as the endpoint's authenticator says: the Participant Service's bearer token (str), the Connect
# API's SigV4 principal (parley.domain.callers.Operator).
CallerT = TypeVar("CallerT")


@dataclass
class Call(Generic[CallerT]):
    """What a handler gets: the operation, its validated input and who is calling."""

    op: OperationModel
    params: dict[str, Any]
    request: Request
    body: bytes
    caller: CallerT


Handler = Callable[[Call[CallerT]], Awaitable[Mapping[str, Any] | None]]
Authenticator = Callable[[Request, bytes, OperationModel], Awaitable[CallerT]]
# Raises an AwsError (ThrottlingException) when the call is over its rate; None means no limits.
Limiter = Callable[[Call[Any]], Awaitable[None]]


@dataclass(frozen=True)
class Answer:
    """An operation's JSON answer, before it is sent."""

    status: int
    headers: dict[str, str]
    body: bytes

    def response(self) -> Response:
        return Response(self.body, self.status, self.headers, media_type="application/json")

    async def send(self, send: Send, whole: WholeResponse | None = None) -> None:
        """Write the answer to the ASGI server directly: the same bytes :meth:`response` would send, in one write
        through ``whole`` when the server offers it (:class:`parley.web.server.httpprotocol.DirectResponse`)."""
        if whole is not None and whole.ready():
            lines = [f"{name.lower()}: {value}\r\n" for name, value in self.headers.items()]
            head = "".join(lines)
            if head.count("\r") == head.count("\n") == len(lines):  # no name or value breaks its line
                whole.write(self.status, head.encode("latin-1") + b"content-type: application/json\r\n", self.body)
                return
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        raw += [(b"content-length", str(len(self.body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


class WholeResponse(Protocol):
    """Sends a whole HTTP response in one write, where the web edge's server can (else the ASGI ``send``)."""

    def ready(self) -> bool:
        """Nothing of the response was sent yet and the client takes bytes now."""

    def write(self, status: int, head: bytes, body: bytes) -> None:
        """``head``: header lines (``name: value`` and CR LF each) without ``content-length``."""


@dataclass(frozen=True)
class Dialect:
    """How a service words things: its validation error code and its timestamp format."""

    validation_code: str
    internal_code: str
    epoch_timestamps: bool


CONNECT = Dialect("InvalidParameterException", "InternalServiceException", epoch_timestamps=True)
PARTICIPANT = Dialect("ValidationException", "InternalServerException", epoch_timestamps=False)


def collect_handlers(service: Service, *modules: object) -> dict[str, Handler[Any]]:
    """Map each operation of the model to the function named like boto3's method in ``modules``."""
    from botocore import xform_name

    found: dict[str, Handler[Any]] = {}
    for op_name in service.model.operation_names:
        method = xform_name(op_name)
        for module in modules:
            handler = getattr(module, method, None)
            if handler is not None:
                found[op_name] = handler
    return found


class RestJsonApi(Generic[CallerT]):
    """A Starlette endpoint serving every operation of ``service``."""

    def __init__(
        self, service: Service, handlers: Mapping[str, Handler[CallerT]], authenticate: Authenticator[CallerT],
        dialect: Dialect, *, label: str, limiter: Limiter | None = None, headers: Mapping[str, str] | None = None,
        body_limit: int = CONNECT_BODY_LIMIT,
    ) -> None:
        self.limiter = limiter
        # The longest request body read (parley.aws.bodies); a longer one is answered 413 unread.
        self.body_limit = body_limit
        # Sent with every answer, success or error (the Participant Service's CORS headers).
        self.headers = dict(headers or {})
        self.service = service
        self.handlers = dict(handlers)
        self.authenticate = authenticate
        self.dialect = dialect
        self.label = label
        # Counts and times every request by operation and status (parley.web.metrics); a private one by default.
        self.requests = Requests()

    def matches(self, method: str, raw_path: str, query_keys: set[str]) -> bool:
        return self.service.match(method, raw_path, query_keys) is not None

    async def __call__(self, request: Request) -> Response:
        return (await self.answer(request)).response()

    async def answer(self, request: Request) -> Answer:
        """Route, authenticate, bind, validate and run the operation ``request`` asks for; its answer."""
        started = time.perf_counter()
        request_id = request.scope.get(REQUEST_ID_KEY) or new_request_id()
        op, answer = await self._answer(request, request_id)
        self.requests.record(UNKNOWN if op is None else op.name, answer.status, time.perf_counter() - started)
        return answer

    async def _answer(self, request: Request, request_id: str) -> tuple[OperationModel | None, Answer]:
        raw_path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1").split("?", 1)[0]
        query: dict[str, list[str]] = {}
        if request.scope.get("query_string"):
            for key, value in request.query_params.multi_items():
                query.setdefault(key, []).append(value)
        found = self.service.match(request.method, raw_path, set(query))
        if found is None:
            return None, self._error(None, AwsError(
                "UnknownOperationException",
                f"{self.label} has no operation for {request.method} {request.url.path}.",
            ), request_id)
        op, labels = found
        try:
            body = await read_body(request, self.body_limit)
            caller = await self.authenticate(request, body, op)
            handler = self.handlers.get(op.name)
            if handler is None:
                raise AwsError(
                    "NotImplementedException",
                    f"Parley does not implement the {self.label} operation {op.name}.",
                )
            params = shapes.bind_request(op, labels, query, request.headers, _json_body(body))
            call = Call(op, params, request, body, caller)
            if self.limiter is not None:
                await self.limiter(call)
            result = await handler(call)
        except AwsError as exc:
            return op, self._error(op, exc, request_id)
        except BodyTooLarge as exc:
            return op, self._error(op, AwsError(TOO_LARGE, exc.message, 413), request_id)
        except ClientDisconnect:  # gone while sending its body: nobody reads the answer
            cut = AwsError("SerializationException", "The request body was cut short.")
            return op, self._error(op, cut, request_id)
        except shapes.SerializationError as exc:
            return op, self._error(op, AwsError("SerializationException", str(exc)), request_id)
        except shapes.ValidationFailed as exc:
            return op, self._error(op, AwsError(self.dialect.validation_code, exc.message), request_id)
        except DomainError as exc:
            return op, self._error(op, from_domain(op, exc, self.dialect.validation_code), request_id)
        except StorageUnavailable as exc:
            log.warning("%s %s: %s", self.label, op.name, exc)
            return op, self._error(op, unavailable_error(self.dialect.internal_code), request_id)
        except Exception:
            log.exception("%s %s failed", self.label, op.name)
            return op, self._error(op, AwsError(
                self.dialect.internal_code, "An internal error occurred; the request was not completed."
            ), request_id)
        return op, self._success(op, result or {}, request_id)

    def _success(self, op: OperationModel, result: Mapping[str, Any], request_id: str) -> Answer:
        headers = {"x-amzn-RequestId": request_id, **self.headers, **shapes.output_headers(op, result)}
        status = int(op.http.get("responseCode", 200))
        shape = op.output_shape
        if shape is None:
            return Answer(status, headers, b"{}")
        body = shapes.to_json(shape, result, epoch_timestamps=self.dialect.epoch_timestamps)
        return Answer(status, headers, orjson.dumps(body))

    def _error(self, op: OperationModel | None, error: AwsError, request_id: str) -> Answer:
        status = error.status or error_status(op, error.code)
        body = {"Message": error.message, **error.fields}
        headers = {"x-amzn-RequestId": request_id, **self.headers, "x-amzn-ErrorType": error.code}
        return Answer(status, headers, orjson.dumps(body))


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise shapes.SerializationError("The request body is not valid JSON.") from exc

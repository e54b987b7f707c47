"""Sending fuzzed rest-json requests two ways: through boto3 with its own parameter checks off (the model's
serializer puts every member where it belongs), and by hand with httpx (hostile URI segments, query strings,
content types, headers and bodies no serializer would produce), SigV4-signed by botocore where asked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import OperationModel
from hypothesis import event
from hypothesis import strategies as st

from tests.fuzz import oracle
from tests.fuzz.conftest import Reply, check_answer, sign
from tests.fuzz.strategies import CONTENT_TYPES, HOSTILE_SEGMENTS, ShapeValues, hostile_body

# Header sets no client sends: huge values, very many headers, bytes outside ASCII, a second Authorization.
ABSURD_HEADERS: tuple[tuple[tuple[str, bytes], ...], ...] = (
    (),
    (("X-Long", b"a" * 7000),),
    tuple((f"X-Many-{i}", b"v") for i in range(90)),
    (("X-Latin", b"\xff\xfe\xe9"),),
    (("Authorization", b"AWS4-HMAC-SHA256 Credential=x"),),
    (("X-Amz-Date", b"not-a-date"),),
    (("Content-Encoding", b"gzip"),),
    (("X-Amz-Bearer", b"\xc3\xa9" * 300),),
    (("Transfer-Encoding-X", b"chunked"),),
)


@dataclass
class Captured:
    """The raw HTTP answer botocore received for the last call (from its ``after-call`` event)."""

    reply: Reply | None = None
    url: str = ""
    calls: int = field(default=0)

    def sent(self, request: Any, **_kwargs: Any) -> None:
        self.url = str(request.url)

    def hook(self, http_response: Any, **_kwargs: Any) -> None:
        self.reply = Reply(int(http_response.status_code),
                           {k.lower(): v for k, v in http_response.headers.items()}, bytes(http_response.content))
        self.calls += 1


def capture(client: Any) -> Captured:
    captured = Captured()
    client.meta.events.register("before-send", captured.sent)
    client.meta.events.register("after-call", captured.hook)
    return captured


def boto_call(client: Any, captured: Captured, op: OperationModel, params: dict[str, Any]) -> Reply | None:
    """Call ``op`` through boto3; the raw answer, or None when botocore itself could not build the request
    (a container where it wants a scalar, a timestamp it cannot format, a label it cannot encode)."""
    captured.reply = None
    captured.url = ""
    method = getattr(client, xform_name(op.name))
    try:
        method(**params)
    except ClientError:
        pass
    except Exception as exc:  # botocore refused to serialize: nothing was sent
        if captured.reply is None:
            event(f"client-side: {type(exc).__name__}")
            return None
        raise
    reply = captured.reply
    assert reply is not None
    what = f"{op.name} via boto3 with {_short(params)}"
    check_answer(reply, what, url=captured.url)
    broken = oracle.problems(op.input_shape, params) if op.input_shape is not None else []
    if broken and reply.status < 400:
        raise AssertionError(f"accepted ({reply.status}) although it breaks the model: {broken}; {what}")
    return reply


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 3000 else text[:3000] + "…"


def _encode(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    query: str
    body: bytes
    content_type: str
    extra_headers: tuple[tuple[str, bytes], ...]

    def url(self, base: str) -> str:
        return base + self.path + ("?" + self.query if self.query else "")


@st.composite
def raw_request(draw: st.DrawFn, op: OperationModel, values: ShapeValues) -> RawRequest:
    """A request for ``op`` with hostile labels, query values, content type, headers and body."""
    uri = op.http["requestUri"]
    path_template, _, static_query = uri.partition("?")
    shape = op.input_shape
    members = dict(shape.members) if shape is not None else {}
    by_wire = {m.serialization.get("name", n): (n, m) for n, m in members.items()}

    def label(found: re.Match[str]) -> str:
        name, member = by_wire.get(found.group(1), (found.group(1), None))
        pick = draw(st.integers(0, 3))
        if pick == 0 and member is not None:
            return _encode(draw(values.member(member, name)))
        if pick == 1:
            return draw(st.sampled_from(HOSTILE_SEGMENTS))
        known = values.known.get(name)
        if isinstance(known, st.SearchStrategy):
            known = draw(known)
        return _encode(known) if known is not None else draw(st.sampled_from(HOSTILE_SEGMENTS))

    path = re.sub(r"\{([A-Za-z0-9_]+)\+?\}", label, path_template)
    query_parts = [static_query] if static_query else []
    for name, member in members.items():
        if member.serialization.get("location") == "querystring" and draw(st.booleans()):
            wire = member.serialization.get("name", name)
            value = draw(values.member(member, name))
            for item in value if isinstance(value, list) else [value]:
                query_parts.append(f"{wire}={_encode(item)}")
    if draw(st.integers(0, 4)) == 0:
        query_parts.append(draw(st.sampled_from(["%zz=1", "a=%", "=x", "&&&", "x=" + "y" * 4000, "%00=%00"])))
    return RawRequest(
        method=op.http["method"], path=path, query="&".join(p for p in query_parts if p),
        body=draw(hostile_body(op, values)), content_type=draw(st.sampled_from(CONTENT_TYPES)),
        extra_headers=draw(st.sampled_from(ABSURD_HEADERS)),
    )


def send_raw(http: httpx.Client, base: str, request: RawRequest, *, service: str | None,
             bearer: str | None = None, what: str = "") -> Reply | None:
    """Send ``request`` (SigV4-signed for ``service``, or with ``bearer``); the checked answer, or None when the
    HTTP layer refused it before any service saw it (a header block over the server's limits)."""
    url = request.url(base)
    headers: dict[str, str] = {"Content-Type": request.content_type} if request.content_type else {}
    if bearer is not None:
        headers["X-Amz-Bearer"] = bearer
    if service is not None:
        headers = sign(request.method, url, request.body, headers, service=service)
    listed: list[tuple[str, str | bytes]] = [(k, v) for k, v in headers.items()]
    listed += list(request.extra_headers)
    try:
        response = http.request(request.method, url, content=request.body, headers=listed)
    except httpx.RemoteProtocolError:
        # The server closed the connection without an answer: allowed only for a header block it refuses.
        assert request.extra_headers, f"the server dropped {what} {request}"
        event("connection dropped on absurd headers")
        return None
    reply = Reply.of(response)
    if "x-amzn-requestid" not in reply.headers and reply.status in (400, 413, 414, 431) and request.extra_headers:
        event(f"HTTP layer refused with {reply.status}")
        return None
    extra = [k for k, _ in request.extra_headers]
    check_answer(reply, f"{what} raw {request.method} {url[:300]} body={request.body[:300]!r} "
                        f"content-type={request.content_type[:60]!r} extra={extra}", url=url)
    return reply


"""Server-side verification of AWS Signature Version 4 (SigV4) requests.

This module checks HTTP requests signed by botocore/boto3 and the AWS CLI,
in either of the two SigV4 forms:

* header form: ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261125/
  us-west-2/connect/aws4_request, SignedHeaders=host;x-amz-date,
  Signature=<hex>`` together with an ``X-Amz-Date`` (or ``Date``) header;
* presigned query-string form: ``X-Amz-Algorithm``, ``X-Amz-Credential``,
  ``X-Amz-Date``, ``X-Amz-Expires``, ``X-Amz-SignedHeaders`` and
  ``X-Amz-Signature`` query parameters.

The canonical request is rebuilt the way botocore's ``SigV4Auth`` builds it
for non-S3 services:

* the method, upper-cased;
* the path with dot segments and empty segments removed, then percent-encoded
  *again* (``/~`` kept).  The path botocore puts on the wire is already
  percent-encoded, so e.g. ``/a%20b`` is canonicalised as ``/a%2520b``; this
  double encoding is what every AWS SDK does for services other than S3;
* the query string split on ``&``, each key and value decoded and re-encoded
  with only ``A-Za-z0-9-_.~`` left bare, then sorted by key and value.  For
  byte-for-byte compatibility with botocore, which sorts the query it put in
  the URL without re-encoding it, the raw sorted form is also tried when it
  differs (it only differs for queries that are not canonically encoded);
* the signed headers, lower-cased, with values trimmed and inner runs of
  whitespace collapsed to one space;
* the ``SignedHeaders`` list as sent;
* the payload hash: the ``X-Amz-Content-Sha256`` header if present (as
  botocore does), otherwise the SHA-256 of the body.  When the header is
  present it must also equal the SHA-256 of the body, otherwise the body
  would not be covered by the signature.

S3's own rules (path neither normalised nor re-encoded, ``UNSIGNED-PAYLOAD``,
``aws-chunked`` streaming signatures) are not supported.

Errors are raised as :class:`SignatureError` carrying the error code, message
and HTTP status an AWS service returns for the same fault.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus

__all__ = ["SignatureError", "SignedRequest", "verify_sigv4"]

_ALGORITHM = "AWS4-HMAC-SHA256"
_TERMINATOR = "aws4_request"
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# Longest lifetime AWS accepts for a presigned URL (seven days), in seconds.
_MAX_PRESIGN_EXPIRES = 604800
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details."
)
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
)


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as received by the server.

    ``raw_path`` is the path exactly as it came on the wire (still
    percent-encoded, without the query); ``query_string`` is the raw query
    (possibly ``""``); header names may be in any case, and repeated headers
    must already be joined with ``","``.
    """

    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes


class SignatureError(Exception):
    """A request failed SigV4 authentication.

    ``code`` is the AWS error code (e.g. ``InvalidSignatureException``),
    ``message`` the human-readable message and ``status`` the HTTP status to
    answer with.
    """

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


# IncompleteSignatureException status: the AWS JSON-protocol services
# (DynamoDB, Kinesis, ...) answer it with HTTP 400, while REST-JSON services
# behind the API Gateway-style front end, like Amazon Connect, answer 403, as
# they do for MissingAuthenticationTokenException (from public reports, not
# checked against a live endpoint).  The API modelled here is Amazon
# Connect's REST API, so 403 is used.
_INCOMPLETE_STATUS = 403


def _incomplete(message: str) -> SignatureError:
    return SignatureError("IncompleteSignatureException", message, _INCOMPLETE_STATUS)


def _invalid(message: str) -> SignatureError:
    return SignatureError("InvalidSignatureException", message)


@dataclass(frozen=True)
class _AuthParams:
    """The signature parameters, from either the header or the query."""

    credential: str
    signed_headers: str
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None


def verify_sigv4(
    request: SignedRequest,
    secrets: Callable[[str], str | None],
    *,
    service: str | None = None,
    now: datetime | None = None,
    max_skew: timedelta = timedelta(minutes=15),
) -> str:
    """Return the access key id that signed the request, or raise SignatureError.

    ``secrets`` maps an access key id to its secret access key, or to
    ``None`` if the key is unknown.  If ``service`` is given, the credential
    scope must name that service.  ``now`` (default: the current time; a
    naive value is taken as UTC) is compared with the request date: header
    signatures may be at most ``max_skew`` away from it, presigned URLs are
    valid from ``max_skew`` before their date until ``X-Amz-Expires`` seconds
    after it.
    """
    headers = _lower_headers(request.headers)
    query_pairs = _split_query(request.query_string)
    params = _auth_params(headers, query_pairs)

    access_key, scope_date, region, scope_service = _parse_credential(params.credential)
    if service is not None and scope_service != service:
        raise _invalid(f"Credential should be scoped to correct service: '{service}'. ")
    signed_at = _parse_timestamp(params.amz_date)
    if scope_date != params.amz_date[:8]:
        raise _invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
            f"version of date from HTTP: '{scope_date}' != "
            f"'{params.amz_date[:8]}', from '{params.amz_date}'."
        )
    _check_time(params, signed_at, _utc(now), max_skew)

    signed_names = params.signed_headers.split(";")
    if "host" not in signed_names:
        raise _incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")

    secret = secrets(access_key)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )

    body_hash = hashlib.sha256(request.body).hexdigest()
    declared_hash = headers.get("x-amz-content-sha256")
    payload_hash = declared_hash if declared_hash is not None else body_hash

    scope = f"{scope_date}/{region}/{scope_service}/{_TERMINATOR}"
    key = _signing_key(secret, scope_date, region, scope_service)
    provided = params.signature.encode("utf-8", "surrogatepass")
    matched = False
    for canonical_query in _canonical_query_candidates(query_pairs, params.presigned):
        canonical_request = "\n".join(
            (
                request.method.upper(),
                _canonical_path(request.raw_path),
                canonical_query,
                "".join(f"{name}:{_trim(headers.get(name, ''))}\n" for name in signed_names),
                params.signed_headers,
                payload_hash,
            )
        )
        string_to_sign = "\n".join(
            (
                _ALGORITHM,
                params.amz_date,
                scope,
                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
            )
        )
        expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        # Every candidate is compared, so timing does not tell which matched.
        matched = hmac.compare_digest(expected.encode("ascii"), provided) or matched
    if not matched:
        raise _invalid(_SIGNATURE_MISMATCH)

    if declared_hash is not None and not hmac.compare_digest(
        declared_hash.strip().lower().encode("utf-8", "surrogatepass"), body_hash.encode("ascii")
    ):
        raise SignatureError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )
    return access_key


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case the header names, joining values of names that collide."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        lname = name.strip().lower()
        result[lname] = f"{result[lname]},{value}" if lname in result else value
    return result


def _split_query(query_string: str) -> list[tuple[str, str]]:
    """Split a raw query string into raw (still encoded) key/value pairs."""
    if not query_string:
        return []
    pairs: list[tuple[str, str]] = []
    for piece in query_string.split("&"):
        key, _, value = piece.partition("=")
        pairs.append((key, value))
    return pairs


def _query_value(pairs: list[tuple[str, str]], name: str) -> str | None:
    """Return the decoded value of the first query parameter called ``name``."""
    for key, value in pairs:
        if unquote_plus(key) == name:
            return unquote_plus(value)
    return None


def _auth_params(headers: Mapping[str, str], query_pairs: list[tuple[str, str]]) -> _AuthParams:
    authorization = headers.get("authorization")
    presigned = any(_query_value(query_pairs, name) is not None for name in _PRESIGN_PARAMS)
    if authorization is not None and authorization.strip() and presigned:
        raise _incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
            "parameter or the Authorization header should be specified."
        )
    if presigned:
        return _query_auth_params(query_pairs)
    if authorization is None or not authorization.strip():
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    return _header_auth_params(authorization, headers)


def _header_auth_params(authorization: str, headers: Mapping[str, str]) -> _AuthParams:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(
            f"Unsupported Authorization type '{algorithm}': only '{_ALGORITHM}' signatures are accepted."
        )
    fields: dict[str, str] = {}
    for element in rest.split(","):
        element = element.strip()
        if not element:
            continue
        name, equals, value = element.partition("=")
        if not equals:
            # AWS does not echo a malformed header back; it quotes its hash.
            digest = base64.b64encode(hashlib.sha256(authorization.encode("utf-8", "surrogatepass")).digest())
            raise _incomplete(
                "Invalid key=value pair (missing equal-sign) in Authorization "
                f"header (hashed with SHA-256 and encoded with Base64): '{digest.decode('ascii')}'."
            )
        fields.setdefault(name.strip(), value.strip())

    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    amz_date = headers.get("x-amz-date", "").strip()
    if not amz_date:
        amz_date = _from_http_date(headers.get("date", "").strip())
    if not amz_date:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise _incomplete(" ".join(missing) + f" Authorization={authorization}")
    return _AuthParams(
        credential=fields["Credential"],
        signed_headers=fields["SignedHeaders"],
        signature=fields["Signature"],
        amz_date=amz_date,
        presigned=False,
        expires=None,
    )


def _from_http_date(value: str) -> str:
    """Convert an RFC 7231 ``Date`` header to the SigV4 timestamp format."""
    if not value:
        return ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        # Keep the raw value: _parse_timestamp reports it as not ISO-8601.
        return value
    return _utc(parsed).strftime(_TIMESTAMP_FORMAT)


def _query_auth_params(query_pairs: list[tuple[str, str]]) -> _AuthParams:
    values = {name: _query_value(query_pairs, name) for name in (*_PRESIGN_PARAMS, "X-Amz-Expires")}
    missing = [name for name in _PRESIGN_PARAMS if not values[name]]
    if missing:
        listed = ", ".join(f"'{name}'" for name in missing)
        raise _incomplete(
            f"AWS query-string parameters must include {listed}. Re-examine the query-string parameters."
        )
    if values["X-Amz-Algorithm"] != _ALGORITHM:
        raise _incomplete(
            f"Unsupported X-Amz-Algorithm '{values['X-Amz-Algorithm']}': only '{_ALGORITHM}' is accepted."
        )
    expires: int | None = None
    raw_expires = values["X-Amz-Expires"]
    if raw_expires is not None:
        try:
            expires = int(raw_expires)
        except ValueError:
            expires = -1
        if not 0 < expires <= _MAX_PRESIGN_EXPIRES:
            raise _incomplete(
                "X-Amz-Expires must be a positive number of seconds, less than "
                f"a week ({_MAX_PRESIGN_EXPIRES}); got '{raw_expires}'."
            )
    return _AuthParams(
        credential=values["X-Amz-Credential"] or "",
        signed_headers=values["X-Amz-SignedHeaders"] or "",
        signature=values["X-Amz-Signature"] or "",
        amz_date=values["X-Amz-Date"] or "",
        presigned=True,
        expires=expires,
    )


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise _incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'"
        )
    access_key, scope_date, region, scope_service, terminator = parts
    if terminator != _TERMINATOR:
        raise _invalid(
            f"Credential should be scoped with a valid terminator: '{_TERMINATOR}', not '{terminator}'."
        )
    return access_key, scope_date, region, scope_service


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _format_span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def _parse_timestamp(amz_date: str) -> datetime:
    """Parse a ``YYYYMMDDTHHMMSSZ`` request date, accepting nothing looser."""
    try:
        signed_at = datetime.strptime(amz_date, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        signed_at = None
    if signed_at is None or signed_at.strftime(_TIMESTAMP_FORMAT) != amz_date:
        raise _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        )
    return signed_at


def _check_time(params: _AuthParams, signed_at: datetime, now: datetime, max_skew: timedelta) -> None:
    def fmt(moment: datetime) -> str:
        return moment.strftime(_TIMESTAMP_FORMAT)

    lifetime = timedelta(seconds=params.expires) if params.expires is not None else max_skew
    if signed_at < now - lifetime:
        raise _invalid(
            f"Signature expired: {params.amz_date} is now earlier than "
            f"{fmt(now - lifetime)} ({fmt(now)} - {_format_span(lifetime)})"
        )
    if signed_at > now + max_skew:
        raise _invalid(
            f"Signature not yet current: {params.amz_date} is still later than "
            f"{fmt(now + max_skew)} ({fmt(now)} + {_format_span(max_skew)})"
        )


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal that also drops empty segments (``//``)."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and kept else ""
    return leading + "/".join(kept) + trailing


def _canonical_path(raw_path: str) -> str:
    # The wire path is already percent-encoded; like botocore for non-S3
    # services, encode it once more ('%' becomes '%25').
    return quote(_remove_dot_segments(raw_path) if raw_path else "/", safe="/~")


def _canonical_query_candidates(pairs: list[tuple[str, str]], presigned: bool) -> list[str]:
    if presigned:
        pairs = [(key, value) for key, value in pairs if unquote_plus(key) != "X-Amz-Signature"]
    encoded = sorted(
        (quote(unquote_plus(key), safe="-_.~"), quote(unquote_plus(value), safe="-_.~"))
        for key, value in pairs
        if key or value
    )
    candidates = ["&".join(f"{key}={value}" for key, value in encoded)]
    raw = "&".join(f"{key}={value}" for key, value in sorted(pairs))
    if raw != candidates[0]:
        candidates.append(raw)
    return candidates


def _trim(value: str) -> str:
    return " ".join(value.split())


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _signing_key(secret: str, scope_date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), scope_date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, _TERMINATOR)

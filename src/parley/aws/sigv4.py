"""Server-side verification of AWS Signature Version 4 (SigV4), on botocore's own signer.

The canonical request, the string to sign, the signing key and the signature are computed by botocore's
``SigV4Auth``, the signer boto3 and the AWS CLI use (for presigned URLs too: ``SigV4QueryAuth`` differs only in
moving the parameters into the URL before signing), so Parley keeps no canonicalization of its own. What is
Parley's is the adaptation of the request as received into the ``AWSRequest`` botocore would have signed, and
the checks AWS makes before and after the signature:

* the signature parameters, from the ``Authorization`` header (``AWS4-HMAC-SHA256 Credential=AKID/20261125/
  us-west-2/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>`` with ``X-Amz-Date`` or
  ``Date``) or from the presigned query (``X-Amz-Algorithm``, ``-Credential``, ``-Date``, ``-Expires``,
  ``-SignedHeaders``, ``-Signature``);
* the credential scope: the server's region and service, a date equal to the request's;
* the request time, at most ``max_skew`` from the server's clock (presigned: until ``X-Amz-Expires``);
* the request as botocore sees it: the method; the raw path as received (botocore normalises dot segments
  and encodes it once more, like every SDK for services other than S3); the signed headers only, with
  repeated headers joined by ``,`` (botocore trims and collapses whitespace); the body. The query is tried
  both ways botocore signs one: re-encoded from its decoded parameters (boto3 clients, the AWS CLI, the
  JavaScript SDK), and sorted as it is in the URL (a URL signed without ``params``);
* ``X-Amz-Content-SHA256``, when sent, must be the SHA-256 of the body: S3's ``UNSIGNED-PAYLOAD`` and
  ``aws-chunked`` streaming are not part of the Connect API.

Signatures are compared in constant time. Errors are :class:`SignatureError` with the code, message and HTTP
status an AWS service answers for the same fault.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_plus

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

__all__ = ["SignatureError", "SignedRequest", "verify_sigv4"]

# The only algorithm SigV4 defines (SigV4a's ECDSA is not offered by Connect).
_ALGORITHM = "AWS4-HMAC-SHA256"
# The last element of every SigV4 credential scope.
_TERMINATOR = "aws4_request"
# SigV4's timestamp format, ``YYYYMMDD'T'HHMMSS'Z'``.
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# Longest lifetime AWS accepts for a presigned URL (seven days), in seconds.
_MAX_PRESIGN_EXPIRES = 604800
# The host of the URL handed to botocore: only its path and query are read (the Host header is signed as sent).
_URL_BASE = "https://parley.invalid"
# AWS's message for a signature that does not match, word for word.
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details."
)
# The query parameters that make a request presigned (X-Amz-Expires alone does not).
_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
# IncompleteSignatureException status: the AWS JSON-protocol services (DynamoDB, Kinesis, ...) answer it with
# HTTP 400, while REST-JSON services behind the API Gateway-style front end, like Amazon Connect, answer 403,
# as they do for MissingAuthenticationTokenException (from public reports, not checked against a live
# endpoint).
_INCOMPLETE_STATUS = 403


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as received by the server.

    ``raw_path`` is the path exactly as it came on the wire (still percent-encoded, without the query);
    ``query_string`` the raw query (possibly ``""``); ``headers`` a mapping, or a sequence of (name, value)
    pairs in which a repeated header appears once per line (names in any case); ``body`` the raw body.
    """

    method: str
    raw_path: str
    query_string: str
    headers: Mapping[str, str] | list[tuple[str, str]]
    body: bytes


class SignatureError(Exception):
    """A request failed SigV4 authentication: the AWS error ``code``, its ``message`` and HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


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
    region: str | None = None,
    now: datetime | None = None,
    max_skew: timedelta = timedelta(minutes=15),
) -> str:
    """Return the access key id that signed the request, or raise SignatureError.

    ``secrets`` maps an access key id to its secret access key, or to ``None`` if the key is unknown. If
    ``service`` or ``region`` is given, the credential scope must name it. ``now`` (default: the current
    time; a naive value is taken as UTC) is compared with the request date: header signatures may be at
    most ``max_skew`` away from it, presigned URLs are valid from ``max_skew`` before their date until
    ``X-Amz-Expires`` seconds after it.
    """
    pairs = list(request.headers.items()) if isinstance(request.headers, Mapping) else list(request.headers)
    headers = HTTPHeaders()
    for name, value in pairs:
        headers[name.strip()] = value
    query_pairs = _split_query(request.query_string)
    params = _auth_params(headers, query_pairs)

    access_key, scope_date, scope_region, scope_service = _parse_credential(params.credential)
    if service is not None and scope_service != service:
        raise _invalid(f"Credential should be scoped to correct service: '{service}'. ")
    if region is not None and scope_region != region:
        raise _invalid(f"Credential should be scoped to a valid region, not '{scope_region}'. ")
    signed_at = _parse_timestamp(params.amz_date)
    if scope_date != params.amz_date[:8]:
        raise _invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{params.amz_date[:8]}', from '{params.amz_date}'."
        )
    _check_time(params, signed_at, _utc(now), max_skew)
    signed_names = params.signed_headers.lower().split(";")
    if "host" not in signed_names:
        raise _incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    secret = secrets(access_key)
    if secret is None:
        raise SignatureError("UnrecognizedClientException", "The security token included in the request is invalid.")

    signer = _Verifier(Credentials(access_key, secret), scope_service, scope_region, signed_names)
    provided = params.signature.encode("utf-8", "surrogatepass")
    matched = False
    for expected in signer.expected_signatures(request, headers, params.amz_date, params.presigned):
        # Every candidate is compared, so timing does not tell which matched.
        matched = hmac.compare_digest(expected.encode("ascii"), provided) or matched
    if not matched:
        raise _invalid(_SIGNATURE_MISMATCH)

    declared = headers.get("x-amz-content-sha256")
    if declared is not None and not hmac.compare_digest(
        declared.strip().lower().encode("utf-8", "surrogatepass"),
        hashlib.sha256(request.body).hexdigest().encode("ascii"),
    ):
        raise SignatureError(
            "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )
    return access_key


class _Verifier(SigV4Auth):  # type: ignore[misc]  # botocore has no type hints
    """botocore's signer for one credential scope, told which headers the client signed.

    botocore signs every header of a request it is about to send; a server must sign exactly the ones the
    client listed in ``SignedHeaders``, so ``headers_to_sign`` is the one method replaced.
    """

    def __init__(self, credentials: Credentials, service: str, region: str, signed_names: list[str]) -> None:
        super().__init__(credentials, service, region)
        self._signed_names = signed_names

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed_names:
            for value in request.headers.get_all(name) or [""]:  # a signed header that is absent is empty
                chosen[name] = value
        return chosen

    def expected_signatures(self, request: SignedRequest, headers: HTTPHeaders, timestamp: str,
                            presigned: bool) -> list[str]:
        """The signature of the request for each way botocore could have signed its query (one or two)."""
        query = request.query_string
        pieces = [p for p in query.split("&") if not (presigned and _is_signature(p))] if query else []
        # '#' cannot be in a request path, and URL parsing would drop what follows it from what is signed.
        url = _URL_BASE + (request.raw_path.replace("#", "%23") or "/")
        decoded = [(unquote_plus(k), unquote_plus(v)) for k, _, v in (p.partition("=") for p in pieces) if k or v]
        canonical = set()
        ways = [(url, decoded), (url + "?" + "&".join(pieces), [])] if pieces else [(url, [])]
        for target, params in ways:
            aws_request = AWSRequest(method=request.method, url=target, headers=headers, data=request.body)
            aws_request.params = params  # set after construction, so repeated keys stay a list
            canonical.add(self.canonical_request(aws_request))
        aws_request.context["timestamp"] = timestamp
        return [self.signature(self.string_to_sign(aws_request, c), aws_request) for c in sorted(canonical)]


def _is_signature(piece: str) -> bool:
    return unquote_plus(piece.partition("=")[0]) == "X-Amz-Signature"


def _split_query(query_string: str) -> list[tuple[str, str]]:
    """Split a raw query string into raw (still encoded) key/value pairs."""
    pieces = query_string.split("&") if query_string else []
    return [(key, value) for key, _, value in (p.partition("=") for p in pieces)]


def _query_value(pairs: list[tuple[str, str]], name: str) -> str | None:
    """Return the decoded value of the first query parameter called ``name``."""
    return next((unquote_plus(value) for key, value in pairs if unquote_plus(key) == name), None)


def _auth_params(headers: HTTPHeaders, query_pairs: list[tuple[str, str]]) -> _AuthParams:
    authorization = ",".join(headers.get_all("authorization") or [])
    presigned = any(_query_value(query_pairs, name) is not None for name in _PRESIGN_PARAMS)
    if authorization.strip() and presigned:
        raise _incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
            "parameter or the Authorization header should be specified."
        )
    if presigned:
        return _query_auth_params(query_pairs)
    if not authorization.strip():
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    return _header_auth_params(authorization, headers)


def _header_auth_params(authorization: str, headers: HTTPHeaders) -> _AuthParams:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(
            f"Unsupported Authorization type '{algorithm}': only '{_ALGORITHM}' signatures are accepted."
        )
    fields: dict[str, str] = {}
    for element in filter(None, (e.strip() for e in rest.split(","))):
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
    amz_date = (headers.get("x-amz-date") or "").strip() or _from_http_date((headers.get("date") or "").strip())
    if not amz_date:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise _incomplete(" ".join(missing) + f" Authorization={authorization}")
    return _AuthParams(fields["Credential"], fields["SignedHeaders"], fields["Signature"], amz_date, False, None)


def _from_http_date(value: str) -> str:
    """Convert an RFC 7231 ``Date`` header to the SigV4 timestamp format."""
    if not value:
        return ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value  # Kept raw: _parse_timestamp reports it as not ISO-8601.
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
    raw_expires = values["X-Amz-Expires"]
    expires: int | None = None
    if raw_expires is not None:
        expires = int(raw_expires) if raw_expires.isdecimal() and len(raw_expires) < 10 else -1
        if not 0 < expires <= _MAX_PRESIGN_EXPIRES:
            raise _incomplete(
                "X-Amz-Expires must be a positive number of seconds, less than "
                f"a week ({_MAX_PRESIGN_EXPIRES}); got '{raw_expires}'."
            )
    return _AuthParams(values["X-Amz-Credential"] or "", values["X-Amz-SignedHeaders"] or "",
                       values["X-Amz-Signature"] or "", values["X-Amz-Date"] or "", True, expires)


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
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_timestamp(amz_date: str) -> datetime:
    """Parse a ``YYYYMMDDTHHMMSSZ`` request date, accepting nothing looser."""
    try:
        signed_at: datetime | None = datetime.strptime(amz_date, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        signed_at = None
    if signed_at is None or signed_at.strftime(_TIMESTAMP_FORMAT) != amz_date:
        raise _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )
    return signed_at


def _check_time(params: _AuthParams, signed_at: datetime, now: datetime, max_skew: timedelta) -> None:
    def fmt(moment: datetime) -> str:
        return moment.strftime(_TIMESTAMP_FORMAT)

    def span(length: timedelta) -> str:
        seconds = int(length.total_seconds())
        return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."

    lifetime = timedelta(seconds=params.expires) if params.expires is not None else max_skew
    if signed_at < now - lifetime:
        raise _invalid(
            f"Signature expired: {params.amz_date} is now earlier than {fmt(now - lifetime)} "
            f"({fmt(now)} - {span(lifetime)})"
        )
    if signed_at > now + max_skew:
        raise _invalid(
            f"Signature not yet current: {params.amz_date} is still later than {fmt(now + max_skew)} "
            f"({fmt(now)} + {span(max_skew)})"
        )

"""Tests for parley.aws.sigv4: requests signed by botocore's own signers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from parley.aws.sigv4 import SignatureError, SignedRequest, verify_sigv4

NOW = datetime(2026, 11, 25, 8, 30, 0, tzinfo=UTC)
HOST = "connect.us-west-2.amazonaws.com"
BASE = f"https://{HOST}"
CREDS = Credentials("test", "test")
MISMATCH = (
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details."
)


def secrets(access_key: str) -> str | None:
    return {"test": "test"}.get(access_key)


def to_wire(request: AWSRequest) -> SignedRequest:
    """What a server receives for a botocore request."""
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {str(k): str(v) for k, v in prepared.headers.items()}
    headers.setdefault("Host", parts.netloc)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return SignedRequest(
        method=prepared.method,
        raw_path=parts.path,
        query_string=parts.query,
        headers=headers,
        body=body,
    )


def sign(
    method: str,
    url: str,
    *,
    data: bytes = b"",
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    credentials: Credentials = CREDS,
    service: str = "connect",
) -> SignedRequest:
    request = AWSRequest(
        method=method, url=url, data=data, headers=dict(headers or {}), params=dict(params or {})
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(credentials, service, "us-west-2").add_auth(request)
    return to_wire(request)


def presign(url: str, *, expires: int = 300, credentials: Credentials = CREDS) -> SignedRequest:
    request = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4QueryAuth(credentials, "connect", "us-west-2", expires=expires).add_auth(request)
    return to_wire(request)


def with_headers(request: SignedRequest, **changes: str | None) -> SignedRequest:
    headers = dict(request.headers)
    for name, value in changes.items():
        name = name.replace("_", "-")
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        if value is not None:
            headers[name] = value
    return replace(request, headers=headers)


def rejected(request: SignedRequest, *, service: str | None = None, now: datetime = NOW) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        verify_sigv4(request, secrets, service=service, now=now)
    return info.value


# --- requests botocore signs must verify ------------------------------------


def test_get_with_repeated_and_encoded_query_keys() -> None:
    query = "QuickConnectTypes=USER&QuickConnectTypes=QUEUE&nextToken=a%2Fb%3D"
    request = sign("GET", f"{BASE}/quick-connects/inst-1?{query}")
    assert request.query_string == query
    assert verify_sigv4(request, secrets, service="connect", now=NOW) == "test"
    # The canonical query is sorted, so the order on the wire does not matter...
    reordered = replace(
        request, query_string="nextToken=a%2Fb%3D&QuickConnectTypes=QUEUE&QuickConnectTypes=USER"
    )
    assert verify_sigv4(reordered, secrets, now=NOW) == "test"
    # ...but the values do.
    changed = replace(request, query_string=query.replace("QUEUE", "PHONE_NUMBER"))
    assert rejected(changed).code == "InvalidSignatureException"


def test_query_params_encoded_with_plus_for_spaces() -> None:
    # AWSRequest(params=...) goes on the wire via urlencode (space -> '+'),
    # while botocore signs it with '%20'.
    request = sign("GET", f"{BASE}/users/inst-1", params={"q": "a b+c/~*"})
    assert "+" in request.query_string
    assert verify_sigv4(request, secrets, now=NOW) == "test"


def test_query_not_canonically_encoded_matches_botocore() -> None:
    # botocore signs a URL's query as is (sorted, not re-encoded).
    request = sign("GET", f"{BASE}/users/inst-1?next=a/b&max=2")
    assert request.query_string == "next=a/b&max=2"
    assert verify_sigv4(request, secrets, now=NOW) == "test"


def test_path_segment_needing_encoding() -> None:
    request = sign("GET", f"{BASE}/users/inst-1/john%20doe%40example.com")
    assert request.raw_path == "/users/inst-1/john%20doe%40example.com"
    assert verify_sigv4(request, secrets, now=NOW) == "test"
    # The path must be passed exactly as received: botocore re-encodes the
    # already-encoded path, so a decoded path gives a different signature.
    decoded = replace(request, raw_path="/users/inst-1/john doe@example.com")
    assert rejected(decoded).code == "InvalidSignatureException"


def test_put_with_json_body() -> None:
    body = json.dumps({"Name": "Support", "Description": "Ünïcode"}).encode("utf-8")
    request = sign(
        "PUT",
        f"{BASE}/queues/inst-1",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert request.body == body
    assert "content-type" in request.headers["Authorization"]
    assert verify_sigv4(request, secrets, service="connect", now=NOW) == "test"


def test_security_token_header() -> None:
    request = sign("GET", f"{BASE}/instance", credentials=Credentials("test", "test", "session-token"))
    assert request.headers["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-security-token" in request.headers["Authorization"]
    assert verify_sigv4(request, secrets, now=NOW) == "test"
    tampered = with_headers(request, X_Amz_Security_Token="other-token")
    assert rejected(tampered).message == MISMATCH


def test_date_header_instead_of_x_amz_date() -> None:
    request = sign("GET", f"{BASE}/instance", headers={"Date": "placeholder"})
    assert "X-Amz-Date" not in request.headers
    assert request.headers["Date"] == "Wed, 25 Nov 2026 08:30:00 -0000"
    assert verify_sigv4(request, secrets, now=NOW) == "test"


def test_explicit_content_sha256_header() -> None:
    body = b'{"a": 1}'
    request = sign(
        "POST",
        f"{BASE}/contact/chat",
        data=body,
        headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    assert verify_sigv4(request, secrets, now=NOW) == "test"
    error = rejected(replace(request, body=b'{"a": 2}'))
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)


def test_unsigned_header_may_change() -> None:
    request = sign("GET", f"{BASE}/instance", headers={"User-Agent": "aws-cli/2"})
    assert "user-agent" not in request.headers["Authorization"]
    assert verify_sigv4(with_headers(request, User_Agent="curl/8"), secrets, now=NOW) == "test"


def test_presigned_url() -> None:
    request = presign(f"{BASE}/users/inst-1?nextToken=a%2Fb%3D", expires=300)
    assert "X-Amz-Signature=" in request.query_string
    assert "Authorization" not in request.headers
    assert verify_sigv4(request, secrets, service="connect", now=NOW + timedelta(minutes=4)) == "test"
    error = rejected(request, now=NOW + timedelta(minutes=6))
    assert error.code == "InvalidSignatureException"
    assert error.message.startswith("Signature expired: 20261125T083000Z is now earlier than")
    tampered = replace(request, query_string=request.query_string.replace("a%2Fb", "a%2Fc"))
    assert rejected(tampered).message == MISMATCH


# --- rejections ---------------------------------------------------------------


def test_wrong_secret() -> None:
    request = sign("GET", f"{BASE}/instance")
    with pytest.raises(SignatureError) as info:
        verify_sigv4(request, lambda key: "not-the-secret", now=NOW)
    assert (info.value.code, info.value.message, info.value.status) == (
        "InvalidSignatureException",
        MISMATCH,
        403,
    )


def test_unknown_access_key() -> None:
    request = sign("GET", f"{BASE}/instance", credentials=Credentials("AKIDUNKNOWN", "test"))
    error = rejected(request)
    assert error.code == "UnrecognizedClientException"
    assert error.message == "The security token included in the request is invalid."
    assert error.status == 403


def test_tampered_body() -> None:
    request = sign(
        "PUT", f"{BASE}/queues/inst-1", data=b'{"Name": "a"}', headers={"Content-Type": "application/json"}
    )
    error = rejected(replace(request, body=b'{"Name": "b"}'))
    assert (error.code, error.message) == ("InvalidSignatureException", MISMATCH)


def test_tampered_signed_header() -> None:
    request = sign("PUT", f"{BASE}/queues/inst-1", data=b"{}", headers={"Content-Type": "application/json"})
    assert rejected(with_headers(request, Content_Type="text/plain")).message == MISMATCH
    assert rejected(with_headers(request, Host="evil.example.com")).message == MISMATCH


def test_tampered_method_and_path() -> None:
    request = sign("GET", f"{BASE}/users/inst-1/u1")
    assert rejected(replace(request, method="DELETE")).message == MISMATCH
    assert rejected(replace(request, raw_path="/users/inst-1/u2")).message == MISMATCH


def test_missing_authorization() -> None:
    request = with_headers(sign("GET", f"{BASE}/instance"), Authorization=None)
    error = rejected(request)
    assert (error.code, error.message, error.status) == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
        403,
    )


def test_garbage_authorization() -> None:
    request = sign("GET", f"{BASE}/instance")
    error = rejected(with_headers(request, Authorization="garbage"))
    assert error.code == "IncompleteSignatureException"
    assert "AWS4-HMAC-SHA256" in error.message
    error = rejected(with_headers(request, Authorization="AWS4-HMAC-SHA256 nonsense"))
    assert error.code == "IncompleteSignatureException"
    assert error.message.startswith("Invalid key=value pair (missing equal-sign)")


def test_authorization_missing_parts() -> None:
    request = sign("GET", f"{BASE}/instance")
    header = "AWS4-HMAC-SHA256 Credential=test/20261125/us-west-2/connect/aws4_request"
    error = rejected(with_headers(request, Authorization=header))
    assert error.code == "IncompleteSignatureException"
    assert error.status == 403
    assert "Authorization header requires 'Signature' parameter." in error.message
    assert "Authorization header requires 'SignedHeaders' parameter." in error.message
    assert "'Credential' parameter" not in error.message


def test_missing_date() -> None:
    request = with_headers(sign("GET", f"{BASE}/instance"), X_Amz_Date=None)
    error = rejected(request)
    assert error.code == "IncompleteSignatureException"
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in error.message


def test_malformed_date() -> None:
    request = sign("GET", f"{BASE}/instance")
    error = rejected(with_headers(request, X_Amz_Date="2026-11-25T08:30:00Z"))
    assert error.code == "IncompleteSignatureException"
    assert error.message.startswith("Date must be in ISO-8601 'basic format'. Got '2026-11-25T08:30:00Z'.")


def test_expired_date() -> None:
    request = sign("GET", f"{BASE}/instance")
    assert verify_sigv4(request, secrets, now=NOW + timedelta(minutes=15)) == "test"
    error = rejected(request, now=NOW + timedelta(minutes=16))
    assert error.code == "InvalidSignatureException"
    assert error.message == (
        "Signature expired: 20261125T083000Z is now earlier than 20261125T083100Z "
        "(20261125T084600Z - 15 min.)"
    )


def test_date_not_yet_current() -> None:
    request = sign("GET", f"{BASE}/instance")
    error = rejected(request, now=NOW - timedelta(minutes=16))
    assert error.code == "InvalidSignatureException"
    assert error.message.startswith(
        "Signature not yet current: 20261125T083000Z is still later than 20261125T082900Z"
    )


def test_wrong_service_scope() -> None:
    request = sign("GET", f"{BASE}/instance", service="execute-api")
    assert verify_sigv4(request, secrets, now=NOW) == "test"
    error = rejected(request, service="connect")
    assert error.code == "InvalidSignatureException"
    assert error.message.startswith("Credential should be scoped to correct service: 'connect'.")


def test_malformed_credential() -> None:
    request = sign("GET", f"{BASE}/instance")
    header = request.headers["Authorization"].replace("/us-west-2/connect/aws4_request", "")
    error = rejected(with_headers(request, Authorization=header))
    assert error.code == "IncompleteSignatureException"
    assert "exactly 5 slash-delimited elements" in error.message


def test_credential_scope_date_must_match_request_date() -> None:
    request = sign("GET", f"{BASE}/instance")
    header = request.headers["Authorization"].replace("test/20261125/", "test/20261124/")
    error = rejected(with_headers(request, Authorization=header))
    assert error.code == "InvalidSignatureException"
    assert "'20261124' != '20261125'" in error.message


def test_header_and_query_auth_together_rejected() -> None:
    presigned = presign(f"{BASE}/instance")
    signed = sign("GET", f"{BASE}/instance")
    both = with_headers(presigned, Authorization=signed.headers["Authorization"])
    assert rejected(both).code == "IncompleteSignatureException"


# --- issue 17, item 11: the credential scope's region, and the adaptation to botocore's signer ------------


def sign_in(region: str, url: str) -> SignedRequest:
    request = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(CREDS, "connect", region).add_auth(request)
    return to_wire(request)


def test_credential_scoped_to_another_region_is_refused() -> None:
    request = sign_in("eu-west-1", f"{BASE}/instance")
    # Valid in itself (its own region), so only the region check refuses it.
    assert verify_sigv4(request, secrets, service="connect", region="eu-west-1", now=NOW) == "test"
    with pytest.raises(SignatureError) as info:
        verify_sigv4(request, secrets, service="connect", region="us-west-2", now=NOW)
    assert (info.value.code, info.value.status) == ("InvalidSignatureException", 403)
    assert info.value.message == "Credential should be scoped to a valid region, not 'eu-west-1'. "
    assert verify_sigv4(sign_in("us-west-2", f"{BASE}/instance"), secrets, region="us-west-2", now=NOW) == "test"


def test_repeated_headers_are_signed_joined_with_commas() -> None:
    request = AWSRequest(method="GET", url=f"{BASE}/instance")
    request.headers["X-Amz-Meta-Tag"] = "first"
    request.headers["X-Amz-Meta-Tag"] = "  second   value "  # HTTPHeaders keeps both lines
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(CREDS, "connect", "us-west-2").add_auth(request)
    assert "x-amz-meta-tag" in request.headers["Authorization"]
    lines = [(str(k), str(v)) for k, v in request.headers.items()] + [("Host", HOST)]
    wire = SignedRequest("GET", "/instance", "", lines, b"")
    assert verify_sigv4(wire, secrets, now=NOW) == "test"
    # Whitespace inside a value is canonicalised (trimmed, runs collapsed), so a proxy re-spacing it is fine...
    respaced = [(k, "second value" if v.strip().startswith("second") else v) for k, v in lines]
    assert verify_sigv4(replace(wire, headers=respaced), secrets, now=NOW) == "test"
    # ...but dropping, reordering or changing a value is not.
    for changed in ([(k, v) for k, v in lines if v != "first"],
                    [(k, v) for k, v in lines if k != "X-Amz-Meta-Tag"] + [("X-Amz-Meta-Tag", "second value"),
                                                                          ("X-Amz-Meta-Tag", "first")]):
        assert rejected(replace(wire, headers=changed)).message == MISMATCH


def test_unsigned_payload_is_not_accepted() -> None:
    request = sign("POST", f"{BASE}/contact/chat", data=b'{"a": 1}',
                   headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    error = rejected(request)
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)


def test_fragment_character_in_the_path_does_not_shorten_what_is_signed() -> None:
    request = sign("GET", f"{BASE}/users/inst-1")
    assert rejected(replace(request, raw_path="/users/inst-1#/u2")).message == MISMATCH


def test_signed_header_removed_or_emptied_is_refused() -> None:
    request = sign("PUT", f"{BASE}/queues/inst-1", data=b"{}", headers={"Content-Type": "application/json"})
    assert rejected(with_headers(request, Content_Type=None)).message == MISMATCH
    assert rejected(with_headers(request, Content_Type="")).message == MISMATCH

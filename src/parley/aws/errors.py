"""AWS error responses: an :class:`AwsError` carries a code, and domain errors map to the codes of the
operation's own error shapes, so each service answers with its own names (Connect's
InternalServiceException, the Participant Service's InternalServerException, …)."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from parley.domain import errors as d

# Status codes of errors that an operation's model may not list (checked before the handler runs).
DEFAULT_STATUS: dict[str, int] = {
    "AccessDeniedException": 403,
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
    "XAmzContentSHA256Mismatch": 400,
    "SerializationException": 400,
    "ThrottlingException": 429,
    "TooManyRequestsException": 429,
    "UnknownOperationException": 404,
    "NotImplementedException": 501,
    "InternalServiceException": 500,
    "InternalServerException": 500,
}

# For each domain error, the AWS codes that express it, best first; the first one the operation's
# model lists wins.
PREFERENCES: dict[type[d.DomainError], tuple[str, ...]] = {
    d.NotFound: ("ResourceNotFoundException", "UserNotFoundException", "InvalidParameterException",
                 "ValidationException"),
    d.Duplicate: ("DuplicateResourceException", "ResourceConflictException", "ConflictException",
                  "InvalidRequestException", "ValidationException"),
    d.InvalidRequest: ("InvalidRequestException", "ValidationException", "InvalidParameterException"),
    d.InvalidParameter: ("InvalidParameterException", "ValidationException", "InvalidRequestException"),
    d.LimitExceeded: ("LimitExceededException", "ServiceQuotaExceededException", "ThrottlingException"),
    d.QuotaExceeded: ("ServiceQuotaExceededException", "LimitExceededException"),
    d.Overloaded: ("ThrottlingException", "TooManyRequestsException", "LimitExceededException"),
    d.IdempotencyConflict: ("IdempotencyException", "ConflictException", "ResourceConflictException"),
    d.Conflict: ("ConflictException", "ResourceConflictException", "InvalidRequestException",
                 "ValidationException"),
    d.AccessDenied: ("AccessDeniedException", "InvalidRequestException", "ValidationException"),
    d.ContactNotActive: ("ContactNotFoundException", "ResourceNotFoundException", "AccessDeniedException",
                         "InvalidRequestException", "ValidationException"),
}


class AwsError(Exception):
    """An error to answer with: ``code`` goes to ``x-amzn-ErrorType``, ``message`` to the body."""

    def __init__(self, code: str, message: str, status: int | None = None, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields


# The status of an answer to a request that met the database unreachable (restarting, failing over): 503 says
# "not done, try again" to every client. Neither the Connect nor the Participant Service model lists a
# ServiceUnavailableException, so the body keeps the operation's own internal-error code (Connect's
# InternalServiceException, the Participant Service's InternalServerException), which typed clients know; botocore
# retries on the status alone (500, 502, 503 and 504 in its legacy and standard modes), and 503 rather than the
# models' 500 tells people and balancers the failure is temporary, not a bug. ThrottlingException (429) is retried
# too, but would tell adaptive clients to slow down for something that is not their rate.
UNAVAILABLE_STATUS = 503


def unavailable_error(internal_code: str) -> AwsError:
    """The answer while the database cannot be reached: ``internal_code`` with status 503."""
    return AwsError(internal_code, "The service is temporarily unavailable. Try again.", UNAVAILABLE_STATUS)


def error_status(op: OperationModel | None, code: str) -> int:
    if op is not None:
        for shape in op.error_shapes:
            if shape.name == code:
                return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    return DEFAULT_STATUS.get(code, 400)


def from_domain(op: OperationModel, error: d.DomainError, fallback: str) -> AwsError:
    """The AWS error for ``error`` in the vocabulary of ``op``'s error shapes."""
    listed = {shape.name for shape in op.error_shapes}
    preferences: tuple[str, ...] = ()
    for cls in type(error).__mro__:
        if cls in PREFERENCES:
            preferences = PREFERENCES[cls]
            break
    code = next((c for c in preferences if c in listed), fallback)
    fields: dict[str, Any] = {}
    if isinstance(error, d.NotFound) and code == "ResourceNotFoundException":
        members: dict[str, Any] = next((dict(s.members) for s in op.error_shapes if s.name == code), {})
        if "ResourceId" in members and error.resource_id:
            fields["ResourceId"] = error.resource_id
        if "ResourceType" in members and error.resource_type:
            fields["ResourceType"] = error.resource_type
    return AwsError(code, error.message, error_status(op, code), **fields)

"""Domain errors: what went wrong, in Parley's terms; the wire edges map them to each service's codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``message`` is shown to the caller as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """A referenced resource does not exist (or is not visible to the caller)."""

    def __init__(self, message: str, *, resource_type: str = "", resource_id: str = "") -> None:
        super().__init__(message)
        self.resource_type = resource_type
        self.resource_id = resource_id


class Duplicate(DomainError):
    """A resource with the same unique name already exists."""


class InvalidRequest(DomainError):
    """The request is well formed but not allowed in the current state or by a business rule."""


class InvalidParameter(DomainError):
    """A parameter has a value that is not acceptable (beyond what the wire model checks)."""


class LimitExceeded(DomainError):
    """A quota of the instance would be exceeded (a rate or a count)."""


class Conflict(DomainError):
    """The operation conflicts with the resource's current state."""


class IdempotencyConflict(Conflict):
    """A ClientToken already used for a different request (Connect's IdempotencyException)."""


class AccessDenied(DomainError):
    """The caller is not allowed to do this."""


class ContactNotActive(DomainError):
    """The contact exists no longer or has already ended (Connect answers 410 for this)."""


# What a refusal for want of capacity says (load shedding's ThrottlingException: Connect's starts the same way).
AT_CAPACITY = "Rate exceeded: the server is at capacity; retry with backoff."


class Overloaded(DomainError):
    """The server is at capacity and refused the work before doing any of it; the caller may retry with backoff."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or AT_CAPACITY)


class QuotaExceeded(DomainError):
    """A per-resource count quota (attachments, participants) would be exceeded."""

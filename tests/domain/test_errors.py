"""Domain errors: each carries its message as given (the edges show it as is) and maps to one kind of refusal."""

from __future__ import annotations

import pytest

from parley.domain.errors import (
    AT_CAPACITY,
    AccessDenied,
    Conflict,
    ContactNotActive,
    DomainError,
    Duplicate,
    InvalidParameter,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    Overloaded,
    QuotaExceeded,
)

KINDS = (AccessDenied, Conflict, ContactNotActive, Duplicate, InvalidParameter, InvalidRequest, LimitExceeded,
         NotFound, Overloaded, QuotaExceeded)


@pytest.mark.parametrize("kind", KINDS)
def test_every_error_is_a_domain_error_with_its_message(kind: type[DomainError]) -> None:
    error = kind("Something is wrong: 'x'.")
    assert isinstance(error, DomainError)
    assert error.message == str(error) == "Something is wrong: 'x'."


def test_overloaded_says_the_server_is_at_capacity_unless_told_otherwise() -> None:
    assert Overloaded().message == AT_CAPACITY and "at capacity" in AT_CAPACITY


def test_the_kinds_are_distinct() -> None:
    for kind in KINDS:
        assert [other for other in KINDS if issubclass(kind, other)] == [kind]


def test_not_found_names_the_resource() -> None:
    error = NotFound("Queue q-1 was not found.", resource_type="QUEUE", resource_id="q-1")
    assert (error.message, error.resource_type, error.resource_id) == ("Queue q-1 was not found.", "QUEUE", "q-1")
    bare = NotFound("gone")
    assert (bare.resource_type, bare.resource_id) == ("", "")

"""Fixtures for the Connect API acceptance tests: the demo instance's built-in ids, unique names, new users,
and a checker for AWS error responses (code, HTTP status, message)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

PASSWORD = "Parley-test-1"


@dataclass(frozen=True)
class DemoIds:
    """Ids of the demo instance's built-in resources, looked up through the API."""

    instance_id: str
    basic_queue: str
    basic_routing_profile: str
    flows: dict[str, str]
    security_profiles: dict[str, str]
    users: dict[str, str]

    @property
    def inbound_flow(self) -> str:
        return self.flows["Sample inbound flow"]

    @property
    def agent_transfer_flow(self) -> str:
        return self.flows["Default agent transfer"]

    @property
    def queue_transfer_flow(self) -> str:
        return self.flows["Default queue transfer"]


def everything(client: Any, method: str, key: str, **params: Any) -> list[Any]:
    """Every item of a paged Connect listing, through boto3's own paginator."""
    items: list[Any] = []
    for page in client.get_paginator(method).paginate(**params):
        items.extend(page[key])
    return items


def builtin_ids(client: Any, instance_id: str) -> DemoIds:
    flows = everything(client, "list_contact_flows", "ContactFlowSummaryList", InstanceId=instance_id)
    queues = everything(client, "list_queues", "QueueSummaryList", InstanceId=instance_id,
                        QueueTypes=["STANDARD"])
    profiles = everything(client, "list_routing_profiles", "RoutingProfileSummaryList", InstanceId=instance_id)
    security = everything(client, "list_security_profiles", "SecurityProfileSummaryList", InstanceId=instance_id)
    users = everything(client, "list_users", "UserSummaryList", InstanceId=instance_id)
    return DemoIds(
        instance_id=instance_id,
        basic_queue=next(q["Id"] for q in queues if q.get("Name") == "BasicQueue"),
        basic_routing_profile=next(p["Id"] for p in profiles if p["Name"] == "Basic Routing Profile"),
        flows={f["Name"]: f["Id"] for f in flows},
        security_profiles={s["Name"]: s["Id"] for s in security},
        users={u["Username"]: u["Id"] for u in users},
    )


@pytest.fixture(scope="session")
def demo(connect: Any, demo_id: str) -> DemoIds:
    return builtin_ids(connect, demo_id)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A name no other test uses: ``prefix-<8 hex digits>``."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
def make_user(connect: Any, demo: DemoIds, unique: Callable[[str], str]) -> Callable[..., dict[str, Any]]:
    """Create an Agent user of the demo instance; returns the CreateUser response plus ``Username``."""

    def make(prefix: str = "user", **overrides: Any) -> dict[str, Any]:
        username = unique(prefix)
        params: dict[str, Any] = {
            "InstanceId": demo.instance_id, "Username": username, "Password": PASSWORD,
            "IdentityInfo": {"FirstName": "Test", "LastName": "User"},
            "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
            "SecurityProfileIds": [demo.security_profiles["Agent"]],
            "RoutingProfileId": demo.basic_routing_profile, **overrides,
        }
        created = connect.create_user(**params)
        return {**created, "Username": params["Username"]}

    return make


Refused = Callable[..., dict[str, Any]]


def check_refused(call: Callable[[], Any], code: str, status: int, *fragments: str) -> dict[str, Any]:
    """Run ``call``, expect an AWS error with ``code`` and ``status`` whose Message contains ``fragments``."""
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    error = response["Error"]
    assert error["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    message = error.get("Message", "")
    assert message, response
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype", "").startswith(code)
    return response


@pytest.fixture(scope="session")
def list_all() -> Callable[..., list[Any]]:
    """``list_all(client, "list_users", "UserSummaryList", InstanceId=…)``: every item of a paged listing."""
    return everything


@pytest.fixture(scope="session")
def builtins_of(connect: Any) -> Callable[[str], DemoIds]:
    """The built-in resource ids of any instance."""
    return lambda instance_id: builtin_ids(connect, instance_id)


@pytest.fixture(scope="session")
def refused() -> Refused:
    """``refused(lambda: client.op(...), code, status, *message_fragments)`` -> the error response."""
    return check_refused

"""The input rules of parley.service.inputs are the Connect model's: the same limits as its shapes, and a password is
accepted exactly when the Connect API's edge (parley.aws.shapes, over botocore's model) accepts it; the use cases
refuse what breaks them with the console's sentences."""

from __future__ import annotations

import pytest
from botocore.model import Shape

from parley.aws.model import Service
from parley.aws.shapes import validate
from parley.domain.errors import InvalidParameter
from parley.domain.resources import IdentityInfo, RoutingQueueConfig
from parley.service import inputs


@pytest.fixture(scope="module")
def model() -> Service:
    return Service.load("connect", "2017-08-08")


def member(model: Service, operation: str, *path: str) -> Shape:
    shape: Shape = model.model.operation_model(operation).input_shape
    for name in path:
        shape = shape.member.members[name] if shape.type_name == "list" else shape.members[name]  # type: ignore[attr-defined]
    return shape


@pytest.mark.parametrize(("operation", "path", "low", "high"), [
    ("CreateSecurityProfile", ("SecurityProfileName",), 1, inputs.MAX_NAME),
    ("CreateSecurityProfile", ("Description",), None, inputs.MAX_DESCRIPTION),
    ("CreateRoutingProfile", ("Name",), 1, inputs.MAX_NAME),
    ("CreateRoutingProfile", ("Description",), 1, inputs.MAX_DESCRIPTION),
    ("CreateRoutingProfile", ("QueueConfigs", "Priority"), *inputs.PRIORITY),
    ("CreateRoutingProfile", ("QueueConfigs", "Delay"), *inputs.DELAY),
    ("AssociateRoutingProfileQueues", ("QueueConfigs", "Priority"), *inputs.PRIORITY),
    ("AssociateRoutingProfileQueues", ("QueueConfigs", "Delay"), *inputs.DELAY),
    ("CreateUser", ("Username",), 1, inputs.MAX_USERNAME),
    ("CreateUser", ("IdentityInfo", "FirstName"), 0, inputs.MAX_FIRST_NAME),
    ("CreateUser", ("IdentityInfo", "LastName"), 0, inputs.MAX_LAST_NAME),
    ("UpdateUserIdentityInfo", ("IdentityInfo", "FirstName"), 0, inputs.MAX_FIRST_NAME),
    ("CreateQuickConnect", ("Name",), 1, inputs.MAX_NAME),
    ("CreateQuickConnect", ("Description",), 1, inputs.MAX_DESCRIPTION),
    ("UpdateQuickConnectName", ("Name",), 1, inputs.MAX_NAME),
    ("UpdateQuickConnectName", ("Description",), 0, inputs.MAX_DESCRIPTION),
])
def test_the_limits_are_the_models(model: Service, operation: str, path: tuple[str, ...], low: int | None,
                                   high: int) -> None:
    meta = member(model, operation, *path).metadata
    assert (meta.get("min"), meta["max"]) == (low, high)


PASSWORDS = ["Parley-demo-1", "Abcdefg1", "abcdefg1", "ABCDEFG1", "Abcdefgh", "Abc1", "Abcdefg 1", "Abcdefg1\n",
             "A" * 60 + "bc12", "A" * 62 + "bc12", "Äbcdefg1x", "Abcdefg٣", "Ab\x1ccdefg1", "Ab\u00a0cdefg1",
             "Abcdef\tg1", "Abcdefg1\u2028", "ab-CD-12", "Ab1" + "\U0001F600" * 5]


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_is_accepted_exactly_when_the_connect_api_accepts_it(model: Service, password: str) -> None:
    problems: list[str] = []
    validate(member(model, "CreateUser", "Password"), password, "Password", problems)
    api = not problems
    try:
        inputs.check_password(password)
        service = True
    except InvalidParameter as refused:
        assert refused.message == inputs.PASSWORD_RULE
        service = False
    assert service == api


def test_the_refusals_say_what_to_do() -> None:
    with pytest.raises(InvalidParameter, match=r"^Enter a name\.$"):
        inputs.check_text("", "a name", inputs.MAX_NAME)
    with pytest.raises(InvalidParameter, match=r"^The description is longer than 250 characters\.$"):
        inputs.check_text("x" * 251, "the description", inputs.MAX_DESCRIPTION, required=False)
    inputs.check_text(None, "the description", inputs.MAX_DESCRIPTION, required=False)
    with pytest.raises(InvalidParameter, match=r"^The last name is longer than 300 characters\.$"):
        inputs.check_identity(IdentityInfo(first_name="Ann", last_name="x" * 301))
    with pytest.raises(InvalidParameter, match=r"^Enter the priority as a whole number from 1 to 99\.$"):
        inputs.check_queue_configs([RoutingQueueConfig("q", "CHAT", 1, 0), RoutingQueueConfig("q", "CHAT", 100, 0)])
    with pytest.raises(InvalidParameter, match=r"^Enter the delay in seconds as a whole number from 0 to 9999\.$"):
        inputs.check_queue_configs([RoutingQueueConfig("q", "CHAT", 1, 10000)])

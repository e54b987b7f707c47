"""The input rules Connect's model states for the administrative use cases (required names, lengths, the password
rule, routing priorities and delays), checked inside the use cases so every edge gets the same rule and message.

The Connect API's edge validates against the model before a use case runs, so these never fire for its requests
(its answers stay the model's); the console, which has no model, gets them from here. Each limit is the model's:
keep them equal to it (tests/service/test_inputs.py compares them).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from parley.domain.errors import InvalidParameter
from parley.domain.resources import IdentityInfo, RoutingQueueConfig

# Lengths of the model's shapes: names of profiles and quick connects, descriptions, usernames, a user's names.
MAX_NAME = 127
MAX_DESCRIPTION = 250
MAX_USERNAME = 100
MAX_FIRST_NAME = 255
MAX_LAST_NAME = 300
# RoutingQueueConfig's Priority and Delay (seconds).
PRIORITY = (1, 99)
DELAY = (0, 9999)
# CreateUser's Password pattern, as the model writes it; matched with the engine the Connect API's edge uses
# (parley.aws.shapes: the ``regex`` module, ``$`` as the end of the text), so both accept exactly the same.
PASSWORD_PATTERN = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[a-zA-Z\d\S]{8,64}\Z"
PASSWORD_RULE = ("The password must be 8 to 64 characters with at least one lower-case letter, one upper-case "
                 "letter and one digit, and no spaces.")


def check_text(value: str | None, label: str, longest: int, *, required: bool = True) -> None:
    """``value`` is given when ``required`` and at most ``longest`` characters; ``label`` names it in a sentence
    ("a name", "the description")."""
    if required and not value:
        raise InvalidParameter(f"Enter {label}.")
    if value and len(value) > longest:
        raise InvalidParameter(f"{label[0].upper()}{label[1:]} is longer than {longest} characters.")


def check_password(value: str) -> None:
    if not _password().match(value):
        raise InvalidParameter(PASSWORD_RULE)


def _password() -> regex.Pattern[str]:
    return regex.compile(PASSWORD_PATTERN)


def check_identity(identity: IdentityInfo) -> None:
    check_text(identity.first_name, "the first name", MAX_FIRST_NAME, required=False)
    check_text(identity.last_name, "the last name", MAX_LAST_NAME, required=False)


def check_queue_configs(configs: Iterable[RoutingQueueConfig]) -> None:
    """Each queue of a routing profile has a priority and a delay in the model's ranges."""
    for config in configs:
        for label, value, (low, high) in (("the priority", config.priority, PRIORITY),
                                          ("the delay in seconds", config.delay, DELAY)):
            if not low <= value <= high:
                raise InvalidParameter(f"Enter {label} as a whole number from {low} to {high}.")

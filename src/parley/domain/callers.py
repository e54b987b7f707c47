"""Who is calling a use case: an AWS-style operator, a signed-in member of one instance, or Parley itself.

Services take the caller as their first parameter and ask :func:`parley.service.access.require` whether it may act;
the edges only say who is calling (the Connect API an :class:`Operator`, the CCP and the console a :class:`Member`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from parley.domain.resources import User


@dataclass(frozen=True)
class Operator:
    """A principal that signed its request with an AWS access key (the Connect API over SigV4). Parley has no IAM:
    an operator may do everything, on every instance, as an account's administrator may on Amazon Connect."""

    access_key_id: str


@dataclass(frozen=True)
class Member:
    """A signed-in user of one instance (the CCP, the CTI API, the console): allowed what the user's security
    profiles grant (``permissions``, Connect's API names, read when the member was made), in that instance only."""

    user: User
    permissions: frozenset[str]

    @property
    def instance_id(self) -> str:
        return self.user.instance_id

    @property
    def name(self) -> str:
        return self.user.username


class System(Enum):
    """Parley itself: the demo setup, migrations, the command line, timers. Allowed everything."""

    SYSTEM = "system"


SYSTEM = System.SYSTEM

Caller: TypeAlias = Operator | Member | System

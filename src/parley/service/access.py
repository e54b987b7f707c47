"""The one access check: may this caller do that in this instance? Every use case asks it, whichever edge called.

An :class:`~parley.domain.callers.Operator` (a SigV4 access key) and :data:`~parley.domain.callers.SYSTEM` may do
everything; a :class:`~parley.domain.callers.Member` may do what its security profiles grant, in its own instance,
and nothing that no security profile grants (what Connect leaves to IAM principals). What each use case needs is
the table :data:`parley.domain.permissions.NEEDS`.
"""

from __future__ import annotations

from typing import cast

from parley.domain.callers import Caller, Member
from parley.domain.errors import AccessDenied
from parley.domain.permissions import NEEDS
from parley.domain.resources import SecurityProfile, User
from parley.service.lookups import instance_id_of
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork


async def permissions_of(uow: UnitOfWork, user: User) -> frozenset[str]:
    """Every permission ``user``'s security profiles grant (profiles deleted since are skipped)."""
    granted: set[str] = set()
    for profile_id in user.security_profile_ids:
        profile = await uow.resources.find(SecurityProfile, user.instance_id, profile_id)
        if profile is not None:
            granted.update(profile.permissions)
    return frozenset(granted)


async def member_of(source: UnitOfWork | Storage, user: User) -> Member:
    """``user`` as a caller, with the permissions its security profiles grant now (read through the transaction
    ``source``, or in a transaction of its own when ``source`` is the storage)."""
    if hasattr(source, "transaction"):
        async with cast(Storage, source).transaction() as uow:
            return Member(user, await permissions_of(uow, user))
    return Member(user, await permissions_of(source, user))


def require(caller: Caller, instance_id: str | None, permission: str | None, action: str) -> None:
    """Refuse (:class:`AccessDenied`, saying why) unless ``caller`` may ``action`` in instance ``instance_id`` (an id
    or ARN; None for what is not one instance's, like creating instances) with ``permission`` (Connect's name; None
    when no security profile grants it)."""
    if not isinstance(caller, Member):
        return
    if permission is None or instance_id is None:
        raise AccessDenied(
            f"{caller.name} may not {action}: no security profile permission allows it; it takes an AWS access key "
            "(the Connect API)."
        )
    if instance_id_of(instance_id) != caller.instance_id:
        raise AccessDenied(
            f"{caller.name} may not {action} in instance {instance_id_of(instance_id)}: a user acts only in the "
            "user's own instance."
        )
    if permission not in caller.permissions:
        raise AccessDenied(f"{caller.name} may not {action}: none of the user's security profiles grants {permission}.")


def allow(caller: Caller, instance_id: str | None, use_case: str) -> None:
    """:func:`require` what the use case named ``use_case`` needs (:data:`parley.domain.permissions.NEEDS`)."""
    need = NEEDS[use_case]
    require(caller, instance_id, need.permission, need.action)

"""The one access check: which permissions a user's security profiles grant, and refusing what they don't."""

from __future__ import annotations

from parley.domain.errors import AccessDenied
from parley.domain.resources import SecurityProfile, User
from parley.service.ports import Tx


async def permissions_of(tx: Tx, user: User) -> frozenset[str]:
    granted: set[str] = set()
    for profile_id in user.security_profile_ids:
        profile = await tx.get_resource(SecurityProfile, user.instance_id, profile_id)
        if profile is not None:
            granted.update(profile.permissions)
    return frozenset(granted)


async def require(tx: Tx, user: User, permission: str, action: str) -> None:
    """Refuse ``action`` unless one of ``user``'s security profiles grants ``permission``."""
    if permission not in await permissions_of(tx, user):
        raise AccessDenied(
            f"{user.username} may not {action}: none of the user's security profiles grants {permission}."
        )

"""Security-profile permissions and the built-in profiles: who may use the CCP, quick connects, monitoring."""

from __future__ import annotations

import re
from pathlib import Path

import parley
from parley.domain.permissions import (
    ACCESS_CCP,
    ADMIN_PERMISSIONS,
    AGENT_PERMISSIONS,
    BARGE,
    BUILTIN_SECURITY_PROFILES,
    MONITOR,
    NEEDS,
    QUICK_CONNECTS_VIEW,
)


def permissions(profile: str) -> set[str]:
    return set(BUILTIN_SECURITY_PROFILES[profile][1])


def test_the_built_in_profiles_of_a_new_instance() -> None:
    assert sorted(BUILTIN_SECURITY_PROFILES) == ["Admin", "Agent", "CallCenterManager", "QualityAnalyst"]
    for description, granted in BUILTIN_SECURITY_PROFILES.values():
        assert description and len(set(granted)) == len(granted)


def test_agents_get_the_ccp_and_quick_connects_only() -> None:
    assert permissions("Agent") == set(AGENT_PERMISSIONS) == {ACCESS_CCP, "OutboundCallAccess", QUICK_CONNECTS_VIEW}


def test_admins_get_everything_and_managers_monitor() -> None:
    admin = permissions("Admin")
    assert set(ADMIN_PERMISSIONS) | set(AGENT_PERMISSIONS) | {MONITOR, BARGE} <= admin
    assert {ACCESS_CCP, MONITOR, BARGE} <= permissions("CallCenterManager")
    assert not permissions("CallCenterManager") & {"Users.Create", "Users.Delete", "SecurityProfiles.Edit"}


def test_quality_analysts_cannot_use_the_ccp() -> None:
    assert ACCESS_CCP not in permissions("QualityAnalyst")
    assert MONITOR in permissions("QualityAnalyst")


def test_admins_may_do_every_use_case_a_security_profile_can_grant() -> None:
    needed = {need.permission for need in NEEDS.values() if need.permission is not None}
    assert needed <= permissions("Admin")
    assert "ContactSearchView" in needed & permissions("CallCenterManager")


def test_every_use_case_of_the_table_is_asked_by_a_service_and_no_other() -> None:
    """The table has no entry nobody asks for, and no service asks for one it lacks."""
    source = "\n".join(p.read_text() for p in sorted((Path(parley.__file__).parent / "service").glob("*.py")))
    asked = set(re.findall(r'\ballow\(.*"(\w+)"\)$', source, re.MULTILINE))
    assert asked == set(NEEDS)

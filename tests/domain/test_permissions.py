"""Security-profile permissions and the built-in profiles: who may use the CCP, quick connects, monitoring."""

from __future__ import annotations

from parley.domain.permissions import (
    ACCESS_CCP,
    ADMIN_PERMISSIONS,
    AGENT_PERMISSIONS,
    BARGE,
    BUILTIN_SECURITY_PROFILES,
    MONITOR,
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

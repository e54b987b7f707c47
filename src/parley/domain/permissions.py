"""Security-profile permissions, with the names Connect uses, and the built-in profiles."""

from __future__ import annotations

# Permission names as in Connect's "List of security profile permissions".
ACCESS_CCP = "BasicAgentAccess"
OUTBOUND_CALL = "OutboundCallAccess"
QUICK_CONNECTS_VIEW = "TransferDestinations.View"
QUICK_CONNECTS_CREATE = "TransferDestinations.Create"
QUICK_CONNECTS_EDIT = "TransferDestinations.Edit"
QUICK_CONNECTS_DELETE = "TransferDestinations.Delete"
MONITOR = "ManagerListenIn"
BARGE = "ManagerBargeIn"
METRICS = "AccessMetrics"
REALTIME_METRICS = "AccessMetrics.RealTimeMetrics.Access"

# Permissions of the administrator console areas Parley has.
ADMIN_PERMISSIONS: tuple[str, ...] = (
    "Users.View", "Users.Create", "Users.Edit", "Users.Delete", "Users.EditPermission",
    "SecurityProfiles.View", "SecurityProfiles.Create", "SecurityProfiles.Edit", "SecurityProfiles.Delete",
    "RoutingPolicies.View", "RoutingPolicies.Create", "RoutingPolicies.Edit",
    "Queues.View", "Queues.Create", "Queues.Edit",
    QUICK_CONNECTS_VIEW, QUICK_CONNECTS_CREATE, QUICK_CONNECTS_EDIT, QUICK_CONNECTS_DELETE,
    "ContactFlows.View", "HoursOfOperation.View", "AgentStates.View", "AgentStates.Create",
    "AgentStates.Edit", "TelephonyAndChat.View", "TelephonyAndChat.Edit",
)

AGENT_PERMISSIONS: tuple[str, ...] = (ACCESS_CCP, OUTBOUND_CALL, QUICK_CONNECTS_VIEW)

MANAGER_PERMISSIONS: tuple[str, ...] = (
    ACCESS_CCP, OUTBOUND_CALL, QUICK_CONNECTS_VIEW, MONITOR, BARGE, METRICS, REALTIME_METRICS,
    "ContactSearchView", "Users.View", "Queues.View", "RoutingPolicies.View",
)

# The built-in profiles every instance starts with: name -> (description, permissions).
BUILTIN_SECURITY_PROFILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Admin": (
        "Administrators: everything, including the CCP and monitoring.",
        (*ADMIN_PERMISSIONS, ACCESS_CCP, OUTBOUND_CALL, MONITOR, BARGE, METRICS, REALTIME_METRICS),
    ),
    "Agent": ("Agents: the CCP and quick connects.", AGENT_PERMISSIONS),
    "CallCenterManager": ("Managers: the CCP, real-time metrics, monitoring and barge.", MANAGER_PERMISSIONS),
    "QualityAnalyst": ("Quality analysts: real-time metrics and monitoring.", (METRICS, MONITOR)),
}

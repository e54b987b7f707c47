"""Security-profile permissions, with the names Connect uses; what each use case needs; the built-in profiles."""

from __future__ import annotations

from dataclasses import dataclass

# Permission names as in Connect's "List of security profile permissions" (the API names).
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
CONTACT_SEARCH = "ContactSearchView"
USERS_VIEW = "Users.View"
USERS_CREATE = "Users.Create"
USERS_EDIT = "Users.Edit"
USERS_DELETE = "Users.Delete"
USERS_EDIT_PERMISSION = "Users.EditPermission"
SECURITY_PROFILES_VIEW = "SecurityProfiles.View"
SECURITY_PROFILES_CREATE = "SecurityProfiles.Create"
ROUTING_PROFILES_VIEW = "RoutingPolicies.View"
ROUTING_PROFILES_CREATE = "RoutingPolicies.Create"
ROUTING_PROFILES_EDIT = "RoutingPolicies.Edit"
QUEUES_VIEW = "Queues.View"
QUEUES_CREATE = "Queues.Create"
QUEUES_EDIT = "Queues.Edit"
FLOWS_VIEW = "ContactFlows.View"
# Instance settings (attributes, approved origins) are IAM-only on Amazon Connect; Parley's console gates them with
# the telephony-and-chat settings permissions its Admin profile has always had.
SETTINGS_VIEW = "TelephonyAndChat.View"
SETTINGS_EDIT = "TelephonyAndChat.Edit"


@dataclass(frozen=True)
class Need:
    """What a use case asks of a signed-in member: a permission (None: no security profile grants it, as on Connect,
    where only an IAM principal may call it) and the action a refusal names."""

    permission: str | None
    action: str


# What each use case needs, named like the Connect operation it is (Parley's own in the same style). The Connect
# API, the CTI API and the console call the same service methods, and each method asks this table.
NEEDS: dict[str, Need] = {
    # instances: creating and listing them is the account's, not one instance's
    "CreateInstance": Need(None, "create instances"),
    "ListInstances": Need(None, "list instances"),
    "DescribeInstance": Need(SETTINGS_VIEW, "view the instance's settings"),
    "ListInstanceAttributes": Need(SETTINGS_VIEW, "view the instance's settings"),
    "UpdateInstanceAttribute": Need(SETTINGS_EDIT, "change the instance's settings"),
    "SetConferenceCap": Need(SETTINGS_EDIT, "change the instance's settings"),
    "TagInstance": Need(SETTINGS_EDIT, "tag the instance"),
    "ListApprovedOrigins": Need(SETTINGS_VIEW, "view approved origins"),
    "AssociateApprovedOrigin": Need(SETTINGS_EDIT, "approve origins"),
    "DisassociateApprovedOrigin": Need(SETTINGS_EDIT, "remove approved origins"),
    # users
    "CreateUser": Need(USERS_CREATE, "create users"),
    "DescribeUser": Need(USERS_VIEW, "view users"),
    "ListUsers": Need(USERS_VIEW, "view users"),
    "DeleteUser": Need(USERS_DELETE, "delete users"),
    "UpdateUserIdentityInfo": Need(USERS_EDIT, "edit users"),
    "UpdateUserRoutingProfile": Need(USERS_EDIT, "edit users"),
    "SetUserPassword": Need(USERS_EDIT, "edit users"),
    "UpdateUserSecurityProfiles": Need(USERS_EDIT_PERMISSION, "change users' security profiles"),
    # security profiles
    "CreateSecurityProfile": Need(SECURITY_PROFILES_CREATE, "create security profiles"),
    "DescribeSecurityProfile": Need(SECURITY_PROFILES_VIEW, "view security profiles"),
    "ListSecurityProfiles": Need(SECURITY_PROFILES_VIEW, "view security profiles"),
    "ListSecurityProfilePermissions": Need(SECURITY_PROFILES_VIEW, "view security profiles"),
    # routing profiles
    "CreateRoutingProfile": Need(ROUTING_PROFILES_CREATE, "create routing profiles"),
    "DescribeRoutingProfile": Need(ROUTING_PROFILES_VIEW, "view routing profiles"),
    "ListRoutingProfiles": Need(ROUTING_PROFILES_VIEW, "view routing profiles"),
    "ListRoutingProfileQueues": Need(ROUTING_PROFILES_VIEW, "view routing profiles"),
    "AssociateRoutingProfileQueues": Need(ROUTING_PROFILES_EDIT, "edit routing profiles"),
    # queues (a queue's quick connects are edited on the queue, as in Connect's admin website)
    "CreateQueue": Need(QUEUES_CREATE, "create queues"),
    "DescribeQueue": Need(QUEUES_VIEW, "view queues"),
    "ListQueues": Need(QUEUES_VIEW, "view queues"),
    "AssociateQueueQuickConnects": Need(QUEUES_EDIT, "edit queues"),
    "DisassociateQueueQuickConnects": Need(QUEUES_EDIT, "edit queues"),
    # quick connects
    "CreateQuickConnect": Need(QUICK_CONNECTS_CREATE, "create quick connects"),
    "DescribeQuickConnect": Need(QUICK_CONNECTS_VIEW, "view quick connects"),
    "ListQuickConnects": Need(QUICK_CONNECTS_VIEW, "view quick connects"),
    "ListQueueQuickConnects": Need(QUICK_CONNECTS_VIEW, "view quick connects"),
    "UpdateQuickConnectConfig": Need(QUICK_CONNECTS_EDIT, "edit quick connects"),
    "UpdateQuickConnectName": Need(QUICK_CONNECTS_EDIT, "edit quick connects"),
    "DeleteQuickConnect": Need(QUICK_CONNECTS_DELETE, "delete quick connects"),
    "UseQuickConnect": Need(QUICK_CONNECTS_VIEW, "use quick connects"),  # the CCP's AddNewConnection, transfers
    # flows
    "DescribeContactFlow": Need(FLOWS_VIEW, "view flows"),
    "ListContactFlows": Need(FLOWS_VIEW, "view flows"),
    # contacts: starting, stopping, changing and joining them are API calls only on Connect
    "StartChatContact": Need(None, "start chat contacts"),
    "StopContact": Need(None, "stop contacts"),
    "UpdateContactAttributes": Need(None, "change contact attributes"),
    "CreateParticipant": Need(None, "add participants to contacts"),
    "DescribeContact": Need(CONTACT_SEARCH, "view contacts"),
    "GetContactAttributes": Need(CONTACT_SEARCH, "view contacts"),
    # enhanced chat monitoring (parley.domain.monitoring): a member monitors as itself
    "MonitorContact": Need(MONITOR, "monitor contacts"),
    "ListContactMonitors": Need(MONITOR, "see who monitors contacts"),
    "BargeIn": Need(BARGE, "barge in on contacts"),
    "SetMonitorCap": Need(SETTINGS_EDIT, "change the instance's settings"),
    # real-time metrics (the API's two operations and the console's live view read the same figures)
    "GetCurrentMetricData": Need(REALTIME_METRICS, "view real-time metrics"),
    "GetCurrentUserData": Need(REALTIME_METRICS, "view real-time metrics"),
    # the audit trail of configuration changes (parley.service.audit)
    "ListAuditEvents": Need(SETTINGS_VIEW, "view the audit trail"),
    # the agent's own
    "UseCcp": Need(ACCESS_CCP, "use the Contact Control Panel"),
    # canned responses (parley.domain.canned): the instance's list is its settings, as a widget's; an agent reads it
    # and keeps a list of its own with the CCP's permission
    "ListCannedResponses": Need(SETTINGS_VIEW, "view the instance's canned responses"),
    "CreateCannedResponse": Need(SETTINGS_EDIT, "add canned responses to the instance's list"),
    "UpdateCannedResponse": Need(SETTINGS_EDIT, "change the instance's canned responses"),
    "DeleteCannedResponse": Need(SETTINGS_EDIT, "delete the instance's canned responses"),
    "UseCannedResponses": Need(ACCESS_CCP, "use canned responses"),
}

# Permissions of the administrator console areas Parley has.
ADMIN_PERMISSIONS: tuple[str, ...] = (
    USERS_VIEW, USERS_CREATE, USERS_EDIT, USERS_DELETE, USERS_EDIT_PERMISSION,
    SECURITY_PROFILES_VIEW, SECURITY_PROFILES_CREATE, "SecurityProfiles.Edit", "SecurityProfiles.Delete",
    ROUTING_PROFILES_VIEW, ROUTING_PROFILES_CREATE, ROUTING_PROFILES_EDIT,
    QUEUES_VIEW, QUEUES_CREATE, QUEUES_EDIT,
    QUICK_CONNECTS_VIEW, QUICK_CONNECTS_CREATE, QUICK_CONNECTS_EDIT, QUICK_CONNECTS_DELETE,
    FLOWS_VIEW, "HoursOfOperation.View", "AgentStates.View", "AgentStates.Create",
    "AgentStates.Edit", SETTINGS_VIEW, SETTINGS_EDIT, CONTACT_SEARCH,
)

AGENT_PERMISSIONS: tuple[str, ...] = (ACCESS_CCP, OUTBOUND_CALL, QUICK_CONNECTS_VIEW)

MANAGER_PERMISSIONS: tuple[str, ...] = (
    ACCESS_CCP, OUTBOUND_CALL, QUICK_CONNECTS_VIEW, MONITOR, BARGE, METRICS, REALTIME_METRICS,
    CONTACT_SEARCH, USERS_VIEW, QUEUES_VIEW, ROUTING_PROFILES_VIEW,
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

# Each permission as Connect's admin website names it on a security profile's page (Parley's own last).
LABELS: dict[str, str] = {
    ACCESS_CCP: "Contact Control Panel (CCP) - Access",
    OUTBOUND_CALL: "Contact Control Panel (CCP) - Make outbound calls",
    QUICK_CONNECTS_VIEW: "Quick connects - View", QUICK_CONNECTS_CREATE: "Quick connects - Create",
    QUICK_CONNECTS_EDIT: "Quick connects - Edit", QUICK_CONNECTS_DELETE: "Quick connects - Remove",
    METRICS: "Access metrics", REALTIME_METRICS: "Real-time metrics - Access",
    MONITOR: "Real-time contact monitoring - Monitor", BARGE: "Real-time contact monitoring - Barge",
    CONTACT_SEARCH: "Contact search - View",
    USERS_VIEW: "Users - View", USERS_CREATE: "Users - Create", USERS_EDIT: "Users - Edit",
    USERS_DELETE: "Users - Remove", USERS_EDIT_PERMISSION: "Users - Edit permission",
    SECURITY_PROFILES_VIEW: "Security profiles - View", SECURITY_PROFILES_CREATE: "Security profiles - Create",
    "SecurityProfiles.Edit": "Security profiles - Edit", "SecurityProfiles.Delete": "Security profiles - Remove",
    ROUTING_PROFILES_VIEW: "Routing profiles - View", ROUTING_PROFILES_CREATE: "Routing profiles - Create",
    ROUTING_PROFILES_EDIT: "Routing profiles - Edit",
    QUEUES_VIEW: "Queues - View", QUEUES_CREATE: "Queues - Create", QUEUES_EDIT: "Queues - Edit",
    FLOWS_VIEW: "Flows - View", "HoursOfOperation.View": "Hours of operation - View",
    "AgentStates.View": "Agent status - View", "AgentStates.Create": "Agent status - Create",
    "AgentStates.Edit": "Agent status - Edit",
    SETTINGS_VIEW: "Telephony and chat settings - View (Parley)",
    SETTINGS_EDIT: "Telephony and chat settings - Edit (Parley)",
}

"""Enhanced chat monitoring: who may start monitoring which chat, what a silent or barged supervisor may do, and
how supervisors count for seats, receipts and a chat's lifetime (the rules of docs/monitoring.md)."""

from __future__ import annotations

from collections.abc import Iterable

from parley.domain.contact import (
    AGENT,
    CONNECTED,
    MONITOR_SEGMENT,
    SUPERVISOR,
    Contact,
    Participant,
)
from parley.domain.errors import (
    AccessDenied,
    InvalidParameter,
    InvalidRequest,
    LimitExceeded,
    QuotaExceeded,
)
from parley.domain.instance import DEFAULT_MONITOR_CAP, Instance
from parley.domain.permissions import ACCESS_CCP, BARGE, MONITOR

# The monitoring modes (Connect's MonitorCapability and StreamsJS's connect.MonitoringMode).
SILENT_MONITOR = "SILENT_MONITOR"
BARGED = "BARGE"
MODES = (SILENT_MONITOR, BARGED)
# The instance attribute that turns monitoring on (the console's "Enhanced Monitoring for Chat").
SWITCH = "ENHANCED_CHAT_MONITORING"
# Connect's limit: "only 1 supervisor can be in barged in mode for a given chat".
MAX_BARGED = 1
# The range of the per-instance monitor limit (Connect's is 5).
MONITOR_CAP_RANGE = (1, DEFAULT_MONITOR_CAP)
# What a silent monitor is told when it tries to write.
SILENT = ("You are monitoring this chat silently, so you cannot write to it or act in it; barge in first "
          "(UpdateMonitorParticipantState BARGE).")


def monitoring_enabled(instance: Instance) -> bool:
    return instance.flag(SWITCH)


def check_enabled(instance: Instance) -> None:
    if not monitoring_enabled(instance):
        raise InvalidRequest(
            "Enhanced chat monitoring is not enabled on this instance (instance attribute ENHANCED_CHAT_MONITORING; "
            "the console's \"Enable Multi-Party Chats and Enhanced Monitoring for Chat\"), so supervisors cannot "
            "monitor or barge in on chats."
        )


def check_capabilities(requested: Iterable[str] | None) -> tuple[str, ...]:
    """MonitorContact's AllowedMonitorCapabilities, in a stable order (required: Parley monitors chats only with
    enhanced monitoring on, and Connect requires the list when barge is enabled)."""
    wanted = list(requested or ())
    if not wanted:
        raise InvalidRequest(
            "AllowedMonitorCapabilities is required: give SILENT_MONITOR, and BARGE to let the supervisor barge in."
        )
    unknown = [c for c in wanted if c not in MODES]
    if unknown:
        raise InvalidRequest(f"Unknown monitor capability {unknown[0]!r}: use SILENT_MONITOR or BARGE.")
    return tuple(m for m in MODES if m in wanted)


def check_permissions(name: str, permissions: frozenset[str], capabilities: Iterable[str]) -> None:
    """The monitoring user's security profiles must grant monitoring and the CCP (where the monitoring contact
    opens, as on Connect), and barge-in when BARGE is allowed."""
    if MONITOR not in permissions:
        raise AccessDenied(f"User {name} cannot monitor contacts: none of the user's security profiles grants "
                           f"{MONITOR} (Real-time contact monitoring - Monitor).")
    if ACCESS_CCP not in permissions:
        raise AccessDenied(f"User {name} cannot monitor contacts: the monitoring opens in the Contact Control Panel, "
                           f"and none of the user's security profiles grants {ACCESS_CCP}.")
    if BARGED in capabilities and BARGE not in permissions:
        raise AccessDenied(f"User {name} cannot barge in on contacts: none of the user's security profiles grants "
                           f"{BARGE} (Real-time contact monitoring - Barge). Ask for SILENT_MONITOR only.")


def is_monitor(participant: Participant) -> bool:
    return participant.role == SUPERVISOR and participant.monitor is not None


def is_silent(participant: Participant) -> bool:
    """A supervisor monitoring (or who monitored) without ever barging in: invisible to everyone else."""
    return is_monitor(participant) and participant.monitor == SILENT_MONITOR


def is_barged(participant: Participant) -> bool:
    return is_monitor(participant) and participant.monitor == BARGED


def active_monitors(participants: Iterable[Participant]) -> list[Participant]:
    return [p for p in participants if p.active and is_monitor(p)]


def check_monitorable(contact: Contact, chat_ended: bool) -> None:
    """Only a live chat with an agent can be monitored: a chat contact connected to its agent, in a chat that has
    not ended, and not itself a monitoring contact."""
    if contact.channel != "CHAT" or contact.segment_kind == MONITOR_SEGMENT or chat_ended \
            or contact.state != CONNECTED or not contact.agent_user_id:
        raise InvalidRequest(
            f"Contact {contact.id} is not a live chat with an agent: monitoring needs a chat contact that an agent "
            "is connected to."
        )


def check_newcomer(name: str, user_id: str, participants: Iterable[Participant],
                   segments: Iterable[Contact]) -> None:
    """A user already in the chat (as an agent, invited, or monitoring) cannot start monitoring it."""
    if any(p.active and p.user_id == user_id for p in participants):
        raise InvalidRequest(f"{name} is already in this chat.")
    if any(s.pending and s.agent_user_id == user_id for s in segments):
        raise InvalidRequest(f"{name} has been offered this chat; accept or reject the offer first.")


def check_room(participants: Iterable[Participant], cap: int) -> None:
    monitors = len(active_monitors(participants))
    if monitors >= cap:
        raise QuotaExceeded(
            f"This chat already has {monitors} supervisors monitoring it, the instance's limit of {cap}; "
            "nobody else can monitor it until one of them leaves."
        )


def check_slot(name: str, in_use: int, concurrency: int) -> None:
    """A monitoring contact holds one of the supervisor's chat slots, like any chat."""
    if in_use >= concurrency:
        raise QuotaExceeded(
            f"{name} already has {in_use} chats open, the limit of the user's routing profile ({concurrency}); "
            "close one (or its after-contact work) before monitoring another."
        )


def check_monitor_cap(cap: int) -> None:
    low, high = MONITOR_CAP_RANGE
    if not low <= cap <= high:
        raise InvalidRequest(f"The monitor limit must be between {low} and {high} supervisors per chat.")


def check_mode(target: str) -> str:
    if target not in MODES:
        raise InvalidParameter(f"targetMonitorMode must be SILENT_MONITOR or BARGE, not {target!r}.")
    return target


def check_switch(me: Participant, target: str, capabilities: Iterable[str], enabled: bool,
                 participants: Iterable[Participant]) -> bool:
    """May the supervisor ``me`` switch to ``target``? True when it changes something, False when ``me`` is in that
    mode already; refused (saying why) otherwise. The user's ManagerBargeIn is the service's to ask."""
    if me.monitor == target:
        return False
    if target == SILENT_MONITOR:
        raise InvalidRequest("You have barged in and the chat's parties have seen you join: you cannot go back to "
                             "silent monitoring. Leave the chat instead.")
    if BARGED not in capabilities:
        raise AccessDenied("This monitoring does not allow barging in (its AllowedMonitorCapabilities has no BARGE).")
    if not enabled:
        raise InvalidRequest("Enhanced chat monitoring has been turned off on this instance "
                             "(ENHANCED_CHAT_MONITORING), so you cannot barge in.")
    barged = [p for p in participants if p.active and is_barged(p) and p.id != me.id]
    if len(barged) >= MAX_BARGED:
        raise LimitExceeded(f"{barged[0].display_name} is barged in on this chat already; only one supervisor can "
                            "barge in on a chat at a time.")
    return True


def check_acts(me: Participant | None) -> None:
    """A silent monitor may only leave or barge in: no removing, inviting or transferring."""
    if me is not None and me.active and is_silent(me):
        raise InvalidRequest(SILENT)


def check_writes(me: Participant) -> None:
    """A silent monitor writes nothing to the chat (messages, events, attachments)."""
    if is_silent(me):
        raise AccessDenied(SILENT)


def hidden_from(party: Participant, viewer_id: str | None) -> bool:
    """A silent monitor is seen by nobody but itself."""
    return is_silent(party) and party.id != viewer_id


def receipt_count(participants: Iterable[Participant]) -> int:
    """Active participants for the receipts rule ("more than two active"): a silent monitor is not one."""
    return sum(1 for p in participants if p.active and not is_silent(p))


def keeps_chat(participants: Iterable[Participant]) -> bool:
    """Someone serving the customer: an active agent or a barged-in supervisor (a silent monitor is not)."""
    return any(p.active and (p.role == AGENT or is_barged(p)) for p in participants)


def monitored_agent(contact: Contact, names: dict[str, str]) -> str:
    """The name of the agent of the monitored contact, for StreamsJS's ``monitoringInfo.agent.agentName``."""
    return names.get(contact.agent_participant_id or "", "")

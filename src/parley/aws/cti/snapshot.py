"""The agent snapshot in exactly the shape StreamsJS parses (``GetAgentSnapshot``), and its version token."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson

from parley.domain.agents import ROUTABLE
from parley.domain.arns import Account
from parley.domain.contact import (
    CONNECTED,
    CONNECTING,
    CUSTOMER,
    CUSTOMER_SEGMENT,
    ENDED,
    MONITOR_SEGMENT,
    Participant,
)
from parley.domain.monitoring import BARGED, hidden_from, is_barged
from parley.service.agents import AgentView, SegmentView

CONTACT_STATES = {CONNECTING: "connecting", CONNECTED: "connected", ENDED: "ended"}


def ts(when: datetime | None) -> float | None:
    return None if when is None else round(when.timestamp(), 3)


def _state(kind: str, when: datetime | None) -> dict[str, Any]:
    return {"type": kind, "timestamp": ts(when)}


def _connection(connection_id: str, kind: str, state: str, when: datetime | None, *, initial: bool = False,
                endpoint: dict[str, Any] | None = None, chat: dict[str, Any] | None = None,
                quick_connect: str | None = None) -> dict[str, Any]:
    return {
        "connectionId": connection_id, "endpoint": endpoint, "state": _state(state, when), "type": kind,
        "initial": initial, "softphoneMediaInfo": None, "chatMediaInfo": chat, "monitoringInfo": None,
        "mute": None, "forcedMute": None, "quickConnectName": quick_connect,
    }


def _agent_endpoint(name: str, arn: str | None) -> dict[str, Any]:
    return {"endpointARN": arn, "type": "agent", "name": name, "displayName": name, "phoneNumber": None,
            "agentLogin": None, "queue": None}


def _monitoring(view: SegmentView, own: Participant | None) -> dict[str, Any]:
    """What StreamsJS reads on a supervisor's own monitoring connection: ``getMonitorStatus()``,
    ``getMonitorCapabilities()`` and ``getMonitorInfo()`` (the monitored agent and when monitoring began)."""
    segment = view.segment
    monitored = next((s for s in view.chat_segments if s.id == segment.previous_contact_id), None)
    agent = view.names.get(monitored.agent_participant_id or "", "") if monitored else ""
    return {
        "monitorCapabilities": list(segment.monitor_capabilities),
        "monitorStatus": own.monitor if own else None,
        "monitoringInfo": {"agent": {"agentName": agent}, "joinTimeStamp": ts(segment.connected_to_agent_time)},
    }


def render_contact(view: SegmentView, me: str, account: Account) -> dict[str, Any]:
    """One contact of the agent's snapshot; ``me`` is the agent's display name."""
    segment = view.segment
    customer = next((p for p in view.participants if p.role == CUSTOMER), None)
    customer_name = customer.display_name if customer else segment.customer_display_name
    connections: list[dict[str, Any]] = []
    if customer is not None:
        connections.append(_connection(
            customer.id, "inbound", "connected" if customer.active else "disconnected",
            customer.created if customer.active else customer.left, initial=True,
            chat={"chatAutoAccept": False, "connectionData": None, "customerName": customer_name},
        ))
    participants: dict[str, Participant] = {p.id: p for p in view.participants}
    own_state = {CONNECTING: "connecting", CONNECTED: "connected"}.get(segment.state, "disconnected")
    own_since = segment.connected_to_agent_time if segment.state == CONNECTED else segment.last_update_time
    monitoring = segment.segment_kind == MONITOR_SEGMENT
    own = participants.get(segment.agent_participant_id or "")
    if monitoring and segment.state == CONNECTED:  # StreamsJS's connection states of a monitoring supervisor
        own_state, own_since = ("barge" if own and is_barged(own) else "silent_monitor"), segment.last_update_time
    if segment.agent_participant_id:
        connections.append(_connection(
            segment.agent_participant_id, "agent", own_state, own_since,
            endpoint=_agent_endpoint(me, None),
            chat={"chatAutoAccept": False, "customerName": customer_name, "agentName": me,
                  "connectionData": json.dumps({"ConnectionAuthenticationToken": view.participant_token})},
        ))
        if monitoring:
            connections[-1].update(_monitoring(view, own))
    seen = {c["connectionId"] for c in connections}
    for other in view.chat_segments:
        pid = other.agent_participant_id
        if not pid or pid in seen or (other.segment_kind == CUSTOMER_SEGMENT and not other.agent_user_id):
            continue
        seen.add(pid)
        party = participants.get(pid)
        monitor = other.segment_kind == MONITOR_SEGMENT
        if monitor and (party is None or hidden_from(party, segment.agent_participant_id)):
            continue  # a silent monitor is in nobody's snapshot but its own
        if party is not None:
            state, since = ("connected", party.created) if party.active else ("disconnected", party.left)
        elif other.pending:
            state, since = "connecting", other.initiation_time
        else:
            state, since = "disconnected", other.disconnect_time
        name = view.names.get(pid, other.target_name or "")
        qc_arn = account.arn(other.instance_id, "transfer-destination", other.quick_connect_id) \
            if other.quick_connect_id else None
        connections.append(_connection(
            pid, "outbound", state, since, endpoint=_agent_endpoint(name, qc_arn),
            chat={"chatAutoAccept": None, "connectionData": None, "customerName": customer_name, "agentName": name},
            quick_connect=other.quick_connect_name,
        ))
        if monitor:  # a barged-in supervisor: contact.isUnderSupervision()
            connections[-1]["monitorStatus"] = BARGED
    queue = view.queue
    return {
        "contactId": segment.id,
        "initialContactId": segment.initial_contact_id,
        "relatedContactId": segment.related_contact_id,
        "contactAssociationId": segment.initial_contact_id,
        "type": "chat",
        "state": _state(CONTACT_STATES.get(segment.state, "ended"), segment.last_update_time),
        "queue": {"queueARN": account.arn(segment.instance_id, "queue",
                                          f"agent/{queue.owner_user_id}" if queue.owner_user_id else queue.id),
                  "name": queue.name} if queue else None,
        "queueTimestamp": ts(segment.enqueue_time),
        "connections": connections,
        "attributes": {k: {"name": k, "value": v} for k, v in view.attributes.items()},
        "contactDuration": "0",
        "name": segment.name,
        "description": segment.description,
        "initiationMethod": segment.initiation_method.lower(),
        "contactFeatures": {"attachmentsEnabled": True,
                            "messagingMarkdownEnabled": "text/markdown" in segment.supported_content_types,
                            "multiPartyConferenceEnabled": view.multi_party},
        "segmentAttributes": {"connect:Subtype": {"ValueString": "connect:Chat"}},
    }


def render_snapshot(view: AgentView, account: Account, now: datetime) -> dict[str, Any]:
    presence = view.presence
    arn = account.arn(presence.instance_id, "agent-state", presence.state_id) if presence.state_id else None
    busy = any(v.segment.state == CONNECTED for v in view.contacts)
    availability = "Busy" if busy and presence.state_type == ROUTABLE else presence.state_name
    return {
        "state": {"agentStateARN": arn, "type": presence.state_type, "name": presence.state_name,
                  "startTimestamp": ts(presence.since)},
        "nextState": None,
        "agentAvailabilityState": {"state": availability, "timeStamp": ts(presence.since)},
        "contacts": [render_contact(v, view.user.display_name, account) for v in view.contacts],
        "snapshotTimestamp": ts(now),
    }


def version_of(snapshot: dict[str, Any]) -> str:
    """A token that changes exactly when the snapshot's content does (its timestamp aside)."""
    content = {k: v for k, v in snapshot.items() if k != "snapshotTimestamp"}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]

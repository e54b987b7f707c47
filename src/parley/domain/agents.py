"""Agents: sign-in sessions, presence (the agent's state and idle time) and the states an agent can be in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AgentSession:
    """A signed-in agent's credential: the session cookie (``cookie``) or a CTI access token (``access``)."""

    kind: str
    instance_id: str
    user_id: str
    created: datetime
    expires: datetime


# Agent state types as StreamsJS knows them (``connect.AgentStateType``).
ROUTABLE = "routable"
NOT_ROUTABLE = "not_routable"
OFFLINE = "offline"
ERROR = "error"
# Connect's agent status types (ListAgentStatuses) and the StreamsJS state type each becomes.
STATUS_TYPES = {"ROUTABLE": ROUTABLE, "CUSTOM": NOT_ROUTABLE, "OFFLINE": OFFLINE}
# The state an agent is put in after missing an offer (StreamsJS ``connect.AgentErrorStates``).
MISSED = "MissedCallAgent"

# Connect gives an agent 20 seconds to accept a chat offer.
OFFER_SECONDS = 20


@dataclass(frozen=True)
class Presence:
    """What routing knows of an agent: the current state and since when the agent has been idle."""

    instance_id: str
    user_id: str
    state_name: str
    state_type: str
    since: datetime
    idle_since: datetime
    state_id: str | None = None
    next_state_name: str | None = None

    @property
    def routable(self) -> bool:
        return self.state_type == ROUTABLE

"""Real-time figures of a contact center: each agent's state now, the contacts waiting in queues, and the metrics
Connect's ``GetCurrentMetricData`` names, each defined once here over them (pure: the service reads the inputs).

Definitions (a *scope* is the queues, routing profiles and channels one result row covers; see :class:`Scope`):

- ``AGENTS_ONLINE``: agents whose status is not Offline (Available, a custom status, or an error state).
- ``AGENTS_AVAILABLE``: agents whose status is Available with at least one free slot (they can be offered a contact).
- ``AGENTS_ON_CONTACT`` (and its old name ``AGENTS_ON_CALL``): agents connected to at least one contact.
- ``AGENTS_AFTER_CONTACT_WORK``: agents with at least one contact in after-contact work.
- ``AGENTS_NON_PRODUCTIVE``: agents in a custom status (not Available, not Offline, not an error) holding no contact.
- ``AGENTS_ERROR``: agents in an error state (a missed offer).
- ``AGENTS_STAFFED``: online agents that are Available or hold a contact (offered, connected or in after-contact
  work): Online without those idle in a custom or error status.
- ``SLOTS_ACTIVE``: slots held: contacts offered to, connected to, or in after-contact work with an agent.
  A supervisor's monitoring contact (initiation method ``MONITOR``) is none of an agent's contacts here: it is not a
  chat the supervisor serves, so it counts neither as a chat nor as a slot (:func:`agent_holds`).
- ``SLOTS_AVAILABLE``: free slots of Available agents (the routing profile's concurrency less the slots held).
- ``CONTACTS_IN_QUEUE``: contacts waiting for an agent in a queue: queued, or offered and not yet accepted.
- ``OLDEST_CONTACT_AGE``: how long the longest-waiting of those has waited since it entered its queue, whole
  seconds (whole milliseconds at the instance level, Connect's documented quirk); 0 when none waits.
- ``CONTACTS_SCHEDULED``: 0 (Parley schedules no callbacks).

An agent is in a scope when its routing profile routes from one of the scope's queues (its own agent queue counts),
is one of the scope's routing profiles, and has a concurrency for one of the scope's channels; a contact when it
waits in one of the scope's queues (a routing profile's scope: the profile's queues) on one of its channels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from parley.domain.agents import ERROR, NOT_ROUTABLE, OFFLINE, Presence
from parley.domain.contact import CONNECTED, CONNECTING, ENDED, HOLDS_SLOT, Contact
from parley.domain.resources import Queue, RoutingProfile, User

CHANNELS = ("VOICE", "CHAT", "TASK", "EMAIL")
COUNT = "COUNT"
SECONDS = "SECONDS"

# Every metric Parley computes, with the unit Connect gives it (the model's CurrentMetrics documentation).
UNITS: dict[str, str] = {
    "AGENTS_ONLINE": COUNT, "AGENTS_AVAILABLE": COUNT, "AGENTS_ON_CALL": COUNT, "AGENTS_ON_CONTACT": COUNT,
    "AGENTS_NON_PRODUCTIVE": COUNT, "AGENTS_AFTER_CONTACT_WORK": COUNT, "AGENTS_ERROR": COUNT,
    "AGENTS_STAFFED": COUNT, "CONTACTS_IN_QUEUE": COUNT, "OLDEST_CONTACT_AGE": SECONDS,
    "CONTACTS_SCHEDULED": COUNT, "SLOTS_ACTIVE": COUNT, "SLOTS_AVAILABLE": COUNT,
}
# Metrics about what waits in queues (the others are about agents).
QUEUE_METRICS = frozenset({"CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "CONTACTS_SCHEDULED"})
# The initiation method of a supervisor's monitoring contact (MonitorContact).
MONITOR_METHOD = "MONITOR"


def agent_holds(contact: Contact) -> bool:
    """Whether ``contact`` is one of its agent's contacts in the figures: offered, connected or in after-contact
    work, and not a supervisor's monitoring contact."""
    return bool(contact.agent_user_id) and contact.state in HOLDS_SLOT and contact.initiation_method != MONITOR_METHOD


@dataclass(frozen=True)
class AgentNow:
    """One agent right now: its status, routing profile and the contacts holding its slots (offered, connected,
    after-contact work)."""

    user: User
    presence: Presence
    profile: RoutingProfile | None
    contacts: tuple[Contact, ...] = ()

    @property
    def online(self) -> bool:
        return self.presence.state_type != OFFLINE

    @property
    def available(self) -> bool:
        """The status is Available (routable), whatever the slots."""
        return self.presence.routable

    @property
    def error(self) -> bool:
        return self.presence.state_type == ERROR

    @property
    def custom(self) -> bool:
        return self.presence.state_type == NOT_ROUTABLE

    def max_slots(self, channel: str) -> int:
        return self.profile.concurrency(channel) if self.profile else 0

    def active_slots(self, channel: str) -> int:
        return sum(1 for c in self.contacts if c.channel == channel)

    def free_slots(self, channel: str) -> int:
        """Slots a new contact of ``channel`` could take now: none unless the status is Available."""
        return max(0, self.max_slots(channel) - self.active_slots(channel)) if self.available else 0

    def in_state(self, state: str, channels: Iterable[str]) -> list[Contact]:
        wanted = set(channels)
        return [c for c in self.contacts if c.state == state and c.channel in wanted]

    def serves(self, queue_id: str) -> bool:
        """Takes contacts from this queue: its own agent queue, or a queue of its routing profile."""
        if queue_id == self.user.agent_queue_id:
            return True
        return self.profile is not None and any(c.queue_id == queue_id for c in self.profile.queue_configs)

    @property
    def activity(self) -> str:
        """What the agent is doing, in the words of Connect's real-time reports."""
        if self.in_state(CONNECTED, CHANNELS):
            return "On contact"
        if self.in_state(CONNECTING, CHANNELS):
            return "Incoming"
        if self.in_state(ENDED, CHANNELS):
            return "After contact work"
        return self.presence.state_name if self.online else "Offline"


@dataclass(frozen=True)
class Scope:
    """What one result row covers: ``queue_ids`` None is every queue, ``profile_ids`` None every routing profile."""

    channels: frozenset[str]
    queue_ids: frozenset[str] | None = None
    profile_ids: frozenset[str] | None = None


def contact_queues(scope: Scope, profiles: dict[str, RoutingProfile]) -> frozenset[str] | None:
    """The queues whose waiting contacts a scope counts (None: every queue)."""
    if scope.profile_ids is None:
        return scope.queue_ids
    routed = frozenset(q for pid in scope.profile_ids if pid in profiles for q in profiles[pid].queue_ids)
    return routed if scope.queue_ids is None else routed & scope.queue_ids


def agents_in(scope: Scope, agents: Iterable[AgentNow]) -> list[AgentNow]:
    found = []
    for agent in agents:
        if scope.profile_ids is not None and (agent.profile is None or agent.profile.id not in scope.profile_ids):
            continue
        if scope.queue_ids is not None and not any(agent.serves(q) for q in scope.queue_ids):
            continue
        if any(agent.max_slots(ch) > 0 for ch in scope.channels):
            found.append(agent)
    return found


def waiting_in(scope: Scope, waiting: Iterable[Contact], profiles: dict[str, RoutingProfile]) -> list[Contact]:
    queues = contact_queues(scope, profiles)
    return [c for c in waiting if c.pending and c.channel in scope.channels
            and (queues is None or c.queue_id in queues)]


def oldest_wait(contacts: Iterable[Contact], now: datetime) -> float:
    """Seconds since the longest-waiting contact entered its queue (0 when none waits)."""
    times = [c.enqueue_time or c.initiation_time for c in contacts]
    return max(0.0, (now - min(times)).total_seconds()) if times else 0.0


def figure(name: str, agents: list[AgentNow], waiting: list[Contact], channels: frozenset[str], now: datetime,
           *, millis: bool = False) -> float:
    """The value of metric ``name`` over a scope's agents and waiting contacts (see the module's definitions)."""
    if name in QUEUE_METRICS:
        if name == "CONTACTS_IN_QUEUE":
            return float(len(waiting))
        if name == "OLDEST_CONTACT_AGE":
            age = oldest_wait(waiting, now)
            return float(int(age * 1000)) if millis else float(int(age))
        return 0.0
    return float(_agent_figure(name, agents, channels))


def _agent_figure(name: str, agents: list[AgentNow], channels: frozenset[str]) -> int:
    if name == "SLOTS_ACTIVE":
        return sum(a.active_slots(ch) for a in agents for ch in channels)
    if name == "SLOTS_AVAILABLE":
        return sum(a.free_slots(ch) for a in agents for ch in channels)
    return sum(1 for a in agents if counts(name, a, channels))


def counts(name: str, agent: AgentNow, channels: frozenset[str]) -> bool:
    """Whether ``agent`` counts toward the agent metric ``name``."""
    holds = any(c.channel in channels for c in agent.contacts)
    if name == "AGENTS_ONLINE":
        return agent.online
    if name == "AGENTS_AVAILABLE":
        return agent.available and any(agent.free_slots(ch) > 0 for ch in channels)
    if name in ("AGENTS_ON_CONTACT", "AGENTS_ON_CALL"):
        return bool(agent.in_state(CONNECTED, channels))
    if name == "AGENTS_AFTER_CONTACT_WORK":
        return bool(agent.in_state(ENDED, channels))
    if name == "AGENTS_NON_PRODUCTIVE":
        return agent.custom and not holds
    if name == "AGENTS_ERROR":
        return agent.error
    if name == "AGENTS_STAFFED":
        return agent.online and (agent.available or holds)
    raise ValueError(f"not an agent metric: {name}")


def figures(names: Iterable[str], scope: Scope, agents: Iterable[AgentNow], waiting: Iterable[Contact],
            profiles: dict[str, RoutingProfile], now: datetime, *, millis: bool = False) -> dict[str, float]:
    """Every metric of ``names`` over ``scope``."""
    members, queued = agents_in(scope, agents), waiting_in(scope, waiting, profiles)
    return {n: figure(n, members, queued, scope.channels, now, millis=millis) for n in dict.fromkeys(names)}


def standard_queues(queues: Iterable[Queue]) -> list[Queue]:
    """The queues a supervisor watches (not the agents' own queues), by name."""
    return sorted((q for q in queues if q.queue_type == "STANDARD"), key=lambda q: (q.sort_key, q.id))

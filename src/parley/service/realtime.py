"""Real-time figures of an instance, read in one transaction and computed by :mod:`parley.domain.realtime`: the
Connect API's ``GetCurrentMetricData`` and ``GetCurrentUserData`` and the console's live view
(:mod:`parley.service.live`) all come from :meth:`RealtimeService.snapshot`, so they cannot disagree.

Reading them needs ``AccessMetrics.RealTimeMetrics.Access`` (a member) or an access key (an operator).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from parley.domain.agents import OFFLINE, Presence
from parley.domain.arns import ARN_WORDS, parse_resource_arn
from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.contact import Contact, Participant
from parley.domain.errors import InvalidParameter, NotFound
from parley.domain.realtime import CHANNELS, AgentNow, Scope, agent_holds, figures, standard_queues
from parley.domain.realtime_query import (
    ASCENDING,
    CHANNEL,
    DEFAULT_SORT,
    QUEUE,
    ROUTING_PROFILE,
    Metric,
    MetricQuery,
    checked_metrics,
)
from parley.domain.resources import AgentStatus, Queue, Resource, RoutingProfile, User
from parley.service.access import allow
from parley.service.lookups import LABELS, get_instance
from parley.service.paging import decode_payload, encode_payload
from parley.service.ports import Storage

R = TypeVar("R", bound=Resource)

# "The token expires after 5 minutes from the time it is created" (GetCurrentMetricData's NextToken).
TOKEN_SECONDS = 300


@dataclass(frozen=True)
class Snapshot:
    """An instance right now: its queues and routing profiles, every user as an agent, and what waits."""

    instance_id: str
    taken: datetime
    queues: dict[str, Queue]
    profiles: dict[str, RoutingProfile]
    agents: tuple[AgentNow, ...]
    waiting: tuple[Contact, ...]
    live: tuple[Contact, ...]
    # With ``chats``: every segment and participant of the chats that have a live segment.
    chat_segments: tuple[Contact, ...] = ()
    chat_participants: tuple[Participant, ...] = ()

    def figures(self, names: Iterable[str], scope: Scope, *, millis: bool = False) -> dict[str, float]:
        return figures(names, scope, self.agents, self.waiting, self.profiles, self.taken, millis=millis)


@dataclass(frozen=True)
class MetricRow:
    """One result of GetCurrentMetricData: the dimensions grouped by (None when not) and each metric's value."""

    queue: Queue | None
    profile: RoutingProfile | None
    channel: str | None
    values: tuple[tuple[Metric, float], ...]


@dataclass(frozen=True)
class MetricPage:
    rows: list[MetricRow]
    total: int
    next_token: str | None
    taken: datetime


@dataclass(frozen=True)
class UserQuery:
    """A GetCurrentUserData request: exactly one of the four resource filters, and optionally contact states."""

    queues: tuple[str, ...] | None = None
    routing_profiles: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None
    hierarchy_groups: tuple[str, ...] | None = None
    contact_states: tuple[str, ...] | None = None
    token: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class UserPage:
    rows: list[AgentNow]
    total: int
    next_token: str | None
    taken: datetime


# How Parley's segment states read as Connect's agent contact states (an offer rings: INCOMING).
CONTACT_STATES = {"CONNECTING": "INCOMING", "CONNECTED": "CONNECTED", "ENDED": "ENDED"}


class RealtimeService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def snapshot(self, caller: Caller, instance_id: str, use_case: str = "GetCurrentMetricData", *,
                       chats: bool = False) -> Snapshot:
        """Everything the figures are computed from, read in one transaction (with ``chats``, the active chats'
        segments and participants too)."""
        allow(caller, instance_id, use_case)
        now = utcnow()
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            iid = instance.id
            users = await uow.resources.all(User, iid)
            queues = {q.id: q for q in await uow.resources.all(Queue, iid)}
            profiles = {p.id: p for p in await uow.resources.all(RoutingProfile, iid)}
            offline = next((s for s in await uow.resources.all(AgentStatus, iid) if s.status_type == "OFFLINE"), None)
            presences = {p.user_id: p for p in await uow.presences.of_instance(iid)}
            live = tuple(await uow.contacts.live(iid))
            chat_ids = sorted({c.initial_contact_id for c in live if c.is_active}) if chats else []
            chat_segments = tuple(await uow.contacts.of_chats(chat_ids))
            chat_participants = tuple(await uow.participants.of_chats(chat_ids))
        held: dict[str, list[Contact]] = {}
        for contact in live:
            if agent_holds(contact) and contact.agent_user_id:
                held.setdefault(contact.agent_user_id, []).append(contact)
        agents = tuple(
            AgentNow(user, presences.get(user.id) or _offline(user, now, offline),
                     profiles.get(user.routing_profile_id), tuple(held.get(user.id, ())))
            for user in sorted(users, key=lambda u: (u.sort_key, u.id))
        )
        waiting = tuple(c for c in live if c.pending and c.queue_id)
        return Snapshot(iid, now, queues, profiles, agents, waiting, live, chat_segments, chat_participants)

    # GetCurrentMetricData --------------------------------------------------------------------------------------
    async def current_metrics(self, caller: Caller, instance_id: str, query: MetricQuery) -> MetricPage:
        allow(caller, instance_id, "GetCurrentMetricData")
        metrics = checked_metrics(query)
        offset = _offset(query.token, _fingerprint(query))
        snap = await self.snapshot(caller, instance_id, "GetCurrentMetricData")
        queue_ids = _resolve(query.queues, snap.queues, snap.instance_id, Queue)
        profile_ids = _resolve(query.routing_profiles, snap.profiles, snap.instance_id, RoutingProfile)
        channels = frozenset(query.channels or CHANNELS)
        names = [m.name for m in metrics]
        sort_by = query.sort_by or DEFAULT_SORT
        rows: list[tuple[MetricRow, float]] = []
        for queue, profile, channel in _groups(query.groupings, snap, queue_ids, profile_ids, query.channels):
            scope = Scope(
                channels=frozenset({channel}) if channel else channels,
                queue_ids=frozenset({queue.id}) if queue else queue_ids,
                profile_ids=frozenset({profile.id}) if profile else profile_ids,
            )
            values = snap.figures([*names, sort_by], scope, millis=not query.groupings)
            rows.append((MetricRow(queue, profile, channel, tuple((m, values[m.name]) for m in metrics)),
                         values[sort_by]))
        rows.sort(key=lambda r: _label(r[0]))
        rows.sort(key=lambda r: r[1], reverse=query.sort_order != ASCENDING)
        page = [row for row, _ in rows[offset:offset + query.limit]]
        more = offset + query.limit < len(rows)
        token = _token(offset + query.limit, _fingerprint(query)) if more else None
        return MetricPage(page, len(rows), token, snap.taken)

    # GetCurrentUserData ----------------------------------------------------------------------------------------
    async def current_users(self, caller: Caller, instance_id: str, query: UserQuery) -> UserPage:
        allow(caller, instance_id, "GetCurrentUserData")
        given = [name for name, value in (("Queues", query.queues), ("RoutingProfiles", query.routing_profiles),
                                          ("Agents", query.agents), ("UserHierarchyGroups", query.hierarchy_groups))
                 if value is not None]
        if len(given) != 1:
            got = f" (this request has {' and '.join(given)})" if given else ""
            raise InvalidParameter("Filters must include exactly one of Queues, RoutingProfiles, Agents and "
                                   f"UserHierarchyGroups{got}.")
        offset = _offset(query.token, _fingerprint(query))
        snap = await self.snapshot(caller, instance_id, "GetCurrentUserData")
        keep = _user_filter(query, snap)
        states = set(query.contact_states or ())
        rows = []
        for agent in snap.agents:
            if not keep(agent) or not (agent.online or agent.contacts):
                continue
            if states:
                shown = tuple(c for c in agent.contacts if CONTACT_STATES.get(c.state) in states)
                if not shown:
                    continue
                agent = AgentNow(agent.user, agent.presence, agent.profile, shown)
            rows.append(agent)
        more = offset + query.limit < len(rows)
        token = _token(offset + query.limit, _fingerprint(query)) if more else None
        return UserPage(rows[offset:offset + query.limit], len(rows), token, snap.taken)


def _user_filter(query: UserQuery, snap: Snapshot) -> Callable[[AgentNow], bool]:
    """Which agents the request's one resource filter keeps."""
    if query.queues is not None:
        queue_ids = _resolve(query.queues, snap.queues, snap.instance_id, Queue) or frozenset()
        return lambda a: any(a.serves(q) for q in queue_ids)
    if query.routing_profiles is not None:
        profile_ids = _resolve(query.routing_profiles, snap.profiles, snap.instance_id, RoutingProfile) or frozenset()
        return lambda a: a.profile is not None and a.profile.id in profile_ids
    if query.agents is not None:
        users = {a.user.id: a.user for a in snap.agents}
        user_ids = _resolve(query.agents, users, snap.instance_id, User) or frozenset()
        return lambda a: a.user.id in user_ids
    groups = {_id_of(g, snap.instance_id, "agent-group") for g in query.hierarchy_groups or ()}
    return lambda a: a.user.hierarchy_group_id in groups


def _offline(user: User, now: datetime, status: AgentStatus | None) -> Presence:
    """An agent never seen has been Offline since the user was created (as :func:`agent_steps.presence_txn`)."""
    since = min(user.modified, now)
    return Presence(user.instance_id, user.id, "Offline", OFFLINE, since, since, status.id if status else None)


def _id_of(value: str, instance_id: str, word: str) -> str:
    """The id a filter value names: the value, or the id at the end of its ARN (of this instance and kind)."""
    if not value.startswith("arn:"):
        return value
    parsed = parse_resource_arn(value)
    if parsed is None or parsed[1] != word:
        raise InvalidParameter(f"{value} is not the ARN of a {word.replace('-', ' ')}.")
    if parsed[0] != instance_id:
        raise InvalidParameter(f"{value} belongs to instance {parsed[0]}, not to instance {instance_id}.")
    return parsed[2]


def _resolve(values: tuple[str, ...] | None, known: dict[str, R], instance_id: str,
             kind: type[R]) -> frozenset[str] | None:
    """The ids of a filter's ids or ARNs (None: no such filter); an unknown one is NotFound."""
    if values is None:
        return None
    ids = []
    for value in values:
        rid = _id_of(value, instance_id, ARN_WORDS[kind.KIND])
        if rid not in known:
            label = LABELS[kind.KIND]
            raise NotFound(f"{label} {rid} was not found in instance {instance_id}.",
                           resource_type=kind.KIND.upper(), resource_id=rid)
        ids.append(rid)
    return frozenset(ids)


def _groups(groupings: tuple[str, ...], snap: Snapshot, queue_ids: frozenset[str] | None,
            profile_ids: frozenset[str] | None, channel_filter: tuple[str, ...] | None,
            ) -> list[tuple[Queue | None, RoutingProfile | None, str | None]]:
    """The dimensions of each result row, in the groupings' order (one row of none when not grouped)."""
    if queue_ids is not None:
        queues = [snap.queues[q] for q in queue_ids]
    else:
        routed = {q for p in profile_ids or () for q in snap.profiles[p].queue_ids}
        queues = standard_queues(snap.queues[q] for q in routed if q in snap.queues)
    if profile_ids is not None:
        profiles = [snap.profiles[p] for p in profile_ids]
    else:
        profiles = [p for p in snap.profiles.values() if set(p.queue_ids) & (queue_ids or set())]
    configured = {m.channel for p in snap.profiles.values() for m in p.media_concurrencies}
    channels = list(dict.fromkeys(channel_filter)) if channel_filter else [c for c in CHANNELS if c in configured]
    combos: list[tuple[Queue | None, RoutingProfile | None, str | None]] = [(None, None, None)]
    for grouping in groupings:
        if grouping == QUEUE:
            combos = [(q, p, c) for (_, p, c) in combos for q in queues]
        elif grouping == ROUTING_PROFILE:
            combos = [(q, p, c) for (q, _, c) in combos for p in profiles]
        elif grouping == CHANNEL:
            combos = [(q, p, c) for (q, p, _) in combos for c in channels]
    # A queue and a routing profile make a row only when the profile routes from the queue.
    return [(q, p, c) for q, p, c in combos if q is None or p is None or q.id in p.queue_ids]


def _label(row: MetricRow) -> tuple[str, str, str]:
    return (row.queue.sort_key if row.queue else "", row.profile.sort_key if row.profile else "",
            row.channel or "")


def _fingerprint(query: object) -> str:
    """What a NextToken is tied to: the request's parameters without the token."""
    text = repr(query.__class__.__name__) + repr({k: v for k, v in vars(query).items() if k != "token"})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    return encode_payload({"o": offset, "f": fingerprint, "t": int(time.time())})


def _offset(token: str | None, fingerprint: str) -> int:
    """Where a page starts: 0, or the position a NextToken of the same request carries."""
    if token is None:
        return 0
    value = decode_payload(token)
    if not (isinstance(value, dict) and set(value) == {"o", "f", "t"} and isinstance(value["o"], int)
            and isinstance(value["t"], int) and isinstance(value["f"], str) and 0 < value["o"] < 10**9):
        raise InvalidParameter("The NextToken is not valid: pass the NextToken of the previous page.")
    if value["f"] != fingerprint:
        raise InvalidParameter("The NextToken belongs to a request with other parameters: send it with the same "
                               "parameters as the request that returned it.")
    if not 0 <= time.time() - value["t"] <= TOKEN_SECONDS:
        raise InvalidParameter("The NextToken has expired (tokens last 5 minutes): ask for the first page again.")
    return int(value["o"])

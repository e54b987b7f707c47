"""The console's live view of an instance: its queues, its agents and its active chats with their parties, from
the same :class:`~parley.service.realtime.Snapshot` (and the same metric definitions) as ``GetCurrentMetricData``.

The live view's totals are the instance's CHAT figures over its standard queues: what
``GetCurrentMetricData(Filters={"Queues": <every STANDARD queue>, "Channels": ["CHAT"]})`` answers at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.domain.callers import Caller
from parley.domain.contact import CONNECTING, CUSTOMER, CUSTOMER_SEGMENT, INVITE_SEGMENT, Contact, Participant
from parley.domain.realtime import UNITS, AgentNow, Scope, standard_queues
from parley.domain.resources import Queue
from parley.service.realtime import RealtimeService, Snapshot

CHAT = frozenset({"CHAT"})
# The figures each queue's row shows.
QUEUE_FIGURES = ("CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_ONLINE", "AGENTS_AVAILABLE")


@dataclass(frozen=True)
class QueueRow:
    queue: Queue
    figures: dict[str, float]


@dataclass(frozen=True)
class Party:
    """An agent in a chat, or one on the way (``state`` says which: Connected, Offered to …, Waiting in …)."""

    name: str
    state: str
    since: datetime | None = None


@dataclass(frozen=True)
class ChatRow:
    """An active chat: its customer, its agents (the primary one, those invited) and who is on the way."""

    chat_id: str
    customer: str
    customer_here: bool
    started: datetime
    status: str
    primary: tuple[Party, ...]
    invited: tuple[Party, ...]
    pending: tuple[Party, ...]


@dataclass(frozen=True)
class LiveView:
    taken: datetime
    totals: dict[str, float]
    queues: tuple[QueueRow, ...]
    agents: tuple[AgentNow, ...]
    offline: int
    chats: tuple[ChatRow, ...]
    customers: dict[str, str]

    def seconds_since(self, when: datetime | None) -> int:
        return max(0, int((self.taken - when).total_seconds())) if when else 0


class LiveService:
    def __init__(self, realtime: RealtimeService) -> None:
        self.realtime = realtime

    async def live(self, caller: Caller, instance_id: str) -> LiveView:
        """The live view; needs what GetCurrentMetricData needs."""
        snap = await self.realtime.snapshot(caller, instance_id, "GetCurrentMetricData", chats=True)
        queues = standard_queues(snap.queues.values())
        totals = snap.figures(UNITS, Scope(CHAT, queue_ids=frozenset(q.id for q in queues)))
        rows = tuple(QueueRow(q, snap.figures(QUEUE_FIGURES, Scope(CHAT, queue_ids=frozenset({q.id}))))
                     for q in queues)
        working = tuple(a for a in snap.agents if a.online or a.contacts)
        chats = _chats(snap)
        customers = {s.initial_contact_id: s.customer_display_name or "Customer" for s in snap.chat_segments}
        return LiveView(snap.taken, totals, rows, working, len(snap.agents) - len(working), chats, customers)


def _chats(snap: Snapshot) -> tuple[ChatRow, ...]:
    names = {a.user.id: a.user.display_name for a in snap.agents}
    segments: dict[str, list[Contact]] = {}
    for segment in snap.chat_segments:
        segments.setdefault(segment.initial_contact_id, []).append(segment)
    people: dict[str, list[Participant]] = {}
    for participant in snap.chat_participants:
        people.setdefault(participant.chat_id, []).append(participant)
    rows = []
    for chat_id, chain in segments.items():
        root = next((s for s in chain if s.id == chat_id), None)
        if root is not None and any(s.is_active for s in chain):
            rows.append(_chat(root, chain, people.get(chat_id, []), snap, names))
    return tuple(sorted(rows, key=lambda r: (r.started, r.chat_id)))


def _chat(root: Contact, chain: list[Contact], participants: list[Participant], snap: Snapshot,
          names: dict[str, str]) -> ChatRow:
    kind_of = {s.id: s.segment_kind for s in chain}
    primary: list[Party] = []
    invited: list[Party] = []
    for p in participants:
        if p.active and p.role == "AGENT":
            party = Party(p.display_name, "Connected", p.connected or p.created)
            (invited if kind_of.get(p.contact_id) == INVITE_SEGMENT else primary).append(party)
    status = ""
    pending: list[Party] = []
    for s in chain:
        if not s.pending:
            continue
        queue = snap.queues.get(s.queue_id or "")
        agent = names.get(s.agent_user_id or "") if s.state == CONNECTING else None
        where = f"offered to {agent}" if agent else f"waiting in {_queue_name(queue, names)}"
        if s.segment_kind == CUSTOMER_SEGMENT:
            status = where[0].upper() + where[1:]
        else:
            label = "" if s.segment_kind == INVITE_SEGMENT else "transfer, "
            pending.append(Party(s.target_name or _queue_name(queue, names), label + where, s.enqueue_time))
    customer_here = any(p.active and p.role == CUSTOMER for p in participants)
    if not status:
        status = "With an agent" if primary or invited else "No agent"
    return ChatRow(root.initial_contact_id, root.customer_display_name or "Customer", customer_here,
                   root.initiation_time, status, tuple(primary), tuple(invited), tuple(pending))


def _queue_name(queue: Queue | None, names: dict[str, str]) -> str:
    if queue is None:
        return "a queue"
    if queue.queue_type == "AGENT" and queue.owner_user_id:
        return f"{names.get(queue.owner_user_id, 'an agent')}'s queue"
    return queue.name or "a queue"

"""The real-time metrics' definitions (parley.domain.realtime) on agents in every status and contacts in every state,
and the request checks of GetCurrentMetricData (parley.domain.realtime_query), without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.domain.agents import ERROR, MISSED, NOT_ROUTABLE, OFFLINE, ROUTABLE, Presence
from parley.domain.contact import CLOSED, CONNECTED, CONNECTING, ENDED, QUEUED, Contact
from parley.domain.errors import InvalidParameter
from parley.domain.realtime import AgentNow, Scope, agent_holds, agents_in, figures, waiting_in
from parley.domain.realtime_query import MetricAsked, MetricQuery, checked_metrics
from parley.domain.resources import MediaConcurrency, RoutingProfile, RoutingQueueConfig, User

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
CHAT = frozenset({"CHAT"})
SALES = RoutingProfile("i", "rp-sales", "Sales", NOW, media_concurrencies=(MediaConcurrency("CHAT", 3),
                                                                           MediaConcurrency("VOICE", 1)),
                       queue_configs=(RoutingQueueConfig("q-sales", "CHAT", 1, 0),))
SUPPORT = RoutingProfile("i", "rp-support", "Support", NOW, media_concurrencies=(MediaConcurrency("CHAT", 2),),
                         queue_configs=(RoutingQueueConfig("q-support", "CHAT", 1, 0),))
PROFILES = {p.id: p for p in (SALES, SUPPORT)}


def contact(cid: str, state: str, *, queue: str = "q-sales", agent: str | None = None,
            waited: float = 0) -> Contact:
    return Contact("i", cid, cid, "CHAT", "API", NOW - timedelta(seconds=waited), NOW, state=state, queue_id=queue,
                   enqueue_time=NOW - timedelta(seconds=waited), agent_user_id=agent)


def agent(uid: str, state_type: str, *contacts: Contact, profile: RoutingProfile = SALES,
          name: str = "Available") -> AgentNow:
    user = User("i", uid, uid, NOW, routing_profile_id=profile.id, agent_queue_id=f"aq-{uid}")
    return AgentNow(user, Presence("i", uid, name, state_type, NOW, NOW), profile, contacts)


AGENTS = [
    agent("idle", ROUTABLE),                                                  # Available, 3 free slots
    agent("busy", ROUTABLE, contact("c1", CONNECTED, agent="busy"), contact("c2", CONNECTING, agent="busy"),
          contact("c3", ENDED, agent="busy")),                              # full: on contact, incoming, ACW
    agent("acw", NOT_ROUTABLE, contact("c4", ENDED, agent="acw"), name="Break"),  # custom status in ACW
    agent("break", NOT_ROUTABLE, name="Break"),                               # non-productive
    agent("missed", ERROR, name=MISSED),
    agent("gone", OFFLINE, name="Offline"),
    agent("support", ROUTABLE, contact("c5", CONNECTED, queue="q-support", agent="support"), profile=SUPPORT),
]
WAITING = [contact("w1", QUEUED, waited=42.6), contact("w2", CONNECTING, agent="busy", waited=3),
           contact("w3", QUEUED, queue="q-support", waited=7), contact("w4", CLOSED, waited=99)]


def test_every_agent_metric_over_agents_in_every_status() -> None:
    got = figures(["AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CONTACT", "AGENTS_ON_CALL",
                   "AGENTS_AFTER_CONTACT_WORK", "AGENTS_NON_PRODUCTIVE", "AGENTS_ERROR", "AGENTS_STAFFED",
                   "SLOTS_ACTIVE", "SLOTS_AVAILABLE", "CONTACTS_SCHEDULED"], Scope(CHAT), AGENTS, WAITING, PROFILES,
                  NOW)
    assert got == {
        "AGENTS_ONLINE": 6.0,          # all but Offline
        "AGENTS_AVAILABLE": 2.0,       # idle and support (busy is Available but full)
        "AGENTS_ON_CONTACT": 2.0, "AGENTS_ON_CALL": 2.0,  # busy and support
        "AGENTS_AFTER_CONTACT_WORK": 2.0,  # busy and acw
        "AGENTS_NON_PRODUCTIVE": 1.0,  # break (acw holds a contact)
        "AGENTS_ERROR": 1.0,
        "AGENTS_STAFFED": 4.0,         # idle, busy, acw, support: not break, missed or gone
        "SLOTS_ACTIVE": 5.0,           # busy 3, acw 1, support 1
        "SLOTS_AVAILABLE": 4.0,        # idle 3, support 1 (acw's status is not Available)
        "CONTACTS_SCHEDULED": 0.0,
    }


def test_queue_metrics_count_queued_and_offered_contacts_and_the_oldest_wait() -> None:
    assert figures(["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"], Scope(CHAT), AGENTS, WAITING, PROFILES, NOW) == {
        "CONTACTS_IN_QUEUE": 3.0, "OLDEST_CONTACT_AGE": 42.0}
    assert figures(["OLDEST_CONTACT_AGE"], Scope(CHAT), AGENTS, WAITING, PROFILES, NOW, millis=True) == {
        "OLDEST_CONTACT_AGE": 42600.0}
    assert figures(["OLDEST_CONTACT_AGE"], Scope(CHAT), AGENTS, [], PROFILES, NOW) == {"OLDEST_CONTACT_AGE": 0.0}


def test_scopes_by_queue_profile_and_channel() -> None:
    support = Scope(CHAT, queue_ids=frozenset({"q-support"}))
    assert [a.user.id for a in agents_in(support, AGENTS)] == ["support"]
    assert [c.id for c in waiting_in(support, WAITING, PROFILES)] == ["w3"]
    by_profile = Scope(CHAT, profile_ids=frozenset({"rp-sales"}))
    assert len(agents_in(by_profile, AGENTS)) == 6
    assert [c.id for c in waiting_in(by_profile, WAITING, PROFILES)] == ["w1", "w2"]
    own_queue = Scope(CHAT, queue_ids=frozenset({"aq-idle"}))
    assert [a.user.id for a in agents_in(own_queue, AGENTS)] == ["idle"]
    voice = Scope(frozenset({"VOICE"}))
    assert [a.user.id for a in agents_in(voice, AGENTS)] == ["idle", "busy", "acw", "break", "missed", "gone"]
    assert figures(["SLOTS_AVAILABLE", "CONTACTS_IN_QUEUE"], voice, AGENTS, WAITING, PROFILES, NOW) == {
        "SLOTS_AVAILABLE": 2.0, "CONTACTS_IN_QUEUE": 0.0}  # idle's and busy's voice slot; chats are not voice


def test_a_monitoring_contact_is_not_a_chat_or_slot_of_the_supervisor() -> None:
    watching = Contact("i", "m1", "c1", "CHAT", "MONITOR", NOW, NOW, state=CONNECTED, agent_user_id="sup")
    acw = Contact("i", "m2", "c2", "CHAT", "MONITOR", NOW, NOW, state=ENDED, agent_user_id="sup")
    served = contact("c9", CONNECTED, agent="sup")
    assert not agent_holds(watching) and not agent_holds(acw) and agent_holds(served)
    # What the snapshot keeps for a supervisor watching one chat and serving another: the served chat only.
    sup = agent("sup", ROUTABLE, *[c for c in (watching, acw, served) if agent_holds(c)])
    assert sup.active_slots("CHAT") == 1 and sup.free_slots("CHAT") == 2
    assert figures(["SLOTS_ACTIVE", "AGENTS_AFTER_CONTACT_WORK", "AGENTS_ON_CONTACT"], Scope(CHAT), [sup], [],
                   PROFILES, NOW) == {"SLOTS_ACTIVE": 1, "AGENTS_AFTER_CONTACT_WORK": 0, "AGENTS_ON_CONTACT": 1}


def test_activity_reads_like_connects_reports() -> None:
    assert [a.activity for a in AGENTS] == ["Available", "On contact", "After contact work", "Break", MISSED,
                                            "Offline", "On contact"]


def query(**changes: object) -> MetricQuery:
    values: dict[str, object] = {"metrics": (MetricAsked("AGENTS_ONLINE", None, "COUNT"),), "queues": ("q",)}
    return MetricQuery(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "message"), [
    ({"queues": None}, "Filters must include Queues or RoutingProfiles"),
    ({"routing_profiles": ("p",)}, "cannot filter by both"),
    ({"channels": ("FAX",)}, "Channel 'FAX' is not one of VOICE, CHAT, TASK, EMAIL."),
    ({"groupings": ("SUBTYPE",)}, "does not group real-time metrics by SUBTYPE"),
    ({"metrics": ()}, "at least one metric"),
    ({"metrics": (MetricAsked("OLDEST_CONTACT_AGE", None, "COUNT"),)}, "The unit of OLDEST_CONTACT_AGE is SECONDS"),
    ({"sort_by": "SLOTS_AVAILABLE"}, "Sorting on SLOTS_AVAILABLE is not supported"),
    ({"other_filters": ("Subtypes",)}, "by Subtypes"),
])
def test_request_refusals(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        checked_metrics(query(**changes))
    assert message in refused.value.message


def test_a_unit_left_out_is_the_metrics_own() -> None:
    (metric,) = checked_metrics(query(metrics=(MetricAsked("OLDEST_CONTACT_AGE"),)))
    assert (metric.name, metric.unit) == ("OLDEST_CONTACT_AGE", "SECONDS")

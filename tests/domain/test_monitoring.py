"""The rules of enhanced chat monitoring (parley.domain.monitoring), without storage or an event loop."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from parley.domain.conference import conference_size
from parley.domain.contact import (
    AGENT,
    CONNECTED,
    CUSTOM_BOT,
    CUSTOMER,
    ENDED,
    INVITE_SEGMENT,
    MONITOR_SEGMENT,
    QUEUED,
    SUPERVISOR,
    Contact,
    Participant,
)
from parley.domain.errors import AccessDenied, InvalidParameter, InvalidRequest, LimitExceeded, QuotaExceeded
from parley.domain.instance import DEFAULT_MONITOR_CAP, Instance
from parley.domain.monitoring import (
    BARGED,
    SILENT_MONITOR,
    active_monitors,
    check_acts,
    check_capabilities,
    check_enabled,
    check_mode,
    check_monitor_cap,
    check_monitorable,
    check_newcomer,
    check_permissions,
    check_room,
    check_slot,
    check_switch,
    check_writes,
    hidden_from,
    is_barged,
    is_silent,
    keeps_chat,
    monitored_agent,
    monitoring_enabled,
    receipt_count,
)
from parley.domain.permissions import ACCESS_CCP, BARGE, MONITOR

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def party(pid: str, role: str, *, monitor: str | None = None, left: bool = False, user: str | None = None
          ) -> Participant:
    return Participant(pid, "chat", "c-" + pid, role, pid.title(), "h" + pid, NOW, NOW, user_id=user,
                       left=NOW if left else None, monitor=monitor)


def silent(pid: str = "sup", *, left: bool = False, user: str | None = None) -> Participant:
    return party(pid, SUPERVISOR, monitor=SILENT_MONITOR, left=left, user=user)


def barged(pid: str = "boss", *, left: bool = False) -> Participant:
    return party(pid, SUPERVISOR, monitor=BARGED, left=left)


def contact(cid: str = "chat", state: str = CONNECTED, kind: str = "customer", agent: str | None = "u-a1",
            channel: str = "CHAT") -> Contact:
    return Contact("i", cid, "chat", channel, "API", NOW, NOW, state=state, segment_kind=kind, agent_user_id=agent,
                   agent_participant_id="a1")


def instance(**attributes: str) -> Instance:
    return Instance("i", "demo", "CONNECT_MANAGED", NOW, True, True, attributes=dict(attributes))


def test_monitoring_needs_the_instance_switch() -> None:
    assert not monitoring_enabled(instance())
    with pytest.raises(InvalidRequest, match="ENHANCED_CHAT_MONITORING"):
        check_enabled(instance())
    with pytest.raises(InvalidRequest, match="ENHANCED_CHAT_MONITORING"):
        check_enabled(instance(MULTI_PARTY_CHAT_CONFERENCE="true"))
    check_enabled(instance(ENHANCED_CHAT_MONITORING="true"))
    assert instance().monitor_cap == DEFAULT_MONITOR_CAP == 5


def test_capabilities_are_required_known_and_put_in_order() -> None:
    for missing in (None, []):
        with pytest.raises(InvalidRequest, match="AllowedMonitorCapabilities is required"):
            check_capabilities(missing)
    with pytest.raises(InvalidRequest, match="Unknown monitor capability 'COACH'"):
        check_capabilities(["SILENT_MONITOR", "COACH"])
    assert check_capabilities(["BARGE", "SILENT_MONITOR"]) == (SILENT_MONITOR, BARGED)
    assert check_capabilities(["BARGE", "BARGE"]) == (BARGED,)
    assert check_capabilities(["SILENT_MONITOR"]) == (SILENT_MONITOR,)


def test_the_monitoring_user_needs_listen_in_the_ccp_and_barge_in_for_barge() -> None:
    with pytest.raises(AccessDenied, match=r"User quinn cannot monitor contacts: .*ManagerListenIn"):
        check_permissions("quinn", frozenset({ACCESS_CCP}), (SILENT_MONITOR,))
    with pytest.raises(AccessDenied, match=r"opens in the Contact Control Panel.*BasicAgentAccess"):
        check_permissions("quinn", frozenset({MONITOR}), (SILENT_MONITOR,))
    check_permissions("quinn", frozenset({MONITOR, ACCESS_CCP}), (SILENT_MONITOR,))
    with pytest.raises(AccessDenied, match=r"User quinn cannot barge in .*ManagerBargeIn"):
        check_permissions("quinn", frozenset({MONITOR, ACCESS_CCP}), (SILENT_MONITOR, BARGED))
    check_permissions("sam", frozenset({MONITOR, BARGE, ACCESS_CCP}), (SILENT_MONITOR, BARGED))


@pytest.mark.parametrize("target, ended", [
    (contact(state=QUEUED, agent=None), False),  # still waiting for an agent
    (contact(state=ENDED), False),  # its agent left (after-contact work)
    (contact(kind=MONITOR_SEGMENT), False),  # a monitoring contact
    (contact(channel="VOICE"), False),
    (contact(), True),  # the chat has ended
])
def test_only_a_live_chat_with_an_agent_is_monitored(target: Contact, ended: bool) -> None:
    with pytest.raises(InvalidRequest, match="is not a live chat with an agent"):
        check_monitorable(target, ended)


def test_a_connected_agent_segment_is_monitorable() -> None:
    check_monitorable(contact(), False)
    check_monitorable(contact("inv", kind=INVITE_SEGMENT), False)


def test_a_user_already_in_the_chat_cannot_monitor_it() -> None:
    parties = [party("cust", CUSTOMER), party("a1", AGENT, user="u-a1"), silent(user="u-sup"),
               party("gone", AGENT, user="u-gone", left=True)]
    with pytest.raises(InvalidRequest, match="Agent1 is already in this chat"):
        check_newcomer("Agent1", "u-a1", parties, [])
    with pytest.raises(InvalidRequest, match="already in this chat"):
        check_newcomer("Sup", "u-sup", parties, [])
    offered = replace(contact("inv", state="CONNECTING", kind=INVITE_SEGMENT), agent_user_id="u-a2")
    with pytest.raises(InvalidRequest, match="has been offered this chat"):
        check_newcomer("Agent2", "u-a2", parties, [offered])
    check_newcomer("Former", "u-gone", parties, [])


def test_at_most_the_cap_of_monitors_per_chat() -> None:
    four = [silent(f"s{n}") for n in range(3)] + [barged(), silent("old", left=True)]
    check_room(four, 5)
    with pytest.raises(QuotaExceeded, match="already has 5 supervisors monitoring it, the instance's limit of 5"):
        check_room([*four, silent("s9")], 5)
    with pytest.raises(QuotaExceeded, match="limit of 2"):
        check_room(four[:2], 2)
    for good in (1, 5):
        check_monitor_cap(good)
    for bad in (0, 6):
        with pytest.raises(InvalidRequest, match="between 1 and 5"):
            check_monitor_cap(bad)


def test_a_monitoring_contact_takes_a_chat_slot() -> None:
    check_slot("Sup", 2, 3)
    with pytest.raises(QuotaExceeded, match="already has 3 chats open, the limit of the user's routing profile"):
        check_slot("Sup", 3, 3)


def test_monitors_take_no_seat() -> None:
    six = [party("cust", CUSTOMER)] + [party(f"a{n}", AGENT) for n in range(5)]
    assert conference_size([*six, silent(), barged()], []) == 6


def test_barge_is_one_way_needs_the_capability_the_switch_and_a_free_barge() -> None:
    me = silent()
    both = (SILENT_MONITOR, BARGED)
    assert check_switch(me, SILENT_MONITOR, both, True, [me]) is False, "already silent: nothing to do"
    assert check_switch(me, BARGED, both, True, [me]) is True
    assert check_switch(me, BARGED, (BARGED,), True, [me]) is True
    with pytest.raises(AccessDenied, match="does not allow barging in"):
        check_switch(me, BARGED, (SILENT_MONITOR,), True, [me])
    with pytest.raises(InvalidRequest, match="turned off"):
        check_switch(me, BARGED, both, False, [me])
    other = barged("boss")
    with pytest.raises(LimitExceeded, match="Boss is barged in on this chat already; only one supervisor"):
        check_switch(me, BARGED, both, True, [me, other])
    assert check_switch(me, BARGED, both, True, [me, barged("boss", left=True)]) is True
    with pytest.raises(InvalidRequest, match="cannot go back to silent monitoring"):
        check_switch(barged(), SILENT_MONITOR, both, True, [])
    assert check_switch(barged(), BARGED, both, True, [barged()]) is False


def test_modes() -> None:
    assert check_mode("BARGE") == BARGED
    with pytest.raises(InvalidParameter, match="SILENT_MONITOR or BARGE"):
        check_mode("barge")


def test_a_silent_monitor_writes_nothing_and_acts_on_nobody() -> None:
    with pytest.raises(AccessDenied, match="monitoring this chat silently"):
        check_writes(silent())
    with pytest.raises(InvalidRequest, match="barge in first"):
        check_acts(silent())
    for fine in (barged(), party("a1", AGENT), party("cust", CUSTOMER)):
        check_writes(fine)
        check_acts(fine)
    check_acts(None)
    check_acts(silent(left=True))


def test_who_sees_whom() -> None:
    sup = silent()
    assert hidden_from(sup, "a1") and hidden_from(sup, None)
    assert not hidden_from(sup, "sup"), "a silent monitor sees itself"
    assert hidden_from(silent(left=True), "a1"), "even after leaving"
    assert not hidden_from(barged(), "a1")
    assert not hidden_from(party("a2", AGENT), "a1")
    assert is_silent(sup) and not is_barged(sup) and is_barged(barged())
    assert not is_silent(party("x", SUPERVISOR)), "a supervisor without a monitoring mode is not a monitor"


def test_receipts_count_a_barged_supervisor_and_not_a_silent_one() -> None:
    two = [party("cust", CUSTOMER), party("a1", AGENT)]
    assert receipt_count([*two, silent(), silent("s2")]) == 2
    assert receipt_count([*two, barged()]) == 3
    assert receipt_count([*two, barged(left=True), party("bot", CUSTOM_BOT)]) == 3


def test_who_keeps_a_chat_going() -> None:
    customer = party("cust", CUSTOMER)
    assert not keeps_chat([customer, silent()])
    assert keeps_chat([customer, barged()])
    assert keeps_chat([customer, party("a1", AGENT)])
    assert not keeps_chat([customer, party("a1", AGENT, left=True), barged(left=True)])
    assert [p.id for p in active_monitors([customer, silent(), barged(), silent("x", left=True)])] == ["sup", "boss"]


def test_the_monitored_agent_name() -> None:
    assert monitored_agent(contact(), {"a1": "Agent1"}) == "Agent1"
    assert monitored_agent(replace(contact(), agent_participant_id=None), {"a1": "Agent1"}) == ""

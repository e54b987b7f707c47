"""GetCurrentMetricData and GetCurrentUserData through boto3 against a server of their own, with agents (parley.client)
going Available, customers starting chats, agents accepting, inviting, leaving and missing an offer: every figure
followed through each change, the groupings and paging, and every refusal with its code, status and message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from parley.client import Agent, customer
from tests.aws.conftest import DemoIds, builtin_ids, check_refused
from tests.conftest import Server, serving

PASSWORD = "Parley-demo-1"
# An offer is missed after this many seconds here (20 by default), so the error state is reached quickly.
OFFER_SECONDS = 4
UNITS = {
    "AGENTS_ONLINE": "COUNT", "AGENTS_AVAILABLE": "COUNT", "AGENTS_ON_CONTACT": "COUNT",
    "AGENTS_AFTER_CONTACT_WORK": "COUNT", "AGENTS_STAFFED": "COUNT", "AGENTS_ERROR": "COUNT",
    "AGENTS_NON_PRODUCTIVE": "COUNT", "CONTACTS_IN_QUEUE": "COUNT", "OLDEST_CONTACT_AGE": "SECONDS",
    "SLOTS_ACTIVE": "COUNT", "SLOTS_AVAILABLE": "COUNT",
}
ZERO = dict.fromkeys(UNITS, 0.0)
# The same without the oldest contact's age, which grows while a contact waits.
NONE_BUT_AGE = {k: v for k, v in ZERO.items() if k != "OLDEST_CONTACT_AGE"}


@pytest.fixture(scope="module")
def srv() -> Iterator[Server]:
    """A server of its own: these tests change agent states, which would route other modules' chats."""
    with serving(["--demo", "--offer-timeout", str(OFFER_SECONDS)], stays_up=True) as server:
        yield server


@pytest.fixture(scope="module")
def client(srv: Server) -> Any:
    return srv.connect()


@pytest.fixture(scope="module")
def raw(srv: Server) -> Any:
    """boto3 without its own parameter checks, so the server's model validation answers."""
    return srv.connect(validate=False)


@pytest.fixture(scope="module")
def ids(client: Any) -> DemoIds:
    iid = next(i["Id"] for i in client.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    return builtin_ids(client, iid)


def metrics(names: list[str] | None = None) -> list[dict[str, str]]:
    return [{"Name": n, "Unit": UNITS[n]} for n in names or UNITS]


def values(row: dict[str, Any]) -> dict[str, float]:
    return {c["Metric"]["Name"]: c["Value"] for c in row["Collections"]}


def chat_figures(client: Any, ids: DemoIds, **params: Any) -> dict[str, float]:
    """The instance-level CHAT figures of BasicQueue (one result row, no grouping)."""
    answer = client.get_current_metric_data(
        InstanceId=ids.instance_id, Filters={"Queues": [ids.basic_queue], "Channels": ["CHAT"]},
        CurrentMetrics=metrics(), **params)
    (row,) = answer["MetricResults"]
    assert row["Dimensions"] == {} and answer["ApproximateTotalCount"] == 1
    return values(row)


async def until(check: Callable[[], dict[str, float]], expected: dict[str, float], timeout: float = 10) -> None:
    """Wait until the figures are ``expected`` (routing and timers act asynchronously), else fail showing them."""
    deadline = time.monotonic() + timeout
    seen = check()
    while {k: seen[k] for k in expected} != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        seen = check()
    assert {k: seen[k] for k in expected} == expected, seen


def user_data(client: Any, ids: DemoIds, **filters: Any) -> dict[str, dict[str, Any]]:
    """GetCurrentUserData by username (the demo users' ids are known by name)."""
    names = {v: k for k, v in ids.users.items()}
    answer = client.get_current_user_data(InstanceId=ids.instance_id, Filters=filters or {"Queues": [ids.basic_queue]})
    assert answer["ApproximateTotalCount"] == len(answer["UserDataList"])
    return {names[u["User"]["Id"]]: u for u in answer["UserDataList"]}


def agent(srv: Server, name: str) -> Agent:
    return Agent(srv.url, name, PASSWORD, poll_seconds=2)


async def test_figures_follow_a_chat_as_agents_come_accept_invite_leave_and_miss(
        srv: Server, client: Any, ids: DemoIds) -> None:
    figures = lambda: chat_figures(client, ids)  # noqa: E731
    assert figures() == ZERO
    assert user_data(client, ids) == {}

    async with agent(srv, "agent1") as a1, agent(srv, "agent2") as a2, agent(srv, "agent3") as a3:
        jane = await customer(srv.url, "Jane")
        # Nobody is Available: Jane waits in BasicQueue.
        await until(figures, {**NONE_BUT_AGE, "CONTACTS_IN_QUEUE": 1.0})
        await asyncio.sleep(1.2)
        grouped = client.get_current_metric_data(
            InstanceId=ids.instance_id, Filters={"Queues": [ids.basic_queue], "Channels": ["CHAT"]},
            Groupings=["QUEUE"], CurrentMetrics=metrics(["OLDEST_CONTACT_AGE"]))
        (row,) = grouped["MetricResults"]
        assert row["Dimensions"]["Queue"]["Id"] == ids.basic_queue
        assert row["Dimensions"]["Queue"]["Arn"].endswith(f"instance/{ids.instance_id}/queue/{ids.basic_queue}")
        seconds = values(row)["OLDEST_CONTACT_AGE"]
        assert 1 <= seconds < 30 and seconds == int(seconds)
        # Without groupings the value is in milliseconds although the unit says SECONDS (Connect's quirk).
        millis = figures()["OLDEST_CONTACT_AGE"]
        assert seconds * 1000 <= millis < (seconds + 5) * 1000

        # agent1 goes Available and is offered Jane's chat: she still waits (not yet accepted); a slot is held.
        await a1.go_available()
        offer = await a1.wait_for_offer(10)
        await until(figures, {**NONE_BUT_AGE, "CONTACTS_IN_QUEUE": 1.0, "AGENTS_ONLINE": 1.0, "AGENTS_AVAILABLE": 1.0,
                              "AGENTS_STAFFED": 1.0, "SLOTS_ACTIVE": 1.0, "SLOTS_AVAILABLE": 2.0})
        assert figures()["OLDEST_CONTACT_AGE"] >= 1000
        offered = user_data(client, ids)["agent1"]
        assert offered["Status"]["StatusName"] == "Available"
        assert offered["Status"]["StatusArn"].split("/")[-2] == "agent-state"
        assert offered["RoutingProfile"]["Id"] == ids.basic_routing_profile
        assert offered["MaxSlotsByChannel"] == {"VOICE": 1, "CHAT": 3, "TASK": 1}
        assert offered["ActiveSlotsByChannel"]["CHAT"] == 1 and offered["AvailableSlotsByChannel"]["CHAT"] == 2
        (incoming,) = offered["Contacts"]
        assert (incoming["ContactId"], incoming["AgentContactState"], incoming["Channel"]) == (
            jane.contact_id, "INCOMING", "CHAT")
        assert incoming["Queue"]["Id"] == ids.basic_queue and "ConnectedToAgentTimestamp" not in incoming

        # agent1 accepts: nobody waits any more, agent1 is on contact.
        chat1 = await a1.accept(offer)
        on_contact = {**ZERO, "AGENTS_ONLINE": 1.0, "AGENTS_AVAILABLE": 1.0, "AGENTS_STAFFED": 1.0,
                      "AGENTS_ON_CONTACT": 1.0, "SLOTS_ACTIVE": 1.0, "SLOTS_AVAILABLE": 2.0}
        await until(figures, on_contact)
        (connected,) = user_data(client, ids)["agent1"]["Contacts"]
        assert connected["AgentContactState"] == "CONNECTED" and connected["InitiationMethod"] == "API"
        assert connected["ConnectedToAgentTimestamp"] == connected["StateStartTimestamp"]

        # agent2 comes, is invited by agent1 (to agent2's own queue, not BasicQueue) and joins: two on contact.
        await a2.go_available()
        await a1.invite(offer, "Transfer-to-agent-2")
        invitation = await a2.wait_for_offer(10)
        assert figures()["CONTACTS_IN_QUEUE"] == 0
        await a2.accept(invitation)
        await until(figures, {**on_contact, "AGENTS_ONLINE": 2.0, "AGENTS_AVAILABLE": 2.0, "AGENTS_STAFFED": 2.0,
                              "AGENTS_ON_CONTACT": 2.0, "SLOTS_ACTIVE": 2.0, "SLOTS_AVAILABLE": 4.0})
        (joined,) = user_data(client, ids)["agent2"]["Contacts"]
        assert joined["ContactId"] == invitation.contact_id and joined["InitiationMethod"] == "TRANSFER"

        # agent2 leaves: after-contact work holds its slot until agent2 clears it.
        await a2.leave(invitation)
        await until(figures, {"AGENTS_ON_CONTACT": 1.0, "AGENTS_AFTER_CONTACT_WORK": 1.0, "SLOTS_ACTIVE": 2.0,
                              "SLOTS_AVAILABLE": 4.0})
        assert user_data(client, ids)["agent2"]["Contacts"][0]["AgentContactState"] == "ENDED"
        only_acw = user_data(client, ids, Agents=[ids.users["agent2"]],
                             ContactFilter={"ContactStates": ["ENDED"]})
        assert list(only_acw) == ["agent2"]
        connected_only = {"ContactStates": ["CONNECTED"]}
        assert user_data(client, ids, Agents=[ids.users["agent2"]], ContactFilter=connected_only) == {}
        await a2.clear(invitation)
        await until(figures, {"AGENTS_AFTER_CONTACT_WORK": 0.0, "SLOTS_ACTIVE": 1.0, "SLOTS_AVAILABLE": 5.0})

        # Grouped by routing profile, and by channel (no Channels filter: every channel a profile configures).
        by_profile = client.get_current_metric_data(
            InstanceId=ids.instance_id, Filters={"RoutingProfiles": [ids.basic_routing_profile], "Channels": ["CHAT"]},
            Groupings=["ROUTING_PROFILE"], CurrentMetrics=metrics())["MetricResults"]
        assert [r["Dimensions"]["RoutingProfile"]["Id"] for r in by_profile] == [ids.basic_routing_profile]
        assert values(by_profile[0]) == figures()
        by_channel = client.get_current_metric_data(
            InstanceId=ids.instance_id, Filters={"Queues": [ids.basic_queue]}, Groupings=["CHANNEL"],
            CurrentMetrics=metrics(["AGENTS_ONLINE", "SLOTS_ACTIVE", "SLOTS_AVAILABLE"]))
        assert [(r["Dimensions"]["Channel"], values(r)) for r in by_channel["MetricResults"]] == [
            ("CHAT", {"AGENTS_ONLINE": 2.0, "SLOTS_ACTIVE": 1.0, "SLOTS_AVAILABLE": 5.0}),
            ("TASK", {"AGENTS_ONLINE": 2.0, "SLOTS_ACTIVE": 0.0, "SLOTS_AVAILABLE": 2.0}),
            ("VOICE", {"AGENTS_ONLINE": 2.0, "SLOTS_ACTIVE": 0.0, "SLOTS_AVAILABLE": 2.0}),
        ]
        everything = client.get_current_metric_data(
            InstanceId=ids.instance_id, Filters={"Queues": [ids.basic_queue]},
            CurrentMetrics=metrics(["SLOTS_AVAILABLE"]))["MetricResults"]
        assert values(everything[0]) == {"SLOTS_AVAILABLE": 9.0}  # every channel's slots: (2 + 1 + 1) + (3 + 1 + 1)

        # By ARN, by routing profile, by hierarchy group (nobody has one).
        arn = f"arn:aws:connect:us-west-2:123456789012:instance/{ids.instance_id}/agent/{ids.users['agent1']}"
        assert list(user_data(client, ids, Agents=[arn])) == ["agent1"]
        assert sorted(user_data(client, ids, RoutingProfiles=[ids.basic_routing_profile])) == ["agent1", "agent2"]
        assert user_data(client, ids, UserHierarchyGroups=["a5f0b2d4-0000-4000-8000-000000000000"]) == {}

        # Jane leaves: the chat ends, agent1 goes to after-contact work.
        await jane.disconnect()
        await until(figures, {"AGENTS_ON_CONTACT": 0.0, "AGENTS_AFTER_CONTACT_WORK": 1.0, "SLOTS_ACTIVE": 1.0})
        await a1.clear(offer)
        await chat1.close()

        # agent3 alone is Available and lets an offer expire: it is in an error state (online, not staffed), and
        # the contact waits again.
        await a1.go_offline()
        await a2.go_offline()
        await a3.go_available()
        bob = await customer(srv.url, "Bob")
        missed = await a3.wait_for_offer(10)
        assert missed.initial_contact_id == bob.contact_id
        await until(figures, {**NONE_BUT_AGE, "AGENTS_ONLINE": 1.0, "AGENTS_ERROR": 1.0, "CONTACTS_IN_QUEUE": 1.0},
                    timeout=OFFER_SECONDS + 10)
        assert user_data(client, ids)["agent3"]["Status"]["StatusName"] == "MissedCallAgent"
        await a3.go_offline()
        await bob.disconnect()
        await bob.close()
        await jane.close()
        await until(figures, ZERO)


def test_paging_through_grouped_results(client: Any, ids: DemoIds, refused: Any) -> None:
    params = {"InstanceId": ids.instance_id, "Filters": {"Queues": [ids.basic_queue]}, "Groupings": ["CHANNEL"],
              "CurrentMetrics": metrics(["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"])}
    seen = []
    token = None
    for _ in range(3):
        page = client.get_current_metric_data(**params, MaxResults=1, **({"NextToken": token} if token else {}))
        assert page["ApproximateTotalCount"] == 3 and len(page["MetricResults"]) == 1
        seen.append(page["MetricResults"][0]["Dimensions"]["Channel"])
        token = page.get("NextToken")
    assert token is None and sorted(seen) == ["CHAT", "TASK", "VOICE"]
    first = client.get_current_metric_data(**params, MaxResults=1)
    other = {**params, "Groupings": ["QUEUE"]}
    refused(lambda: client.get_current_metric_data(**other, NextToken=first["NextToken"]),
            "InvalidParameterException", 400, "other parameters")
    refused(lambda: client.get_current_metric_data(**params, NextToken="not-a-token"),
            "InvalidParameterException", 400, "NextToken is not valid")
    # Sorted ascending on a metric: the order of the dimensions' names breaks ties.
    ascending = client.get_current_metric_data(**params, SortCriteria=[
        {"SortByMetric": "CONTACTS_IN_QUEUE", "SortOrder": "ASCENDING"}])
    assert [r["Dimensions"]["Channel"] for r in ascending["MetricResults"]] == ["CHAT", "TASK", "VOICE"]


def test_a_metric_named_by_its_arn_is_echoed_by_its_arn(client: Any, ids: DemoIds) -> None:
    metric_arn = "arn:aws:connect:us-west-2:aws:metric/AGENTS_ONLINE"
    answer = client.get_current_metric_data(InstanceId=ids.instance_id, Filters={"Queues": [ids.basic_queue]},
                                            CurrentMetrics=[{"MetricId": metric_arn}])
    assert answer["MetricResults"][0]["Collections"] == [
        {"Metric": {"MetricId": metric_arn, "Unit": "COUNT"}, "Value": 0.0}]


GOOD_FILTERS = {"Queues": ["{queue}"]}


@pytest.mark.parametrize(("params", "code", "status", "fragment"), [
    ({"Filters": {}}, "InvalidParameterException", 400, "Filters must include Queues or RoutingProfiles"),
    ({"Filters": {"Queues": ["{queue}"], "RoutingProfiles": ["{profile}"]}}, "InvalidParameterException", 400,
     "cannot filter by both Queues and RoutingProfiles"),
    ({"Filters": {"Queues": ["00000000-0000-4000-8000-000000000000"]}}, "ResourceNotFoundException", 404,
     "Queue 00000000-0000-4000-8000-000000000000 was not found"),
    ({"Filters": {"Queues": ["arn:aws:connect:us-west-2:123456789012:instance/other/queue/{queue}"]}},
     "InvalidParameterException", 400, "belongs to instance other"),
    ({"Filters": {"Queues": ["arn:aws:connect:us-west-2:123456789012:instance/{iid}/agent/{queue}"]}},
     "InvalidParameterException", 400, "is not the ARN of a queue"),
    ({"Filters": {"Queues": []}}, "InvalidParameterException", 400, "'filters.queues' failed to satisfy constraint"),
    ({"Filters": {"Queues": ["{queue}"], "Channels": ["FAX"]}}, "InvalidParameterException", 400, "FAX"),
    ({"Filters": {"Queues": ["{queue}"], "AgentStatuses": ["x"]}}, "InvalidParameterException", 400,
     "does not filter real-time metrics by AgentStatuses"),
    ({"CurrentMetrics": [{"Name": "AGENTS_BORED", "Unit": "COUNT"}]}, "InvalidParameterException", 400,
     "AGENTS_BORED"),
    ({"CurrentMetrics": [{"Name": "ESTIMATED_WAIT_TIME", "Unit": "SECONDS"}]}, "InvalidParameterException", 400,
     "Parley does not compute ESTIMATED_WAIT_TIME"),
    ({"CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "SECONDS"}]}, "InvalidParameterException", 400,
     "The unit of CONTACTS_IN_QUEUE is COUNT, not SECONDS."),
    ({"CurrentMetrics": [{"Unit": "COUNT"}]}, "InvalidParameterException", 400, "needs a Name"),
    ({"CurrentMetrics": []}, "InvalidParameterException", 400, "at least one metric"),
    ({"CurrentMetrics": [{"MetricId": "0c2ee9e5-1c8e-4f58-a2ec-3f6a44a8f7a1"}]}, "InvalidParameterException", 400,
     "Parley has no custom metrics"),
    ({"CurrentMetrics": [{"Name": "AGENTS_ONLINE", "MetricId": "arn:aws:connect:us-west-2:aws:metric/AGENTS_ONLINE"}]},
     "InvalidParameterException", 400, "not both"),
    ({"Groupings": ["AGENT_STATUS"]}, "InvalidParameterException", 400,
     "does not group real-time metrics by AGENT_STATUS"),
    ({"Groupings": ["QUEUE", "QUEUE"]}, "InvalidParameterException", 400, "more than once"),
    ({"Groupings": ["QUEUE", "CHANNEL", "ROUTING_PROFILE"]}, "InvalidParameterException", 400, "'groupings'"),
    ({"Groupings": ["ROUTING_PROFILE"], "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}]},
     "InvalidParameterException", 400, "A RoutingProfiles filter is required for CONTACTS_IN_QUEUE"),
    ({"SortCriteria": [{"SortByMetric": "SLOTS_ACTIVE", "SortOrder": "ASCENDING"}]}, "InvalidParameterException",
     400, "Sorting on SLOTS_ACTIVE is not supported"),
    ({"MaxResults": 0}, "InvalidParameterException", 400, "'maxResults'"),
    ({"InstanceId": "00000000-0000-4000-8000-000000000000"}, "ResourceNotFoundException", 404,
     "Instance 00000000-0000-4000-8000-000000000000 was not found"),
])
def test_get_current_metric_data_refusals(raw: Any, ids: DemoIds, refused: Any, params: dict[str, Any], code: str,
                                          status: int, fragment: str) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(queue=ids.basic_queue, profile=ids.basic_routing_profile, iid=ids.instance_id)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    request = fill({"InstanceId": ids.instance_id, "Filters": GOOD_FILTERS,
                    "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}], **params})
    refused(lambda: raw.get_current_metric_data(**request), code, status, fragment)


def test_get_current_metric_data_without_required_members(raw: Any, ids: DemoIds) -> None:
    for missing, wire in (("Filters", "filters"), ("CurrentMetrics", "currentMetrics")):
        request = {"InstanceId": ids.instance_id, "Filters": {"Queues": [ids.basic_queue]},
                   "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}]}
        del request[missing]
        check_refused(lambda r=request: raw.get_current_metric_data(**r), "InvalidParameterException", 400,
                      f"Value null at '{wire}' failed to satisfy constraint: Member must not be null")


@pytest.mark.parametrize(("filters", "code", "status", "fragment"), [
    ({}, "InvalidParameterException", 400, "exactly one of Queues, RoutingProfiles, Agents and UserHierarchyGroups"),
    ({"ContactFilter": {"ContactStates": ["CONNECTED"]}}, "InvalidParameterException", 400, "exactly one of"),
    ({"Queues": ["{queue}"], "Agents": ["{agent}"]}, "InvalidParameterException", 400,
     "this request has Queues and Agents"),
    ({"Agents": ["00000000-0000-4000-8000-000000000000"]}, "ResourceNotFoundException", 404,
     "User 00000000-0000-4000-8000-000000000000 was not found"),
    ({"RoutingProfiles": ["00000000-0000-4000-8000-000000000000"]}, "ResourceNotFoundException", 404,
     "Routing profile 00000000-0000-4000-8000-000000000000 was not found"),
    ({"Queues": ["{queue}"], "ContactFilter": {"ContactStates": ["SNOOZING"]}}, "InvalidParameterException", 400,
     "SNOOZING"),
    ({"Agents": []}, "InvalidParameterException", 400, "'filters.agents'"),
])
def test_get_current_user_data_refusals(raw: Any, ids: DemoIds, refused: Any, filters: dict[str, Any], code: str,
                                        status: int, fragment: str) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(queue=ids.basic_queue, agent=ids.users["agent1"])
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {k: fill(v) for k, v in value.items()} if isinstance(value, dict) else value

    refused(lambda: raw.get_current_user_data(InstanceId=ids.instance_id, Filters=fill(filters)), code, status,
            fragment)

"""Connect's real-time metrics operations, ``GetCurrentMetricData`` and ``GetCurrentUserData``: the request in
Parley's terms, the figures from :class:`parley.service.realtime.RealtimeService` (the live view's too), and the
answer in the model's shapes."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, page_size
from parley.domain.arns import ARN_WORDS, Account
from parley.domain.realtime import AgentNow
from parley.domain.realtime_query import DESCENDING, Metric, MetricAsked, MetricQuery
from parley.domain.resources import Queue, RoutingProfile
from parley.service.realtime import CONTACT_STATES, MetricRow, RealtimeService, UserQuery

# GetCurrentMetricData's filters that Parley has nothing to filter by.
OTHER_FILTERS = ("RoutingStepExpressions", "AgentStatuses", "Subtypes", "ValidationTestTypes")


def _listed(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


class MetricsHandlers:
    def __init__(self, realtime: RealtimeService, account: Account) -> None:
        self.realtime = realtime
        self.account = account

    def _ref(self, instance_id: str, kind: str, resource_id: str) -> dict[str, str]:
        return {"Id": resource_id, "Arn": self.account.arn(instance_id, ARN_WORDS[kind], resource_id)}

    # GetCurrentMetricData --------------------------------------------------------------------------------------
    async def get_current_metric_data(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        filters = p.get("Filters") or {}
        sort = (p.get("SortCriteria") or [{}])[0]
        query = MetricQuery(
            metrics=tuple(MetricAsked(m.get("Name"), m.get("MetricId"), m.get("Unit")) for m in p["CurrentMetrics"]),
            queues=_listed(filters.get("Queues")), routing_profiles=_listed(filters.get("RoutingProfiles")),
            channels=_listed(filters.get("Channels")),
            other_filters=tuple(name for name in OTHER_FILTERS if filters.get(name)),
            groupings=tuple(p.get("Groupings") or ()), sort_by=sort.get("SortByMetric"),
            sort_order=sort.get("SortOrder") or DESCENDING, token=p.get("NextToken"), limit=page_size(p),
        )
        page = await self.realtime.current_metrics(call.caller, p["InstanceId"], query)
        return {
            "MetricResults": [self._result(row) for row in page.rows], "NextToken": page.next_token,
            "DataSnapshotTime": page.taken, "ApproximateTotalCount": page.total,
        }

    def _result(self, row: MetricRow) -> dict[str, Any]:
        dimensions: dict[str, Any] = {}
        if row.queue is not None:
            dimensions["Queue"] = self._ref(row.queue.instance_id, Queue.KIND, row.queue.id)
        if row.channel is not None:
            dimensions["Channel"] = row.channel
        if row.profile is not None:
            dimensions["RoutingProfile"] = self._ref(row.profile.instance_id, RoutingProfile.KIND, row.profile.id)
        return {"Dimensions": dimensions, "Collections": [
            {"Metric": _metric(metric), "Value": value} for metric, value in row.values]}

    # GetCurrentUserData ----------------------------------------------------------------------------------------
    async def get_current_user_data(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        filters = p.get("Filters") or {}
        query = UserQuery(
            queues=_listed(filters.get("Queues")), routing_profiles=_listed(filters.get("RoutingProfiles")),
            agents=_listed(filters.get("Agents")), hierarchy_groups=_listed(filters.get("UserHierarchyGroups")),
            contact_states=_listed((filters.get("ContactFilter") or {}).get("ContactStates")),
            token=p.get("NextToken"), limit=page_size(p),
        )
        page = await self.realtime.current_users(call.caller, p["InstanceId"], query)
        return {"UserDataList": [self._user(agent) for agent in page.rows], "NextToken": page.next_token,
                "ApproximateTotalCount": page.total}

    def _user(self, agent: AgentNow) -> dict[str, Any]:
        user, presence, profile = agent.user, agent.presence, agent.profile
        iid = user.instance_id
        status: dict[str, Any] = {"StatusStartTimestamp": presence.since, "StatusName": presence.state_name}
        if presence.state_id:
            status["StatusArn"] = self.account.arn(iid, ARN_WORDS["agent_status"], presence.state_id)
        channels = [m.channel for m in profile.media_concurrencies] if profile else []
        return {
            "User": self._ref(iid, user.KIND, user.id),
            "RoutingProfile": self._ref(iid, profile.KIND, profile.id) if profile else None,
            "Status": status,
            "AvailableSlotsByChannel": {ch: agent.free_slots(ch) for ch in channels},
            "MaxSlotsByChannel": {ch: agent.max_slots(ch) for ch in channels},
            "ActiveSlotsByChannel": {ch: agent.active_slots(ch) for ch in channels},
            "Contacts": [{
                "ContactId": c.id, "Channel": c.channel, "InitiationMethod": c.initiation_method,
                "AgentContactState": CONTACT_STATES[c.state],
                "StateStartTimestamp": _state_start(c.state, c.last_update_time, c.connected_to_agent_time,
                                                    c.after_contact_work_start),
                "ConnectedToAgentTimestamp": c.connected_to_agent_time,
                "Queue": self._ref(iid, Queue.KIND, c.queue_id) if c.queue_id else None,
            } for c in agent.contacts],
            "NextStatus": presence.next_state_name,
        }


def _metric(metric: Metric) -> dict[str, Any]:
    """The metric as the request named it (by Name or by MetricId), with its unit."""
    named = {"MetricId": metric.asked.metric_id} if metric.asked.metric_id else {"Name": metric.name}
    return {**named, "Unit": metric.unit}


def _state_start(state: str, updated: Any, connected: Any, acw: Any) -> Any:
    if state == "CONNECTED":
        return connected or updated
    if state == "ENDED":
        return acw or updated
    return updated

"""What a real-time metrics request may ask, and the refusals of what it may not (``GetCurrentMetricData``'s rules
as its model documents them: filters, groupings, metrics and units, sorting).

Checked before anything is read; every refusal is an :class:`InvalidParameter` that says what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.domain.errors import InvalidParameter
from parley.domain.realtime import CHANNELS, QUEUE_METRICS, UNITS

QUEUE = "QUEUE"
CHANNEL = "CHANNEL"
ROUTING_PROFILE = "ROUTING_PROFILE"
GROUPINGS = (QUEUE, CHANNEL, ROUTING_PROFILE)
ASCENDING = "ASCENDING"
DESCENDING = "DESCENDING"
# Connect's default order: "By default resources are sorted based on AGENTS_ONLINE, DESCENDING".
DEFAULT_SORT = "AGENTS_ONLINE"
# "Sorting on SLOTS_ACTIVE and SLOTS_AVAILABLE is not supported."
UNSORTABLE = frozenset({"SLOTS_ACTIVE", "SLOTS_AVAILABLE"})
# An out-of-the-box metric named by ARN in MetricId (the model's pattern's second form).
_BUILTIN_METRIC_ARN = re.compile(r"^arn:[a-z0-9-]+:connect:[a-z0-9-]+:aws:metric/(?P<name>[A-Z_]+)$")


@dataclass(frozen=True)
class MetricAsked:
    """One entry of ``CurrentMetrics`` as sent."""

    name: str | None = None
    metric_id: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Metric:
    """A metric to compute: its name and unit, and the entry that asked for it (echoed in the answer)."""

    name: str
    unit: str
    asked: MetricAsked


@dataclass(frozen=True)
class MetricQuery:
    """A ``GetCurrentMetricData`` request in Parley's terms (ids or ARNs as sent; resolved by the service)."""

    metrics: tuple[MetricAsked, ...]
    queues: tuple[str, ...] | None = None
    routing_profiles: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    # Filters Parley has nothing to filter by (routing criteria, agent statuses, subtypes, validation tests).
    other_filters: tuple[str, ...] = ()
    groupings: tuple[str, ...] = ()
    sort_by: str | None = None
    sort_order: str = DESCENDING
    token: str | None = None
    limit: int = 100


def checked_metrics(query: MetricQuery) -> list[Metric]:
    """The metrics to compute, in the order asked, after every check of the request."""
    if query.other_filters:
        raise InvalidParameter(
            f"Parley does not filter real-time metrics by {', '.join(query.other_filters)}: filter by Queues or "
            "RoutingProfiles, and Channels.")
    if query.queues is None and query.routing_profiles is None:
        raise InvalidParameter("Filters must include Queues or RoutingProfiles: metric data is retrieved only for "
                               "the resources associated with the queues or routing profiles in the filter.")
    if query.queues is not None and query.routing_profiles is not None:
        raise InvalidParameter("You cannot filter by both Queues and RoutingProfiles: choose one of them.")
    for channel in query.channels or ():
        if channel not in CHANNELS:
            raise InvalidParameter(f"Channel {channel!r} is not one of {', '.join(CHANNELS)}.")
    _check_groupings(query.groupings)
    if not query.metrics:
        raise InvalidParameter("CurrentMetrics must name at least one metric.")
    metrics = [_metric(asked) for asked in query.metrics]
    if ROUTING_PROFILE in query.groupings and query.routing_profiles is None:
        needing = sorted({m.name for m in metrics} & QUEUE_METRICS)
        if needing:
            raise InvalidParameter(
                f"A RoutingProfiles filter is required for {', '.join(needing)} when grouping by ROUTING_PROFILE.")
    if query.sort_by is not None and query.sort_by in UNSORTABLE:
        raise InvalidParameter(f"Sorting on {query.sort_by} is not supported: sort on another metric.")
    if query.sort_by is not None and query.sort_by not in UNITS:
        raise InvalidParameter(f"Parley cannot sort on {query.sort_by}: it does not compute that metric.")
    if query.sort_order not in (ASCENDING, DESCENDING):
        raise InvalidParameter(f"SortOrder must be {ASCENDING} or {DESCENDING}.")
    return metrics


def _check_groupings(groupings: tuple[str, ...]) -> None:
    if len(set(groupings)) != len(groupings):
        raise InvalidParameter("Groupings lists a grouping more than once.")
    for grouping in groupings:
        if grouping not in GROUPINGS:
            raise InvalidParameter(
                f"Parley does not group real-time metrics by {grouping}: group by QUEUE, CHANNEL or "
                "ROUTING_PROFILE.")


def _metric(asked: MetricAsked) -> Metric:
    if asked.name and asked.metric_id:
        raise InvalidParameter("Name a metric by Name or by MetricId, not both.")
    name = asked.name
    if asked.metric_id:
        found = _BUILTIN_METRIC_ARN.match(asked.metric_id)
        if found is None:
            raise InvalidParameter(f"Metric {asked.metric_id} was not found: Parley has no custom metrics; name a "
                                   "metric by Name, or by the ARN of an out-of-the-box metric.")
        name = found.group("name")
    if not name:
        raise InvalidParameter("Each entry of CurrentMetrics needs a Name (or a MetricId).")
    unit = UNITS.get(name)
    if unit is None:
        raise InvalidParameter(
            f"Parley does not compute {name}: ask for {', '.join(sorted(UNITS))}.")
    if asked.unit is not None and asked.unit != unit:
        raise InvalidParameter(f"The unit of {name} is {unit}, not {asked.unit}.")
    return Metric(name, unit, asked)

"""``GET /metrics``: the process's counters in Prometheus's text format, for loopback clients unless opened up.

Counters and histograms come from :class:`parley.service.telemetry.Telemetry`, which the hot paths update without
prometheus-client; :class:`ParleyCollector` turns them into metric families only when scraped. The gauges of the
database (active chats, participants, queued contacts, open offers) are counted at scrape time too, at most once
per :data:`ACTIVITY_SECONDS`, so a scrape storm costs the database nothing more. The registry is the one
``parley.app`` builds for this server (prometheus-client's global default registry is not used).

Who may read it (:class:`MetricsAccess`): metrics describe traffic, load and sizes, which is not for the
internet, and the port they are on is the public one. By default only a client connected from a loopback address
*without* a forwarding header (``X-Forwarded-For``, ``Forwarded``) is answered, so a Prometheus or ``curl`` on
the node itself gets them and nothing that comes through a load balancer does (HAProxy on the same machine
connects from loopback but adds ``X-Forwarded-For``: ``option forwardfor``, as ``scripts/cluster`` configures
it). ``--metrics-token`` lets any client that sends ``Authorization: Bearer <token>`` read them (Prometheus's
``authorization`` scrape setting); ``--metrics-public`` opens them to everyone (a private network). Anyone else
gets 403 and learns nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from parley.service.telemetry import Activity, Histogram, Telemetry

log = logging.getLogger(__name__)

# How long counted database activity is reused: scrapes come every 10-60 s; several scrapers (or a person
# reloading the page) within a few seconds share one set of COUNT queries.
ACTIVITY_SECONDS = 5.0
# Request headers a load balancer or proxy adds: a request that carries one came from elsewhere, even when the
# connection is from loopback (a balancer on the same machine).
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
REFUSED = ("/metrics is served only to clients on this machine (loopback, not through a proxy), to a client "
           "sending the --metrics-token as a bearer token, or to anyone with --metrics-public.\n")


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read ``/metrics`` (see the module's docstring)."""

    public: bool = False
    token: str | None = None

    def allows(self, request: Request) -> bool:
        if self.public:
            return True
        if self.token:
            given = request.headers.get("authorization", "")
            scheme, _, credentials = given.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
                return True
        if any(name in request.headers for name in FORWARDING_HEADERS):
            return False
        host = request.client.host if request.client else ""
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


@dataclass
class Sources:
    """What the collector reads at scrape time besides the telemetry: each a cheap call into a component."""

    # Chats this node holds sockets for (the hub's feeds).
    chat_feeds: Callable[[], int]
    # Requests refused by load shedding since start (Admission.refused, and Appender.expired: refused by the group
    # commit for their wait); None: no shedding.
    shed_requests: Callable[[], int] | None = None


class ParleyCollector(Collector):
    """Parley's metrics as Prometheus families, from :class:`Telemetry`, :class:`Sources` and the last
    :class:`Activity` counted."""

    def __init__(self, telemetry: Telemetry, sources: Sources) -> None:
        self.telemetry = telemetry
        self.sources = sources
        self.activity: Activity | None = None

    def collect(self) -> Iterator[Metric]:
        yield from self._requests()
        telemetry = self.telemetry
        yield _histogram("parley_commit_batch_size", "Requests (SendMessage, SendEvent) per group commit.",
                         telemetry.commit_batch_size)
        yield _histogram("parley_commit_seconds", "Time of one group commit's transaction, seconds.",
                         telemetry.commit_seconds)
        yield _histogram("parley_bus_delivery_lag_seconds",
                         "From a chat poke's publication (on any node) to this node's hub having handled it, "
                         "seconds.", telemetry.bus_lag_seconds)
        sockets = GaugeMetricFamily("parley_open_websockets", "Websockets open on this node, by kind.",
                                    labels=["kind"])
        for kind in ("participant", "agent"):
            sockets.add_metric([kind], telemetry.open_sockets.get(kind, 0))
        yield sockets
        closes = CounterMetricFamily("parley_websocket_closes", "Websockets closed (or refused at the handshake) "
                                     "on this node, by kind and close code.", labels=["kind", "code"])
        for (kind, code), count in sorted(telemetry.socket_closes.items()):
            closes.add_metric([kind, str(code)], count)
        yield closes
        yield GaugeMetricFamily("parley_chat_feeds", "Chats this node holds websockets for.",
                                value=self.sources.chat_feeds())
        shed = self.sources.shed_requests
        yield CounterMetricFamily("parley_shed_requests", "Requests refused with 429 by load shedding.",
                                  value=shed() if shed is not None else 0)
        yield from self._activity()

    def _requests(self) -> Iterable[Metric]:
        counts = CounterMetricFamily("parley_requests", "Requests answered, by surface, operation and HTTP status.",
                                     labels=["surface", "operation", "status"])
        latency = HistogramMetricFamily("parley_request_seconds", "Time to answer a request, by surface and "
                                        "operation, seconds.", labels=["surface", "operation"])
        for surface, requests in self.telemetry.requests.items():
            for (operation, status), count in sorted(requests.counts.items()):
                counts.add_metric([surface, operation, str(status)], count)
            for operation, histogram in sorted(requests.latency.items()):
                latency.add_metric([surface, operation], _buckets(histogram), histogram.total)
        return counts, latency

    def _activity(self) -> Iterable[Metric]:
        activity = self.activity
        if activity is None:  # the database could not be read: the gauges are left out, not made up
            return ()
        help_suffix = " (the whole deployment's: every node reports the same database)."
        return (
            GaugeMetricFamily("parley_active_chats", "Chats not ended" + help_suffix, value=activity.active_chats),
            GaugeMetricFamily("parley_active_participants", "Participants of chats not ended who have not left"
                              + help_suffix, value=activity.active_participants),
            GaugeMetricFamily("parley_queued_contacts", "Contacts waiting in a queue for an agent" + help_suffix,
                              value=activity.queued_contacts),
            GaugeMetricFamily("parley_open_offers", "Contacts offered to an agent, not yet accepted or rejected"
                              + help_suffix, value=activity.open_offers),
        )


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    return [("+Inf" if bound == float("inf") else repr(bound), count) for bound, count in histogram.cumulative()]


def _histogram(name: str, documentation: str, histogram: Histogram) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation)
    family.add_metric([], _buckets(histogram), histogram.total)
    return family


class MetricsEndpoint:
    """The Starlette endpoint of ``/metrics``: access check, database activity (cached), exposition."""

    def __init__(self, registry: CollectorRegistry, collector: ParleyCollector,
                 count_activity: Callable[[], Awaitable[Activity]], access: MetricsAccess,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self.collector = collector
        self.count_activity = count_activity
        self.access = access
        self.clock = clock
        self._counted_at = float("-inf")

    async def handle(self, request: Request) -> Response:
        if not self.access.allows(request):
            return PlainTextResponse(REFUSED, status_code=403)
        now = self.clock()
        if now - self._counted_at >= ACTIVITY_SECONDS:
            self._counted_at = now
            try:
                self.collector.activity = await self.count_activity()
            except Exception as exc:  # the database is down: say so in the log; the rest is still served
                log.warning("metrics: the database activity could not be counted: %s", exc)
                self.collector.activity = None
        # Prometheus's text format, or OpenMetrics when the scraper asks for it.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(self.registry), headers={"content-type": content_type})

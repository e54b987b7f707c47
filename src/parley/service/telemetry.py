"""What the server counts while it works: plain counters and histograms that ``/metrics`` reads when scraped.

The hot paths update them directly (a dict add, a bisect and a list add; no lock, no metrics library, no
allocation beyond a small key tuple), because every SendMessage records its latency and every group commit its
batch: prometheus-client's own metric objects take a lock and resolve their labels on each update.
:mod:`parley.web.metrics` turns what is here into Prometheus metric families at scrape time. Everything runs on
the event loop's thread, so a scrape reads a consistent state.

A component built without a :class:`Telemetry` (a unit test, a tool) gets a private one nobody reads: recording
stays as cheap, and nothing needs to check for "no metrics".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

# Request latency bucket bounds, seconds: a SendMessage takes about a millisecond, Connect API writes a few; the
# agents' snapshot long poll (CTI GetAgentSnapshot) is held up to about 30 s, hence the top buckets.
LATENCY_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Group commit batch sizes: powers of two up to the largest batch (parley.service.appends.MAX_BATCH is 256).
BATCH_BOUNDS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
# Commit time and bus lag, seconds: SQLite commits take ~0.5-5 ms, PostgreSQL a few round trips; a poke crosses
# the in-process bus in microseconds and Redis in under a millisecond, so seconds mean something is wrong.
SHORT_BOUNDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# The operation label of a request that names no known operation: labels stay a bounded set whatever clients send.
UNKNOWN = "unknown"


class Histogram:
    """Counts of observations per bucket (``counts[i]``: values ≤ ``bounds[i]``, not cumulative; the last
    count is above every bound) and their sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[float, int]]:
        """Prometheus's buckets: ``(le, observations ≤ le)`` for each bound, then infinity's."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


class Requests:
    """One surface's requests: how many per (operation, HTTP status), and their latency per operation."""

    def __init__(self, bounds: Sequence[float] = LATENCY_BOUNDS) -> None:
        self.bounds = tuple(bounds)
        self.counts: dict[tuple[str, int], int] = {}
        self.latency: dict[str, Histogram] = {}

    def record(self, operation: str, status: int, seconds: float) -> None:
        key = (operation, status)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        histogram = self.latency.get(operation)
        if histogram is None:
            histogram = self.latency[operation] = Histogram(self.bounds)
        histogram.observe(seconds)


@dataclass(frozen=True)
class Activity:
    """What the database holds right now (the whole deployment's, whichever node reads it)."""

    active_chats: int
    active_participants: int
    queued_contacts: int
    open_offers: int


# The request surfaces counted (the ``surface`` label): the Connect API, the Participant Service, the CCP's CTI API.
SURFACES = ("connect", "participant", "cti")


def _requests_by_surface() -> dict[str, Requests]:
    return {surface: Requests() for surface in SURFACES}


@dataclass
class Telemetry:
    """Everything one server process counts (see the module's docstring); built once in ``parley.app``."""

    requests: dict[str, Requests] = field(default_factory=_requests_by_surface)
    commit_batch_size: Histogram = field(default_factory=lambda: Histogram(BATCH_BOUNDS))
    commit_seconds: Histogram = field(default_factory=lambda: Histogram(SHORT_BOUNDS))
    bus_lag_seconds: Histogram = field(default_factory=lambda: Histogram(SHORT_BOUNDS))
    # Websockets open now, by kind (participant, agent), and closes since start by (kind, close code).
    open_sockets: dict[str, int] = field(default_factory=dict)
    socket_closes: dict[tuple[str, int], int] = field(default_factory=dict)

    def socket_opened(self, kind: str) -> None:
        self.open_sockets[kind] = self.open_sockets.get(kind, 0) + 1

    def socket_ended(self, kind: str, opened: bool, code: int) -> None:
        """A websocket's handler finished: ``opened`` if it had been accepted; ``code`` how it was closed."""
        if opened:
            self.open_sockets[kind] -= 1
        key = (kind, code)
        self.socket_closes[key] = self.socket_closes.get(key, 0) + 1

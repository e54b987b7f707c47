"""``GET /metrics`` on a real ``parley serve --demo``: after a chat run with boto3 and a participant websocket it
shows the requests by operation and status, their latency, the open socket, the chat, its participant and its
queued contact, the group commit and the bus; and it is refused to clients that are not on this machine (a real
non-loopback address), to requests that came through a proxy, and to wrong tokens."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request

from parley.web.metrics import MetricsAccess
from tests.aws.chat_helpers import Socket, new_chat, participant_client
from tests.aws.conftest import DemoIds, builtin_ids
from tests.conftest import Server, serving

TOKEN = "metrics-test-token-0123456789"
# How long a test waits for a value to show in /metrics (database counts are cached there for 5 s).
WAIT = 15.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def served() -> Iterator[Server]:
    # Listening on every address, so the test can also come in from a non-loopback one.
    with serving(["--demo", "--host", "0.0.0.0", "--metrics-token", TOKEN]) as srv:
        yield srv


def scrape(url: str, **headers: str) -> Samples:
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def until(url: str, ready: Callable[[Samples], bool]) -> Samples:
    """Scrape until ``ready`` holds (gauges counted from the database are cached a few seconds)."""
    deadline = time.monotonic() + WAIT
    while True:
        samples = scrape(url)
        if ready(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.5)


def test_metrics_after_a_chat_show_requests_sockets_and_the_chat(served: Server) -> None:
    after_a_chat(served)


@pytest.mark.postgres
def test_metrics_after_a_chat_on_postgresql() -> None:
    with serving(["--demo"], postgres=True) as srv:
        after_a_chat(srv)


def after_a_chat(served: Server) -> None:
    """Run a chat (boto3, a participant websocket) and check what /metrics says about it."""
    connect = served.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    demo: DemoIds = builtin_ids(connect, instance)
    client = participant_client(served.url)
    chat = new_chat(connect, client, demo, bot=False)
    sock = Socket.open(chat.customer.new_websocket_url())
    try:
        sent = chat.customer.send("hello metrics")
        sock.wait_item(lambda i: i.get("Id") == sent["Id"])
        samples = until(served.url, lambda s: value(s, "parley_active_chats") == 1)

        def requests(surface: str, operation: str, status: str = "200") -> float | None:
            return value(samples, "parley_requests_total", surface=surface, operation=operation, status=status)

        assert requests("connect", "StartChatContact") == 1
        assert requests("connect", "ListInstances") == 1
        assert requests("participant", "CreateParticipantConnection") == 2  # the join, then the socket's URL
        assert requests("participant", "SendMessage") == 1
        assert value(samples, "parley_request_seconds_count", surface="participant", operation="SendMessage") == 1
        assert value(samples, "parley_request_seconds_bucket", surface="participant", operation="SendMessage",
                     le="+Inf") == 1
        assert value(samples, "parley_open_websockets", kind="participant") == 1
        assert value(samples, "parley_open_websockets", kind="agent") == 0
        assert value(samples, "parley_chat_feeds") == 1
        assert value(samples, "parley_active_chats") == 1
        assert value(samples, "parley_active_participants") == 1  # the customer (no agent is signed in)
        assert value(samples, "parley_queued_contacts") == 1
        assert value(samples, "parley_open_offers") == 0
        assert (value(samples, "parley_commit_batch_size_count") or 0) >= 1  # the message (and joined events)
        assert (value(samples, "parley_commit_seconds_count") or 0) >= 1
        assert (value(samples, "parley_bus_delivery_lag_seconds_count") or 0) >= 1
        assert value(samples, "parley_shed_requests_total") == 0
        assert (value(samples, "process_cpu_seconds_total") or 0) > 0
    finally:
        sock.close()
    closed = until(served.url, lambda s: value(s, "parley_open_websockets", kind="participant") == 0)
    assert value(closed, "parley_open_websockets", kind="participant") == 0
    assert value(closed, "parley_websocket_closes_total", kind="participant", code="1000") == 1
    # Bad input is counted by its status under its operation; a made-up operation under "unknown".
    with pytest.raises(Exception, match="AccessDenied"):
        client.send_message(ConnectionToken="not-a-token", ContentType="text/plain", Content="x")
    response = httpx.post(f"{served.url}/api", headers={"x-amz-target": "AmazonConnectCTIService.MadeUp"},
                          content=b"{}", timeout=10)
    assert response.status_code == 401
    samples = scrape(served.url)
    assert value(samples, "parley_requests_total", surface="participant", operation="SendMessage",
                 status="403") == 1
    assert value(samples, "parley_requests_total", surface="cti", operation="unknown", status="401") == 1


def outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_metrics_are_refused_to_other_machines_and_through_proxies(served: Server) -> None:
    local = httpx.get(f"{served.url}/metrics", timeout=10)
    assert local.status_code == 200
    # Through a load balancer on this machine: the connection is from loopback, but it says whom it forwards.
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        proxied = httpx.get(f"{served.url}/metrics", headers=header, timeout=10)
        assert proxied.status_code == 403, proxied.text
        assert "parley_" not in proxied.text and "--metrics-token" in proxied.text
        assert proxied.headers["x-amzn-requestid"]
    wrong = httpx.get(f"{served.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9",
                                                       "Authorization": "Bearer wrong"}, timeout=10)
    assert wrong.status_code == 403
    scrape(served.url, **{"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"})
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to connect from")
    remote = f"http://{address}:{served.port}/metrics"
    refused = httpx.get(remote, timeout=10)
    assert refused.status_code == 403, refused.text
    assert "parley_" not in refused.text
    allowed = httpx.get(remote, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert allowed.status_code == 200 and "parley_requests_total" in allowed.text


def request_from(host: str, headers: dict[str, str] | None = None) -> Request:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/metrics", "client": (host, 40000),
                             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    return Request(scope)


def test_the_access_rule_in_each_mode() -> None:
    default = MetricsAccess()
    assert default.allows(request_from("127.0.0.1")) and default.allows(request_from("::1"))
    assert not default.allows(request_from("192.0.2.7"))
    assert not default.allows(request_from("127.0.0.1", {"X-Real-IP": "192.0.2.7"}))
    assert not default.allows(request_from("192.0.2.7", {"Authorization": "Bearer "}))
    token = MetricsAccess(token="s3cret")
    assert token.allows(request_from("192.0.2.7", {"Authorization": "Bearer s3cret"}))
    assert not token.allows(request_from("192.0.2.7", {"Authorization": "Basic s3cret"}))
    public = MetricsAccess(public=True)
    assert public.allows(request_from("192.0.2.7", {"X-Forwarded-For": "198.51.100.1"}))

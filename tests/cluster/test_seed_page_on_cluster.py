"""Issue 23's acceptance, the browser half: against ``scripts/cluster`` (three nodes behind one HAProxy port) the
seed document's own custom CCP page, configured only with the balancer's URL (tests/e2e/streams/seed.py checks
that nothing else changed), signs an agent in through StreamsJS's popup, goes Available, auto-accepts a chat that
a real ChatJS customer (Node.js, tests/e2e/chatjs) started through the balancer, messages go both ways and each
side sees both, and the customer ends the chat cleanly: the agent's contact ends and is cleared.

The page is served from an origin of its own (a free port; 127.0.0.1:8080 belongs to the StreamsJS suites),
approved on the demo instance with boto3 ``AssociateApprovedOrigin`` through the balancer; every node's CCP then
lets it frame them. Each node's own ``/metrics`` (read directly from the node, not through HAProxy) shows the
requests of the chat were spread: every node answered some, and both the agent's CCP requests (CTI API) and the
ChatJS requests of both sides (Participant Service) were answered by more than one node."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.conftest import ChatJsCustomer, Cluster
from tests.conftest import Server, connect_client, free_port
from tests.e2e.streams import scenario
from tests.e2e.streams.browser import Watch, sign_in, until
from tests.e2e.streams.conftest import CHROMIUM, CHROMIUM_ARGS, require_packages
from tests.e2e.streams.pages import PageServer
from tests.e2e.streams.test_approved_origins import frame_ancestors
from tests.e2e.streams.test_seed_page import configured_seed

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
# The seed page's newest pair of libraries, as Parley serves them (test_seed_page also runs the seed's own pair).
STREAMS, CHATJS = "2.28.2", "5.0.0"
CUSTOMER = "Jane Customer"
# Surfaces of parley_requests (parley.service.telemetry.SURFACES): the CCP's CTI API is the agent's browser;
# the Participant Service is ChatJS, the customer's and the agent page's.
AGENT_SURFACE, CHAT_SURFACE = "cti", "participant"


def as_server(url: str, cluster: Cluster) -> Server:
    """The balancer or a node in the shape the StreamsJS helpers take: they read only ``url``, call ``connect()``."""
    return Server(url, int(url.rsplit(":", 1)[1]), cluster.run_dir, [])


def requests_by_surface(node: str) -> Counter[str]:
    """How many requests one node has answered so far, by surface, from its own ``/metrics`` (loopback, direct)."""
    answer = httpx.get(f"{node}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(answer.text):
        if family.name == "parley_requests":
            for sample in family.samples:
                if sample.name == "parley_requests_total":
                    counts[sample.labels["surface"]] += int(sample.value)
    return counts


def answered(cluster: Cluster) -> list[Counter[str]]:
    return [requests_by_surface(node) for node in cluster.nodes]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Debian's headless Chromium for this module only (closed before other modules' browsers start)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (apt-get install chromium)")
    require_packages(STREAMS, CHATJS)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    """The seed page's own origin, ``http://127.0.0.1:<free port>``."""
    server = PageServer(free_port())
    server.add("/favicon.ico", b"", "image/x-icon")
    yield server
    server.close()


async def test_seed_page_and_chatjs_customer_through_the_balancer(browser: Any, pages: PageServer,
                                                                  cluster: Cluster) -> None:
    front = as_server(cluster.url, cluster)
    page, diff = configured_seed(front, STREAMS, CHATJS)
    assert f"+    const INSTANCE_URL = \"{cluster.url}/connect/demo/ccp-v2/?visual-refresh=true\";" in diff, diff
    url = pages.add("/seed.html", page)

    # The administrator approves the page's origin once, through the balancer; every node's CCP honours it.
    demo = scenario.demo(front)
    for node in (cluster.url, *cluster.nodes):
        assert pages.origin not in frame_ancestors(as_server(node, cluster)).split()
    connect_client(cluster.url).associate_approved_origin(InstanceId=demo.instance_id, Origin=pages.origin)
    for node in cluster.nodes:
        assert pages.origin in frame_ancestors(as_server(node, cluster)).split(), node

    before = answered(cluster)
    watch = Watch()
    agent = await sign_in(browser, watch, url, "agent1", scenario.SEED.container)
    try:
        loaded = await agent.page.evaluate(scenario.LIBRARIES_JS)
        for library in (f"{cluster.url}/lib/streams/{STREAMS}/connect-streams.js",
                        f"{cluster.url}/lib/chatjs/{CHATJS}/amazon-connect-chat.js"):
            assert library in loaded, f"the page did not load {library} through the balancer: {loaded}"

        # A real ChatJS customer starts a chat through the balancer (every node hands out the balancer's
        # websocket URL, --public-url: test_cluster_script), so its socket goes through HAProxy as well.
        customer = await ChatJsCustomer.start(cluster.url, CUSTOMER)
        try:
            contact = await agent.wait_contact("connected", "the seed page to auto-accept the customer's chat")
            assert contact["id"] == customer.contact_id and contact["type"] == "chat", contact

            await customer.send("Hi, my order never arrived")
            await scenario.sees(agent, scenario.SEED, f"{CUSTOMER}: Hi, my order never arrived")
            await customer.wait_for(lambda item: item.get("Content") == "Hi, my order never arrived"
                                    and item.get("ParticipantRole") == "CUSTOMER", "the echo of its own message")
            await scenario.send(agent, scenario.SEED, "Hello Jane, Agent1 here")
            reply = await customer.wait_for(lambda item: item.get("Content") == "Hello Jane, Agent1 here",
                                            "the agent's reply")
            assert reply["ParticipantRole"] == "AGENT" and reply["DisplayName"] == "Agent1", reply
            await scenario.sees(agent, scenario.SEED, "Agent1: Hello Jane, Agent1 here")

            # The customer ends the chat: ChatJS gets onEnded, the agent's contact ends and the agent clears it.
            await customer.call("disconnect")
            await until(lambda: _reported(customer, "onEnded"), "ChatJS's onEnded after disconnectParticipant()")
            assert await customer.wait_for(lambda item: item.get("ContentType") == scenario.EVENT + "chat.ended",
                                           "chat.ended")
            await agent.wait_contact("ended", "the contact to end when the customer left")
            assert await scenario.badge(agent, contact["id"]) == "ended"
            await agent.close_contact(contact["id"])
            assert customer.count("onConnectionBroken") == 0 and customer.count("unhandledRejection") == 0
        finally:
            customer.close()
    finally:
        await agent.context.close()
    described = front.connect().describe_contact(InstanceId=demo.instance_id, ContactId=customer.contact_id)
    assert described["Contact"].get("DisconnectTimestamp"), described
    watch.assert_clean()

    # HAProxy spread the chat's requests: every node answered some, each surface's went to more than one node.
    after = answered(cluster)
    spread = {surface: [after[n][surface] - before[n][surface] for n in range(len(cluster.nodes))]
              for surface in (AGENT_SURFACE, CHAT_SURFACE)}
    print(f"requests answered per node during the chat: {spread}")
    for surface, per_node in spread.items():
        assert sum(1 for count in per_node if count > 0) >= 2, (surface, spread)
    assert all(sum(counts) > 0 for counts in zip(*spread.values(), strict=True)), spread


async def _reported(customer: ChatJsCustomer, name: str) -> bool:
    return customer.count(name) > 0

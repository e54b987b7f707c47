"""The issue's end-to-end scenario, shared by the seed page and the example page: agent1 signs in through the
popup and goes Available in the CCP iframe, a ChatJS customer starts a chat, the page auto-accepts, messages go
both ways, agent1 presses "Quick Connect", agent2 (a second context on the same page) accepts, all three talk,
agent1 leaves with ``connection.destroy()``, the customer disconnects, both agents see the contact end (after-
contact work) and clear it with the CCP iframe's Close button; no console error anywhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import Server

from .browser import LEAVE_JS, AgentPage, Customer, Watch, sign_in, until
from .pages import PageServer

EVENT = "application/vnd.amazonaws.connect.event."
CUSTOMER = "Jane Customer"


@dataclass(frozen=True)
class Demo:
    """What a test needs of the demo instance, looked up through boto3 like a developer would."""

    instance_id: str
    inbound_flow: str
    quick_connect: dict[str, str]


def demo(server: Server, quick_connect: str = "Transfer-to-agent-2") -> Demo:
    connect = server.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flows = connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
    inbound = next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")
    summaries = connect.list_quick_connects(InstanceId=instance)["QuickConnectSummaryList"]
    qc_id = next(q["Id"] for q in summaries if q["Name"] == quick_connect)
    described = connect.describe_quick_connect(InstanceId=instance, QuickConnectId=qc_id)["QuickConnect"]
    endpoint = {"id": described["QuickConnectId"], "endpointARN": described["QuickConnectARN"],
                "type": "agent", "name": described["Name"]}
    return Demo(instance, inbound, endpoint)


@dataclass(frozen=True)
class PageKind:
    """Where a custom agent page keeps its CCP iframe, transcript, composer and Quick Connect button."""

    name: str
    container: str
    transcript: str
    input: str
    send: str
    quick_connect: str
    leave: str | None = None  # a page button that calls connection.destroy(); None: call it from the test
    # The seed page adds another Send listener on every agent refresh (agent.onRefresh -> initializeChatContact
    # -> setupChat), so one click sends the message once per refresh so far; Parley's example page sends once.
    sends_once: bool = True
    # The page records StreamsJS/ChatJS callbacks in window.parleyLog (Parley's example page does).
    logs: bool = False


SEED = PageKind("seed", "#prebuilt-agent-ui-iframe", "#custom-agent-chat-transcript .message", "#messageInput",
                "#sendMessageButton", "#quick-connect-btn", sends_once=False)
EXAMPLE = PageKind("example", "#ccp", "#transcript .message", "#message", "#send", "#add", "#leave", logs=True)
# Where an agent page loaded its libraries from (resource timing): proves it runs the copies Parley serves.
LIBRARIES_JS = """() => performance.getEntriesByType("resource").map((e) => e.name)
  .filter((name) => name.includes("/lib/"))"""


async def send(agent: AgentPage, kind: PageKind, text: str) -> None:
    """Type into the page's message box and press its Send button."""
    await agent.page.locator(kind.input).fill(text)
    await agent.page.locator(kind.send).click()


async def sees(agent: AgentPage, kind: PageKind, line: str) -> None:
    await agent.wait_text(kind.transcript, line)


async def badge(agent: AgentPage, contact_id: str) -> str:
    card = agent.frame.locator(f'section.contact[data-contact-id="{contact_id}"] .badge')
    return str(await card.text_content())


async def kinds(agent: AgentPage) -> list[str]:
    return list(await agent.page.evaluate("() => window.parleyLog.map((e) => e.kind)"))


async def run(browser: Any, watch: Watch, pages: PageServer, server: Server, url: str, kind: PageKind,
              versions: tuple[str, str], shots: Path) -> dict[str, Any]:
    """The whole scenario; returns facts the calling test may report or check further."""
    streams, chatjs = versions
    label = f"{kind.name}-{streams}"
    facts: dict[str, Any] = {}
    instance = demo(server)
    # Both agents sign in at once (each waits out StreamsJS's 5 s CCP ACK timeout before its popup); agent2
    # stays Offline so the customer's chat can only go to agent1.
    agent1, agent2 = await asyncio.gather(sign_in(browser, watch, url, "agent1", kind.container),
                                          sign_in(browser, watch, url, "agent2", kind.container, available=False))
    loaded = await agent1.page.evaluate(LIBRARIES_JS)
    for library in (f"{server.url}/lib/streams/{streams}/connect-streams.js",
                    f"{server.url}/lib/chatjs/{chatjs}/amazon-connect-chat.js"):
        assert library in loaded, f"the page did not load {library}: {loaded}"

    # A customer starts a chat (StartChatContact, as a chat widget's backend does) and connects with ChatJS.
    started = server.connect().start_chat_contact(
        InstanceId=instance.instance_id, ContactFlowId=instance.inbound_flow,
        ParticipantDetails={"DisplayName": CUSTOMER})
    details = {key: started[key] for key in ("ContactId", "ParticipantId", "ParticipantToken")}
    chat = details["ContactId"]
    customer = await Customer.start(browser, watch, pages, server, chatjs, details)

    # The page auto-accepts; messages go both ways.
    contact1 = await agent1.wait_contact("connected", "the page to auto-accept the chat")
    assert contact1["id"] == chat and contact1["type"] == "chat", contact1
    await customer.call("send", {"text": "Hi, my order never arrived"})
    await sees(agent1, kind, f"{CUSTOMER}: Hi, my order never arrived")
    await send(agent1, kind, "Hello Jane, Agent1 here")
    await customer.wait_message("Hello Jane, Agent1 here")
    await sees(agent1, kind, "Agent1: Hello Jane, Agent1 here")

    # agent2 (the same page in its own context) goes Available; agent1 presses Quick Connect; agent2's page accepts.
    await agent2.set_state("Available")
    await agent1.page.locator(kind.quick_connect).click()
    contact2 = await agent2.wait_contact("connected", "the page to auto-accept the invitation", timeout=30)
    assert contact2["initial"] == chat and contact2["id"] != chat, contact2
    # agent2 sees what was said before it joined, then all three talk.
    await sees(agent2, kind, f"{CUSTOMER}: Hi, my order never arrived")
    await sees(agent2, kind, "Agent1: Hello Jane, Agent1 here")
    await send(agent2, kind, "Agent2 joining to help")
    await customer.wait_message("Agent2 joining to help")
    await sees(agent1, kind, "Agent2: Agent2 joining to help")
    await customer.call("send", {"text": "Thank you both"})
    for agent in (agent1, agent2):
        await sees(agent, kind, f"{CUSTOMER}: Thank you both")
    await send(agent1, kind, "Agent2 will take it from here")
    await customer.wait_message("Agent2 will take it from here")
    await sees(agent2, kind, "Agent1: Agent2 will take it from here")
    await agent1.page.screenshot(path=str(shots / f"{label}-agent1.png"))
    await agent2.page.screenshot(path=str(shots / f"{label}-agent2.png"))

    # agent1 leaves with connection.destroy(); the chat goes on for agent2 and the customer.
    if kind.leave:
        await agent1.page.locator(kind.leave).click()
    else:
        assert await agent1.page.evaluate(LEAVE_JS) == chat
    await agent1.wait_contact("ended", "after-contact work once agent1 left")
    await until(lambda: _left(customer, "Agent1"), "the customer to see Agent1 leave")
    await send(agent2, kind, "Still here for you")
    await customer.wait_message("Still here for you")

    facts["copies"] = await customer.copies()
    assert set(facts["copies"]) == {"Hello Jane, Agent1 here", "Agent2 joining to help",
                                    "Agent2 will take it from here", "Still here for you"}, facts["copies"]
    if kind.sends_once:
        assert set(facts["copies"].values()) == {1}, facts["copies"]

    # The customer disconnects: the chat ends for everyone; agent2 enters after-contact work.
    await customer.call("disconnect")
    await customer.wait_event("onEnded")
    await agent2.wait_contact("ended", "after-contact work once the customer left")
    for agent, contact in ((agent1, contact1), (agent2, contact2)):
        assert await badge(agent, contact["id"]) == "ended"
        await agent.close_contact(contact["id"])
    await agent2.page.screenshot(path=str(shots / f"{label}-agent2-closed.png"))
    if kind.logs:
        # The page's own StreamsJS/ChatJS callbacks: agent1 left and cleared; agent2's ChatJS session saw the
        # chat end (chat.ended), then its contact went through after-contact work to destroyed.
        one, two = await kinds(agent1), await kinds(agent2)
        assert {"left", "acw", "destroyed"} <= set(one), one
        assert {"chat-ended", "acw", "ended", "destroyed"} <= set(two), two
    for context in (agent1.context, agent2.context, customer.context):
        await context.close()
    watch.assert_clean()
    return facts


async def _left(customer: Customer, name: str) -> bool:
    return any(e["event"] == "onMessage" and (e["data"] or {}).get("ContentType") == EVENT + "participant.left"
               and e["data"].get("DisplayName") == name for e in await customer.events())

"""The supervisor's side of enhanced chat monitoring in unmodified StreamsJS (docs/monitoring.md), for each
StreamsJS/ChatJS pair: agent1 and the supervisor each run the example custom agent page; a ChatJS customer chats
with agent1; ``MonitorContact`` puts the supervisor on the chat silently; the supervisor's page reads the monitoring
connection through StreamsJS's own API (``getMonitorStatus``, ``getMonitorCapabilities``, ``isSilentMonitor``,
``getMonitorInfo``, ``isUnderSupervision``) and watches the chat through ``getMediaController()``; the customer sees
nothing; ``contact.updateMonitorParticipantState(BARGE)`` makes the supervisor a party the customer sees join,
agent1's page reports ``isUnderSupervision()``, the supervisor writes to the customer, leaves with
``connection.destroy()`` and closes its after-contact work in the CCP; no console error anywhere."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Server

from . import scenario
from .browser import AgentPage, Customer, Watch, sign_in, until
from .pages import PageServer
from .scenario import CUSTOMER, EVENT, EXAMPLE, sees, send

pytestmark = pytest.mark.e2e

# The monitoring contact as StreamsJS's API shows it in a page (``connect`` is the page's global).
MONITOR_JS = """() => {
  try {
    const contact = new connect.Agent().getContacts(connect.ContactType.CHAT)[0];
    if (!contact) { return null; }
    const mine = contact.getAgentConnection();
    const info = mine.getMonitorInfo();
    return {
      id: contact.getContactId(), initial: contact.getInitialContactId(), method: contact.getInitiationMethod(),
      underSupervision: contact.isUnderSupervision(), type: mine.getType(), state: mine.getStatus().type,
      connected: mine.isConnected(), active: mine.isActive(), status: mine.getMonitorStatus(),
      capabilities: mine.getMonitorCapabilities(), silent: mine.isSilentMonitor(), barge: mine.isBarge(),
      bargeEnabled: mine.isBargeEnabled(), silentEnabled: mine.isSilentMonitorEnabled(),
      monitoredAgent: info && info.agent ? info.agent.agentName : null,
      others: contact.getConnections().filter((c) => c.getConnectionId() !== mine.getConnectionId())
        .map((c) => ({ type: c.getType(), state: c.getStatus().type, barge: c.isBarge(),
                       name: c.getParticipantName() })),
    };
  } catch (e) { return { error: String(e) }; }
}"""
SUPERVISION_JS = """() => {
  try {
    const contact = new connect.Agent().getContacts(connect.ContactType.CHAT)[0];
    return contact ? contact.isUnderSupervision() : null;
  } catch (e) { return { error: String(e) }; }
}"""
# contact.updateMonitorParticipantState(mode), resolving to what its callbacks received.
SWITCH_JS = """(mode) => new Promise((resolve) => {
  const contact = new connect.Agent().getContacts(connect.ContactType.CHAT)[0];
  contact.updateMonitorParticipantState(mode, {
    success: () => resolve({ ok: true }),
    failure: (reason) => resolve({ ok: false, reason: String(reason) }),
  });
})"""


async def monitoring(agent: AgentPage) -> dict[str, Any]:
    found = await agent.page.evaluate(MONITOR_JS)
    assert isinstance(found, dict) and "error" not in found, found
    return found


async def customer_saw(customer: Customer, match: Any) -> list[dict[str, Any]]:
    return [e["data"] for e in await customer.events() if e["event"] == "onMessage" and match(e["data"] or {})]


async def test_supervisor_watches_silently_then_barges_in(browser: Any, pages: PageServer, parley: Server,
                                                          watch: Watch, shots: Path,
                                                          versions: tuple[str, str]) -> None:
    streams, chatjs = versions
    url = f"{pages.origin}/example/index.html?" + urlencode({"parley": parley.url, "streams": streams,
                                                              "chatjs": chatjs})
    # The supervisor stays Offline: no chat is routed to it; monitoring does not need it to be Available.
    agent1, supervisor = await asyncio.gather(sign_in(browser, watch, url, "agent1", "#ccp"),
                                              sign_in(browser, watch, url, "supervisor", "#ccp", available=False))
    connect = parley.connect()
    demo = scenario.demo(parley)
    started = connect.start_chat_contact(InstanceId=demo.instance_id, ContactFlowId=demo.inbound_flow,
                                         ParticipantDetails={"DisplayName": CUSTOMER})
    chat = started["ContactId"]
    customer = await Customer.start(browser, watch, pages, parley, chatjs,
                                    {k: started[k] for k in ("ContactId", "ParticipantId", "ParticipantToken")})
    await agent1.wait_contact("connected", "the page to auto-accept the chat")
    await customer.call("send", {"text": "Hi, my order never arrived"})
    await send(agent1, EXAMPLE, "Hello Jane, Agent1 here")
    await customer.wait_message("Hello Jane, Agent1 here")

    users = connect.list_users(InstanceId=demo.instance_id)["UserSummaryList"]
    supervisor_id = next(u["Id"] for u in users if u["Username"] == "supervisor")
    monitored = connect.monitor_contact(InstanceId=demo.instance_id, ContactId=chat, UserId=supervisor_id,
                                        AllowedMonitorCapabilities=["SILENT_MONITOR", "BARGE"])
    mon = monitored["ContactId"]

    # The monitoring contact reaches the supervisor's page as StreamsJS expects.
    await supervisor.wait_contact("connected", "the monitoring contact")
    silent = await monitoring(supervisor)
    assert (silent["id"], silent["initial"], silent["method"]) == (mon, chat, "monitor"), silent
    assert (silent["type"], silent["state"], silent["connected"], silent["active"]) == (
        "agent", "silent_monitor", True, True), silent
    assert (silent["status"], silent["silent"], silent["barge"]) == ("SILENT_MONITOR", True, False), silent
    assert silent["capabilities"] == ["SILENT_MONITOR", "BARGE"], silent
    assert (silent["bargeEnabled"], silent["silentEnabled"]) == (True, True), silent
    assert silent["monitoredAgent"] == "Agent1" and silent["underSupervision"] is False, silent
    assert sorted((o["type"], o["state"], o["name"]) for o in silent["others"]) == [
        ("inbound", "connected", CUSTOMER), ("outbound", "connected", "Agent1")], silent
    # Its page watches through the media controller (ChatJS): the earlier transcript, then what is said now.
    await sees(supervisor, EXAMPLE, f"{CUSTOMER}: Hi, my order never arrived")
    await sees(supervisor, EXAMPLE, "Agent1: Hello Jane, Agent1 here")
    await customer.call("send", {"text": "Is anyone there?"})
    await sees(supervisor, EXAMPLE, f"{CUSTOMER}: Is anyone there?")
    await send(agent1, EXAMPLE, "Yes, looking into it")
    await sees(supervisor, EXAMPLE, "Agent1: Yes, looking into it")
    # Nobody else notices: nothing reached the customer, agent1 is not under supervision.
    await customer.wait_message("Yes, looking into it")
    assert await customer_saw(customer, lambda d: d.get("ParticipantRole") == "SUPERVISOR") == []
    assert await agent1.page.evaluate(SUPERVISION_JS) is False
    await supervisor.page.screenshot(path=str(shots / f"monitor-{streams}-silent.png"))

    # Barge in through StreamsJS: the customer sees the supervisor join, agent1 is under supervision.
    assert await supervisor.page.evaluate(SWITCH_JS, "BARGE") == {"ok": True}
    barged = await until(lambda: _status(supervisor, "BARGE"), "the supervisor's page to show the barge",
                         diagnostics=supervisor.diagnostics)
    assert (barged["state"], barged["barge"], barged["silent"]) == ("barge", True, False), barged
    joined = await until(lambda: customer_saw(customer, lambda d: d.get("ContentType") == EVENT + "participant.joined"
                                              and d.get("ParticipantRole") == "SUPERVISOR"),
                         "the customer to see the supervisor join")
    assert [j["DisplayName"] for j in joined] == ["Supervisor"], joined
    await until(lambda: agent1.page.evaluate(SUPERVISION_JS), "agent1's contact.isUnderSupervision()",
                diagnostics=agent1.diagnostics)
    await send(supervisor, EXAMPLE, "Supervisor here, I will sort this out")
    said = await customer.wait_message("Supervisor here, I will sort this out")
    assert (said["DisplayName"], said["ParticipantRole"]) == ("Supervisor", "SUPERVISOR"), said
    await sees(agent1, EXAMPLE, "Supervisor: Supervisor here, I will sort this out")
    await supervisor.page.screenshot(path=str(shots / f"monitor-{streams}-barged.png"))

    # The supervisor leaves (connection.destroy() from its page) and closes the after-contact work in the CCP.
    await supervisor.page.locator(EXAMPLE.leave or "#leave").click()
    await supervisor.wait_contact("ended", "after-contact work once the supervisor left")
    await until(lambda: customer_saw(customer, lambda d: d.get("ContentType") == EVENT + "participant.left"
                                     and d.get("DisplayName") == "Supervisor"), "the customer to see it leave")
    await until(lambda: _not(agent1.page.evaluate(SUPERVISION_JS)), "agent1 no longer under supervision")
    await supervisor.close_contact(mon)
    await send(agent1, EXAMPLE, "Anything else?")
    await customer.wait_message("Anything else?")
    for context in (agent1.context, supervisor.context, customer.context):
        await context.close()
    watch.assert_clean()


async def _status(agent: AgentPage, status: str) -> dict[str, Any] | None:
    found = await monitoring(agent)
    return found if found.get("status") == status else None


async def _not(value: Any) -> bool:
    return (await value) is False

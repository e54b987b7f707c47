"""``contact.addParticipant`` for a 7th participant calls its ``failure`` callback with a clear reason: agent1
(the example page, StreamsJS) has the customer's chat, invites agent2..agent5 with ``contact.addParticipant``
from the page, and they accept through the CTI API directly (tests/agents/cti.py, as their CCPs would); then the
page's Quick Connect button invites the BasicQueue quick connect as the 7th party."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.agents.cti import Agent
from tests.aws.chat_helpers import participant_client
from tests.conftest import Server

from . import scenario
from .browser import Allowed, Watch, sign_in, until
from .pages import PageServer

pytestmark = pytest.mark.e2e

SEVENTH = "Transfer-to-BasicQueue"
LIMIT_MESSAGE = ("This chat already has 6 of its 6 participants (counting pending invitations); nobody else can be "
                 "added until someone leaves.")
# contact.addParticipant(endpoint by name) in the agent page, resolving to what its callbacks received.
ADD_JS = """(name) => new Promise((resolve) => {
  const agent = new connect.Agent();
  const contact = agent.getContacts(connect.ContactType.CHAT)[0];
  agent.getEndpoints(agent.getAllQueueARNs(), {
    success: (data) => {
      const endpoint = data.endpoints.find((e) => e.name === name);
      contact.addParticipant(endpoint, {
        success: () => resolve({ ok: true }),
        failure: (reason) => resolve({ ok: false, reason: String(reason) }),
      });
    },
    failure: (err) => resolve({ ok: false, reason: "getEndpoints: " + err }),
  });
})"""


async def test_seventh_participant_is_refused(browser: Any, pages: PageServer, parley: Server, watch: Watch,
                                              shots: Path) -> None:
    # StreamsJS itself logs the refused call at ERROR before it calls failure() — the refusal under test (it
    # reaches the console only some of the time, depending on which tab's logger writes it).
    watch.allowed.append(Allowed("'addNewConnection' API request failed", "",
                                 "StreamsJS logs the refused AddNewConnection before calling failure()"))
    query = urlencode({"parley": parley.url, "qc": SEVENTH})
    agent1 = await sign_in(browser, watch, f"{pages.origin}/example/index.html?{query}", "agent1", "#ccp")
    demo = scenario.demo(parley)
    started = parley.connect().start_chat_contact(
        InstanceId=demo.instance_id, ContactFlowId=demo.inbound_flow,
        ParticipantDetails={"DisplayName": scenario.CUSTOMER})
    chat = started["ContactId"]
    await agent1.wait_contact("connected", "the page to auto-accept the chat")

    participants = participant_client(parley.url)
    others = [await Agent.sign_in(parley.url, f"agent{n}", participants) for n in range(2, 6)]
    try:
        for n, other in enumerate(others, start=2):
            added = await agent1.page.evaluate(ADD_JS, f"Transfer-to-agent-{n}")
            assert added == {"ok": True}, added
            await other.available()
            offer = await other.wait_offer(chat)
            await other.accept(offer["contactId"])

        async def six_connected() -> bool:
            contacts = await agent1.contacts()
            return bool(contacts) and [c["state"] for c in contacts[0]["connections"]] == ["connected"] * 6
        await until(six_connected, "agent1 to see six connected parties", diagnostics=agent1.diagnostics)

        # The 7th: the page's own Quick Connect button, whose failure callback the page records and shows.
        await agent1.page.locator("#add").click()
        reason = await until(lambda: agent1.page.evaluate(
            "() => (window.parleyLog.find((e) => e.kind === 'add-failed') || {}).detail"),
            "the failure callback of the 7th addParticipant", diagnostics=agent1.diagnostics)
        # StreamsJS hands failure() the CTI error as a JSON string: {type, message, statusCode, ...}.
        error = json.loads(reason)
        assert error["type"] == "LimitExceededException" and error["statusCode"] == 400, error
        assert error["message"] == LIMIT_MESSAGE, error
        assert await agent1.page.locator("#notice").text_content() == f"Could not add: {LIMIT_MESSAGE}"
        await agent1.page.screenshot(path=str(shots / "seventh-refused.png"))

        # Called directly, the failure callback gets the same reason; nothing changed for anyone.
        direct = await agent1.page.evaluate(ADD_JS, SEVENTH)
        assert direct["ok"] is False and json.loads(direct["reason"])["message"] == LIMIT_MESSAGE, direct
        for other in others:
            contact = (await other.contacts())[0]
            assert contact["state"]["type"] == "connected" and len(contact["connections"]) == 6, contact
        contact = (await agent1.contacts())[0]
        assert [c["state"] for c in contact["connections"]] == ["connected"] * 6, contact
    finally:
        for other in others:
            await other.close()
    await agent1.context.close()
    watch.assert_clean()

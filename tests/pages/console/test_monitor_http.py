"""The live view's "Monitor" over HTTP (docs/monitoring.md, issue 22): offered on an active chat to a user with
ManagerListenIn while the instance's switch is on; a CSRF-checked post starts monitoring as the signed-in user and
opens the workspace; refusals are shown on the live view in the service's words. With the instance's checkbox off
(UpdateInstanceAttribute ENHANCED_CHAT_MONITORING false) the button is disabled with the reason, a post is refused,
and so is boto3's MonitorContact; the supervisor's monitoring contact is no chat or slot of the live view's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.client import customer
from tests.agents.cti import Agent
from tests.aws.chat_helpers import participant_client
from tests.conftest import Server

from .support import csrf_of, demo_instance, sign_in, text_of

pytestmark = pytest.mark.e2e
OFF = "Enhanced chat monitoring is not enabled on this instance"


def switch(connect: Any, iid: str, on: bool) -> None:
    connect.update_instance_attribute(InstanceId=iid, AttributeType="ENHANCED_CHAT_MONITORING",
                                      Value="true" if on else "false")


async def test_monitor_from_the_live_view_and_refused_when_switched_off(parley: Server) -> None:
    connect = parley.connect()
    iid = demo_instance(connect)
    sup_id = next(u["Id"] for u in connect.list_users(InstanceId=iid)["UserSummaryList"]
                  if u["Username"] == "supervisor")
    agent1 = await Agent.sign_in(parley.url, "agent1", participant_client(parley.url))
    supervisor = sign_in(parley.url, "supervisor", "/admin/live")
    try:
        async with await customer(parley.url, "Mo Nitor") as mo:
            await agent1.available()
            offer = await agent1.wait_offer(mo.contact_id)
            await agent1.accept(offer["contactId"])

            page = supervisor.get("/admin/live")
            assert page.status_code == 200
            assert 'aria-label="Monitor the chat with Mo Nitor"' in page.text
            assert f'name="contact" value="{mo.contact_id}"' in page.text
            token = csrf_of(page)

            # No CSRF token: refused, nothing started.
            assert supervisor.post("/admin/live/monitor", data={"contact": mo.contact_id}).status_code == 403
            bad = supervisor.post("/admin/live/monitor", data={"csrf": token, "contact": "<x>"})
            assert bad.status_code == 400 and "Choose a chat to monitor" in text_of(bad)

            # The checkbox off: the button says why, a post and MonitorContact are refused.
            switch(connect, iid, False)
            try:
                page = supervisor.get("/admin/live")
                assert "Monitoring is off: turn on “Enable Multi-Party Chats and Enhanced Monitoring for Chat”" \
                    in text_of(page)
                assert re.search(r'<button type="button"[^>]*disabled aria-describedby="monitor-off">Monitor',
                                 page.text)
                assert 'action="/admin/live/monitor"' not in page.text
                refused = supervisor.post("/admin/live/monitor", data={"csrf": token, "contact": mo.contact_id,
                                                                      "customer": "Mo Nitor"})
                assert refused.status_code == 400
                assert f"Could not monitor Mo Nitor: {OFF}" in text_of(refused)
                with pytest.raises(ClientError) as err:
                    connect.monitor_contact(InstanceId=iid, ContactId=mo.contact_id, UserId=sup_id,
                                            AllowedMonitorCapabilities=["SILENT_MONITOR", "BARGE"])
                assert err.value.response["Error"]["Code"] == "InvalidRequestException"
                assert OFF in err.value.response["Error"]["Message"]
            finally:
                switch(connect, iid, True)

            # On again: monitoring starts and the browser is sent to the workspace.
            started = supervisor.post("/admin/live/monitor", data={"csrf": token, "contact": mo.contact_id,
                                                                  "customer": "Mo Nitor"})
            assert started.status_code == 303 and started.headers["location"] == "/agent"
            # A second time: refused inline with the service's sentence.
            again = supervisor.post("/admin/live/monitor", data={"csrf": token, "contact": mo.contact_id,
                                                                "customer": "Mo Nitor"})
            assert again.status_code == 400
            assert "Could not monitor Mo Nitor: Supervisor is already in this chat." in text_of(again)
            # The monitoring contact is not one of the supervisor's chats or slots in the figures: the supervisor,
            # Offline, holds no contact there, so neither the live view's agents nor GetCurrentUserData list it.
            live = supervisor.get("/admin/live").text
            assert 'data-agent="agent1"' in live and 'data-agent="supervisor"' not in live
            assert connect.get_current_user_data(InstanceId=iid, Filters={"Agents": [sup_id]})["UserDataList"] == []
    finally:
        supervisor.close()
        await agent1.close()

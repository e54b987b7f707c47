"""Helpers of the monitoring suites: a supervisor signed in like the scripted agents, MonitorContact through boto3,
UpdateMonitorParticipantState exactly as StreamsJS sends it, and what a supervisor's snapshot shows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.agents.cti import TARGET, Agent, ContactView, Member, World

BOTH = ("SILENT_MONITOR", "BARGE")
SUPERVISOR = "SUPERVISOR"


def user_id(world: World, username: str) -> str:
    users = world.connect.list_users(InstanceId=world.instance_id)["UserSummaryList"]
    return str(next(u["Id"] for u in users if u["Username"] == username))


def monitor(world: World, contact_id: str, username: str = "supervisor", capabilities: Sequence[str] = BOTH,
            **extra: Any) -> dict[str, Any]:
    """Connect's MonitorContact through boto3."""
    return dict(world.connect.monitor_contact(InstanceId=world.instance_id, ContactId=contact_id,
                                              UserId=user_id(world, username),
                                              AllowedMonitorCapabilities=list(capabilities), **extra))


def refused(call: Any, code: str, status: int, *fragments: str) -> str:
    """Run a boto3 call that must fail with ``code`` and ``status``; every fragment is in its message."""
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    message = str(response["Error"]["Message"])
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


async def switch(agent: Agent, contact_id: str, mode: str) -> tuple[int, dict[str, Any]]:
    """``contact.updateMonitorParticipantState(mode)``: StreamsJS sends it without ``authentication`` in the body
    (client.js), with the access token in X-Amz-Bearer only."""
    response = await agent.http.post("/api", content=json.dumps({"contactId": contact_id, "targetMonitorMode": mode}),
                                     headers={"X-Amz-Target": TARGET + "UpdateMonitorParticipantState",
                                              "Content-Type": "application/x-amz-json-1.0",
                                              "X-Amz-Bearer": agent.token})
    agent.bodies.append(response.text)
    return response.status_code, response.json()


async def barge(agent: Agent, contact_id: str) -> None:
    status, body = await switch(agent, contact_id, "BARGE")
    assert (status, body) == (200, {}), (status, body)


def own(contact: ContactView) -> dict[str, Any]:
    """The viewer's own connection (StreamsJS's getAgentConnection())."""
    return dict(next(c for c in contact["connections"] if c["type"] == "agent"))


def by_id(contact: ContactView, connection_id: str) -> dict[str, Any] | None:
    return next((c for c in contact["connections"] if c["connectionId"] == connection_id), None)


def trace_of(items: list[dict[str, Any]], participant_id: str) -> list[dict[str, Any]]:
    """Every item that shows a supervisor: by its participant id, or by the SUPERVISOR role."""
    return [i for i in items if i.get("ParticipantId") == participant_id or i.get("ParticipantRole") == SUPERVISOR]


async def watching(world: World, supervisor: Agent, chat: str, **extra: Any) -> tuple[str, Member]:
    """The supervisor starts monitoring ``chat`` silently and joins it on the Participant Service."""
    started = monitor(world, chat, **extra)
    await supervisor.wait_contact(lambda c: c["contactId"] == started["ContactId"], "the monitoring contact")
    member = await supervisor.join(started["ContactId"])
    world.members.append(member)
    return str(started["ContactId"]), member

"""Two Parley nodes sharing PostgreSQL and a Redis bus act as one: a socket on one node gets what the other
node committed, and an agent signed in on one node gets a chat started on the other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import websockets

from conftest import REGION, Server, serving
from tests.fanout.test_bus_contract import REDIS_URL, ensure_redis


@pytest.fixture()
def nodes(pg_url: str) -> Iterator[tuple[Server, Server]]:
    ensure_redis()
    args = ["--storage", pg_url, "--bus", REDIS_URL]
    with serving(["--demo", *args]) as first, serving([*args, "--access-key", "test:test"]) as second:
        yield first, second


def participant_client(url: str) -> Any:
    return boto3.client("connectparticipant", endpoint_url=url, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x")


def test_a_message_sent_through_one_node_reaches_a_socket_on_the_other(nodes: tuple[Server, Server]) -> None:
    first, second = nodes
    connect = first.connect()
    iid = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flow = next(f["Id"] for f in connect.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
                if f["Name"] == "Sample inbound flow")
    chat = connect.start_chat_contact(InstanceId=iid, ContactFlowId=flow, ParticipantDetails={"DisplayName": "Ann"})
    url = participant_client(first.url).create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["WEBSOCKET"])["Websocket"]["Url"]
    bot = second.connect().create_participant(
        InstanceId=iid, ContactId=chat["ContactId"],
        ParticipantDetails={"ParticipantRole": "CUSTOM_BOT", "DisplayName": "Bot"})
    on_second = participant_client(second.url)
    token = on_second.create_participant_connection(
        ParticipantToken=bot["ParticipantCredentials"]["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"],
    )["ConnectionCredentials"]["ConnectionToken"]

    async def exchange() -> list[str]:
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}))
            assert json.loads(await ws.recv())["content"]["status"] == "success"
            sent = [on_second.send_message(ConnectionToken=token, ContentType="text/plain", Content=f"hi {n}")["Id"]
                    for n in range(5)]
            seen: list[str] = []
            while len(seen) < len(sent):
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame.get("topic") == "aws/chat":
                    item = json.loads(frame["content"])
                    if item["Type"] == "MESSAGE":
                        seen.append(item["Id"])
            assert seen == sent
            return seen

    assert len(asyncio.run(exchange())) == 5

"""Restarting ``parley serve --demo`` on the same storage keeps everything and does not recreate the demo.

Runs twice: with the default SQLite database in the data dir, and with ``--storage postgresql://…`` on a
fresh database of the PostgreSQL server on 127.0.0.1:5432 (started when it is down, never skipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import Server, connect_client, start_server
from tests.aws.chat_helpers import Chat, new_chat, participant_client
from tests.test_crash import Demo, messages


def demo_instances(client: Any) -> list[dict[str, Any]]:
    summaries = client.list_instances(MaxResults=10)["InstanceSummaryList"]
    return [i for i in summaries if i["InstanceAlias"] == "demo"]


def snapshot(client: Any, instance_id: str) -> dict[str, Any]:
    """What a restart must keep: every instance, user, quick connect, origin and attribute."""
    users = client.list_users(InstanceId=instance_id, MaxResults=1000)["UserSummaryList"]
    qcs = client.list_quick_connects(InstanceId=instance_id, MaxResults=1000)["QuickConnectSummaryList"]
    return {
        "instances": sorted((i["Id"], i["InstanceAlias"]) for i in client.list_instances()["InstanceSummaryList"]),
        "users": sorted((u["Id"], u["Username"]) for u in users),
        "quick_connects": sorted((q["Id"], q["Name"], q["QuickConnectType"]) for q in qcs),
        "origins": sorted(client.list_approved_origins(InstanceId=instance_id)["Origins"]),
        "multi_party": client.describe_instance_attribute(
            InstanceId=instance_id, AttributeType="MULTI_PARTY_CHAT_CONFERENCE"
        )["Attribute"]["Value"],
    }


def chat_before_restart(server: Server, instance_id: str) -> tuple[Chat, list[dict[str, Any]]]:
    """A chat in progress: customer and bot talking; returns it with its whole transcript (messages and events)."""
    client = connect_client(server.url)
    flows = client.list_contact_flows(InstanceId=instance_id)["ContactFlowSummaryList"]
    demo = Demo(instance_id, next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow"))
    chat = new_chat(client, participant_client(server.url), demo)
    assert chat.bot is not None
    for n in range(5):
        chat.customer.send(f"customer {n}")
        chat.bot.send(f"bot {n}")
    return chat, chat.customer.items()


def chat_after_restart(server: Server, chat: Chat, transcript: list[dict[str, Any]]) -> None:
    """The transcript is the same item for item, the tokens still work and the chat goes on, pushes included."""
    assert chat.bot is not None
    for party in (chat.customer, chat.bot):
        party.client = participant_client(server.url)
    assert chat.customer.items() == transcript
    assert chat.bot.items() == transcript
    watching = chat.customer.socket()
    try:
        reply = chat.bot.send("after the restart")
        pushed = watching.wait_item(lambda i: i.get("Id") == reply["Id"])
        assert pushed["Content"] == "after the restart"
    finally:
        watching.close()
    said = chat.customer.send("me too")
    assert [i["Id"] for i in messages(chat.bot)[-2:]] == [reply["Id"], said["Id"]]


def restart_and_check(args: list[str], data_dir: Path) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = start_server(args, data_dir)
    try:
        client = connect_client(server.url)
        (demo,) = demo_instances(client)
        iid = demo["Id"]
        profiles = client.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]
        agent_profile = next(p["Id"] for p in profiles if p["Name"] == "Agent")
        routing = client.list_routing_profiles(InstanceId=iid)["RoutingProfileSummaryList"][0]["Id"]
        flows = client.list_contact_flows(InstanceId=iid, ContactFlowTypes=["AGENT_TRANSFER"])
        flow = flows["ContactFlowSummaryList"][0]["Id"]

        user_id = client.create_user(
            InstanceId=iid, Username="restart.user", Password="Parley-test-1",
            IdentityInfo={"FirstName": "Rosa", "LastName": "Restart"},
            PhoneConfig={"PhoneType": "SOFT_PHONE"}, SecurityProfileIds=[agent_profile], RoutingProfileId=routing,
        )["UserId"]
        qc_id = client.create_quick_connect(
            InstanceId=iid, Name="Transfer-to-Rosa", Description="survives restarts",
            QuickConnectConfig={"QuickConnectType": "USER", "UserConfig": {"UserId": user_id, "ContactFlowId": flow}},
        )["QuickConnectId"]
        client.associate_approved_origin(InstanceId=iid, Origin="https://restart.example")
        client.update_instance_attribute(InstanceId=iid, AttributeType="MULTI_PARTY_CHAT_CONFERENCE", Value="false")
        before = snapshot(client, iid)
        chat, transcript = chat_before_restart(server, iid)
        assert (user_id, "restart.user") in before["users"]
    finally:
        server.stop()

    server = start_server(args, data_dir)
    try:
        client = connect_client(server.url)
        (again,) = demo_instances(client)  # the demo instance was found, not created a second time
        assert again["Id"] == iid
        assert snapshot(client, iid) == before
        user = client.describe_user(InstanceId=iid, UserId=user_id)["User"]
        assert user["Username"] == "restart.user"
        assert user["IdentityInfo"]["FirstName"] == "Rosa"
        assert user["SecurityProfileIds"] == [agent_profile]
        qc = client.describe_quick_connect(InstanceId=iid, QuickConnectId=qc_id)["QuickConnect"]
        assert qc["Name"] == "Transfer-to-Rosa"
        assert qc["Description"] == "survives restarts"
        assert qc["QuickConnectConfig"]["UserConfig"] == {"UserId": user_id, "ContactFlowId": flow}
        chat_after_restart(server, chat, transcript)
        return server
    except BaseException:
        server.stop()
        raise


def test_restart_keeps_data_sqlite(tmp_path: Path) -> None:
    server = restart_and_check(["--demo"], tmp_path / "data")
    try:
        assert (tmp_path / "data" / "parley.db").exists()
    finally:
        server.stop()


@pytest.mark.postgres
def test_restart_keeps_data_postgresql(tmp_path: Path, pg_url: str) -> None:
    server = restart_and_check(["--demo", "--storage", pg_url], tmp_path / "data")
    try:
        assert not (tmp_path / "data" / "parley.db").exists()  # everything went to PostgreSQL
    finally:
        server.stop()

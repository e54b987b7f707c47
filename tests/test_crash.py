"""A crash mid-chat: ``kill -9`` of ``parley serve`` while a customer and a bot send messages as fast as they can,
on SQLite (the data dir's database) and on PostgreSQL. After a restart on the same storage every message the
server acknowledged is in the transcript once, with the Id it was acknowledged with, each sender's in the order
sent; a retry of the message in flight at the crash (same ClientToken) never duplicates it; and the chat goes on:
the same connection tokens work, new websockets get pushes, both sides keep talking.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.aws.chat_helpers import Chat, Party, new_chat, participant_client
from tests.conftest import Server, start_server

# Acknowledged messages (both senders together) before the kill: enough that the crash hits a busy server.
BEFORE_KILL = 150
# How long the test waits for the senders to get that far, and for anything after the restart.
WAIT = 60.0


@dataclass
class Sender:
    """Sends numbered messages with a ClientToken each, recording what the server acknowledged."""

    party: Party
    name: str
    acked: list[tuple[str, str, str]] = field(default_factory=list)  # (content, client token, item id)
    in_flight: tuple[str, str] | None = None  # (content, client token) of the send the crash interrupted
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            content, token = f"{self.name} {n}", str(uuid.uuid4())
            self.in_flight = (content, token)
            try:
                sent = self.party.client.send_message(ConnectionToken=self.party.connection_token,
                                                      ContentType="text/plain", Content=content, ClientToken=token)
            except (BotoCoreError, ClientError, OSError):
                return  # the server is gone; ``in_flight`` may or may not have been stored
            self.acked.append((content, token, str(sent["Id"])))
            self.in_flight = None
            n += 1


@dataclass(frozen=True)
class Demo:
    """What ``new_chat`` needs of the demo instance."""

    instance_id: str
    inbound_flow: str


def demo_chat(server: Server) -> Chat:
    """A chat on the demo instance with its customer and a CUSTOM_BOT connected."""
    connect = server.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    flows = connect.list_contact_flows(InstanceId=instance)["ContactFlowSummaryList"]
    demo = Demo(instance, next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow"))
    return new_chat(connect, participant_client(server.url), demo)


def kill_hard(server: Server) -> None:
    assert server.process is not None and server.process.poll() is None, "the server died before the kill"
    server.process.kill()  # SIGKILL: no shutdown code runs
    server.process.wait(timeout=WAIT)
    server.process = None


def messages(party: Party) -> list[dict[str, Any]]:
    return [i for i in party.items() if i["Type"] == "MESSAGE"]


def crash_mid_chat(server: Server) -> None:
    chat = demo_chat(server)
    assert chat.bot is not None
    before = chat.customer.send("before the senders start")
    senders = [Sender(chat.customer, "customer"), Sender(chat.bot, "bot")]
    threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT
    while sum(len(s.acked) for s in senders) < BEFORE_KILL:
        assert time.monotonic() < deadline, f"only {[len(s.acked) for s in senders]} messages acknowledged"
        assert all(t.is_alive() for t in threads), f"a sender stopped early:\n{server.log()[-3000:]}"
        time.sleep(0.01)
    kill_hard(server)
    for sender in senders:
        sender.stop.set()
    for thread in threads:
        thread.join(timeout=WAIT)
        assert not thread.is_alive()

    server.start()  # same port, data dir and --storage
    items = messages(chat.customer)
    by_content: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_content.setdefault(item["Content"], []).append(item)
    duplicated = {content: len(found) for content, found in by_content.items() if len(found) > 1}
    assert not duplicated, f"messages stored more than once: {duplicated}"
    assert items[0]["Id"] == before["Id"]
    for sender in senders:
        stored = [i for i in items if i["Content"].startswith(f"{sender.name} ")]
        acked_ids = [item_id for _content, _token, item_id in sender.acked]
        # Every acknowledged message, in the order sent; at most the one in flight after them.
        assert [i["Id"] for i in stored[:len(acked_ids)]] == acked_ids, f"{sender.name}: lost or reordered"
        extra = [i["Content"] for i in stored[len(acked_ids):]]
        assert extra in ([], [sender.in_flight[0]] if sender.in_flight else []), f"{sender.name}: unknown {extra}"
        # A retry of the interrupted send with its ClientToken is stored once, whatever the crash did.
        if sender.in_flight is not None:
            content, token = sender.in_flight
            retried = sender.party.client.send_message(ConnectionToken=sender.party.connection_token,
                                                       ContentType="text/plain", Content=content, ClientToken=token)
            if extra:
                assert retried["Id"] == stored[-1]["Id"], "the retry was stored a second time"
    after = [i["Content"] for i in messages(chat.customer)]
    assert len(set(after)) == len(after), "a retry duplicated a message"
    for sender in senders:
        if sender.in_flight is not None:
            assert after.count(sender.in_flight[0]) == 1

    # The chat goes on: same tokens, pushes on a new socket, both directions.
    watching = chat.bot.socket()
    try:
        said = chat.customer.send("after the crash")
        pushed = watching.wait_item(lambda i: i.get("Id") == said["Id"], timeout=WAIT)
        assert pushed["Content"] == "after the crash"
    finally:
        watching.close()
    reply = chat.bot.send("the bot is still here")
    final = messages(chat.customer)
    assert [i["Id"] for i in final[-2:]] == [said["Id"], reply["Id"]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_kill_mid_chat_sqlite(data_dir: Path) -> None:
    server = start_server(["--demo"], data_dir)
    try:
        crash_mid_chat(server)
        assert (data_dir / "parley.db").exists()
    finally:
        server.stop()


@pytest.mark.postgres
def test_kill_mid_chat_postgresql(data_dir: Path, pg_url: str) -> None:
    server = start_server(["--demo", "--storage", pg_url], data_dir)
    try:
        crash_mid_chat(server)
        assert not (data_dir / "parley.db").exists()
    finally:
        server.stop()

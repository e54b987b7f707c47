"""The agent websocket (CTI ``CreateTransport`` web_socket) under the same inbound limits as the participant
socket: a binary frame is answered like the participant socket answers it (no silent drop, no traceback), a
33 KB frame closes 1009, a flood closes 1008, and an agent socket that never subscribes stays open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agents.cti import Agent
from tests.aws.chat_helpers import participant_client
from tests.conftest import Server, run, serving
from tests.web.test_ws_limits import HEARTBEAT, KB, SUBSCRIBE_TIMEOUT, Raw, answered, no_traceback

# The URL prefix Parley hands StreamsJS over plain http (its CCP worker dials it as ws:// on its own host).
INSECURE_MARKER = "wss://parley-insecure.invalid/"


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    with serving(["--demo", "--websocket-subscribe-timeout", str(SUBSCRIBE_TIMEOUT)]) as srv:
        yield srv


def agent_socket_url(server: Server, username: str = "agent1") -> str:
    """Sign ``username`` in and ask CTI CreateTransport for the agent websocket, as StreamsJS's worker does."""

    async def ask() -> str:
        agent = await Agent.sign_in(server.url, username, participant_client(server.url))
        try:
            transport = await agent.call("CreateTransport", transportType="web_socket")
        finally:
            await agent.close()
        return str(transport["webSocketTransport"]["url"])

    url = run(ask())
    return url.replace(INSECURE_MARKER, f"ws://127.0.0.1:{server.port}/")


def test_a_binary_frame_is_answered_and_the_socket_lives_on(limited: Server) -> None:
    sock = Raw(agent_socket_url(limited))
    try:
        sock.proto.send_binary(bytes([0x00, 0xFF, 0xFE]))
        sock.proto.send_binary(HEARTBEAT.encode())
        sock.flush()
        sock.wait_frame(lambda f: "message" in f)
        answered(sock, 1)
        assert sock.is_open(SUBSCRIBE_TIMEOUT + 0.5)  # no subscribe timeout on the agent socket
        sock.send('{"topic":"aws/subscribe","content":"aws/chat"}')  # content of the wrong type
        sock.wait_frame(lambda f: f.get("topic") == "aws/subscribe")
        assert sock.is_open()
    finally:
        sock.close()
    no_traceback(limited)


def test_a_33_kb_frame_closes_1009(limited: Server) -> None:
    sock = Raw(agent_socket_url(limited))
    try:
        sock.send(HEARTBEAT[:-1] + ',"pad":"' + "x" * (33 * KB) + '"}')
        assert sock.close_code() == 1009
    finally:
        sock.close()
    no_traceback(limited)


def test_a_flood_closes_1008(limited: Server) -> None:
    sock = Raw(agent_socket_url(limited))
    try:
        for _ in range(200):
            sock.proto.send_text(HEARTBEAT.encode())
        sock.flush()
        assert sock.close_code() == 1008
    finally:
        sock.close()
    no_traceback(limited)

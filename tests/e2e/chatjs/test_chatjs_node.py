"""Real ChatJS (npm dist bundle, unmodified) in Node.js with ``ws``: a customer session against Parley, with a
CUSTOM_BOT on the other side driven through boto3."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Server

from . import scenarios
from .harness import SOCKET_LIFETIME, Chat, start_chat
from .runtimes import NodeCustomer

pytestmark = pytest.mark.e2e

StartCustomer = Callable[[Chat], NodeCustomer]


def test_messages_typing_and_transcript(server: Server, node_customer: StartCustomer) -> None:
    """onMessage gets the bot's message, onTyping its typing; the customer's message reaches the bot's
    GetTranscript; ChatJS getTranscript returns what was said before the customer connected."""
    chat = start_chat(server)
    earlier = chat.bot_says("welcome, said before the customer connected")
    scenarios.converse(chat, node_customer(chat), earlier)


def test_reconnects_after_server_close_and_loses_nothing(lifetime_server: Server,
                                                         node_customer: StartCustomer) -> None:
    """Parley closes each socket after 3 s (1001) while the bot talks: ChatJS reconnects on its own, pushes resume,
    and the messages the customer saw are exactly the transcript's."""
    chat = start_chat(lifetime_server)
    stats = scenarios.reconnect_loses_nothing(chat, node_customer(chat), SOCKET_LIFETIME)
    print(f"reconnect stats: {stats}")


def test_disconnect_participant_ends_the_chat(server: Server, node_customer: StartCustomer, version: str) -> None:
    """disconnectParticipant(): participant.left and chat.ended, then onEnded (every version); the contact is over."""
    chat = start_chat(server)
    scenarios.disconnect_ends(chat, node_customer(chat), version)

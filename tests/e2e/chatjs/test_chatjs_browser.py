"""Real ChatJS (npm dist bundle, unmodified) in headless Debian chromium: a page served from its own origin loads
the bundle with a script tag and talks to Parley cross-origin (CORS), as a customer widget would."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Server

from . import scenarios
from .harness import SOCKET_LIFETIME, Chat, start_chat
from .runtimes import BrowserCustomer

pytestmark = pytest.mark.e2e

StartCustomer = Callable[[Chat], BrowserCustomer]


def assert_clean(customer: BrowserCustomer) -> None:
    """No console errors, uncaught exceptions or failed (e.g. CORS-blocked) requests."""
    assert not customer.errors(), customer.diagnostics()
    assert not customer.failed_requests, customer.diagnostics()


def test_messages_typing_and_transcript(server: Server, browser_customer: StartCustomer) -> None:
    """onMessage gets the bot's message, onTyping its typing; the customer's message reaches the bot's
    GetTranscript; ChatJS getTranscript returns what was said before the customer connected."""
    chat = start_chat(server)
    earlier = chat.bot_says("welcome, said before the customer connected")
    customer = browser_customer(chat)
    scenarios.converse(chat, customer, earlier)
    assert_clean(customer)


def test_reconnects_after_server_close_and_loses_nothing(lifetime_server: Server,
                                                         browser_customer: StartCustomer) -> None:
    """Parley closes each socket after 3 s (1001) while the bot talks: ChatJS reconnects on its own, pushes resume,
    and the messages the customer saw are exactly the transcript's."""
    chat = start_chat(lifetime_server)
    customer = browser_customer(chat)
    stats = scenarios.reconnect_loses_nothing(chat, customer, SOCKET_LIFETIME)
    print(f"reconnect stats: {stats}")
    assert_clean(customer)


def test_disconnect_participant_ends_the_chat(server: Server, browser_customer: StartCustomer,
                                              version: str) -> None:
    """disconnectParticipant(): participant.left and chat.ended, then onEnded (every version); the contact is over."""
    chat = start_chat(server)
    customer = browser_customer(chat)
    scenarios.disconnect_ends(chat, customer, version)
    assert_clean(customer)

"""An asyncio client for customers, bots and agents that speaks only Parley's public protocols.

The Connect API (SigV4-signed) starts chats and adds bots; agents sign in through the login form and use the CTI
agent API; the Participant Service and its WebSocket carry the conversation. See ``docs/client.md``.
"""

from __future__ import annotations

from parley.client.agent import Agent, AgentChat, AgentContact, Connection, Endpoint, RosterEntry
from parley.client.connect import BotStart, ChatStart, ConnectClient
from parley.client.errors import ParleyError, StreamEnded
from parley.client.items import (
    CHAT_ENDED,
    DELIVERED,
    JOINED,
    LEFT,
    METADATA,
    READ,
    TYPING,
    Item,
    ItemPredicate,
    content_type_is,
    is_message,
    is_typing,
    message_with,
)
from parley.client.participant import ChatParticipant, TranscriptPage
from parley.client.quick import bot, customer

__all__ = [
    "CHAT_ENDED",
    "DELIVERED",
    "JOINED",
    "LEFT",
    "METADATA",
    "READ",
    "TYPING",
    "Agent",
    "AgentChat",
    "AgentContact",
    "BotStart",
    "ChatParticipant",
    "ChatStart",
    "ConnectClient",
    "Connection",
    "Endpoint",
    "Item",
    "ItemPredicate",
    "ParleyError",
    "RosterEntry",
    "StreamEnded",
    "TranscriptPage",
    "bot",
    "content_type_is",
    "customer",
    "is_message",
    "is_typing",
    "message_with",
]

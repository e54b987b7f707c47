"""What travels on the bus between nodes: its channels, and the pokes of the chat channel (which chat has which
new items, typing, sockets to close) as published by :mod:`parley.service.notify` and read by the hubs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from parley.domain.transcript import TYPING, Item

# The one bus channel for chat activity; payloads name the chat.
CHAT_CHANNEL = "parley.chat"
# Pokes carry their items when the items' content is at most this big (bigger ones are read from storage).
INLINE_BYTES = 32 * 1024
# The bus channel that wakes the routers of every node.
ROUTING_CHANNEL = "parley.routing"
# The key of a poke's publication time (seconds since the epoch, the publishing node's clock), from which hubs
# measure the bus's publish-to-delivery lag. Nodes that do not know it ignore it, and pokes without it are not
# measured, so nodes of releases before and after it work together.
SENT = "t"
# The bus channel that tells agents' snapshot long polls to look again; payloads list user ids.
AGENT_CHANNEL = "parley.agents"
# The key of a poke that closes one participant's sockets of the chat (a silent monitor that left: no item says
# so). Nodes that do not know it read a poke of seq 0, which they ignore.
DROP = "drop"


@dataclass(frozen=True)
class Delivery:
    """An item as sockets get it: the text of its websocket message (JSON, rendered once), and what the hub
    needs to route it. Turning the text into frame bytes is the web edge's job."""

    seq: int
    text: str
    content_type: str
    participant_id: str | None

    @property
    def ephemeral(self) -> bool:
        return self.content_type == TYPING

    def dump(self) -> list[object]:
        return [self.seq, self.text, self.content_type, self.participant_id]


def delivery(item: Item, render: Callable[[Item], str]) -> Delivery:
    return Delivery(item.seq, render(item), item.content_type, item.participant_id)


@dataclass(frozen=True)
class Poke:
    chat_id: str
    seq: int
    ephemeral: Delivery | None = None
    items: tuple[Delivery, ...] = ()
    sent: float | None = None  # when it was published (epoch seconds), if the publisher said
    drop: str | None = None  # a participant whose sockets of the chat close (DROP)


def _load(raw: list[object]) -> Delivery:
    seq, text, content_type, participant_id = raw
    if not isinstance(seq, int) or not isinstance(text, str) or not isinstance(content_type, str):
        raise ValueError("malformed delivery")
    return Delivery(seq, text, content_type, participant_id if isinstance(participant_id, str) else None)


def decode_pokes(payload: bytes) -> list[Poke]:
    """A bus payload: a list of pokes, each a chat, its newest seq, and the deliveries it carries (a typing
    event, or new items)."""
    data = orjson.loads(payload)
    if not isinstance(data, list):
        raise ValueError("a chat payload is a list of pokes")
    return [_poke(one) for one in data]


def _poke(data: dict[str, Any]) -> Poke:
    ephemeral = _load(data["item"]) if "item" in data else None
    items = tuple(_load(raw) for raw in data.get("items", ()))
    sent = data.get(SENT)
    drop = data.get(DROP)
    return Poke(str(data["chat"]), int(data.get("seq", 0)), ephemeral, items,
                float(sent) if isinstance(sent, int | float) else None, drop if isinstance(drop, str) else None)

"""Publishing chat activity on the bus, only after the transaction that made it has committed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from parley.domain.transcript import TYPING, Item
from parley.service.ports import Bus, Tx

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


class ChatNotifier:
    """Publishes pokes; ``render`` turns an item into its websocket message's text (done once, on the committing
    node)."""

    def __init__(self, bus: Bus, render: Callable[[Item], str]) -> None:
        self.bus = bus
        self.render = render

    def poke_after_commit(self, tx: Tx, chat_id: str, items: list[Item]) -> None:
        """Tell every node that ``chat_id`` has items up to the last of ``items``, once ``tx`` commits."""
        self.pokes_after_commit(tx, {chat_id: items})

    def pokes_after_commit(self, tx: Tx, new_items: dict[str, list[Item]]) -> None:
        """Tell every node which chats got which items, in one bus message, once ``tx`` commits.

        A poke names a chat and its newest seq. Small items travel in the poke itself, as rendered text, so
        hubs that are up to date push them without reading them back from storage; hubs that missed something
        still catch up from storage. A group commit that added items to many chats sends them all at once.
        """
        pokes: list[dict[str, object]] = []
        for chat_id, items in new_items.items():
            if not items:
                continue
            data: dict[str, object] = {"chat": chat_id, "seq": items[-1].seq}
            if sum(len(i.content or "") for i in items) <= INLINE_BYTES:
                data["items"] = [delivery(i, self.render).dump() for i in items]
            pokes.append(data)
        if not pokes:
            return

        async def publish() -> None:
            sent = time.time()
            for poke in pokes:
                poke[SENT] = sent
            await self.bus.publish(CHAT_CHANNEL, orjson.dumps(pokes))

        tx.after_commit(publish)

    def poke_agents_after_commit(self, tx: Tx, user_ids: Iterable[str]) -> None:
        """Tell the agents' long polls that their snapshot changed, once ``tx`` commits."""
        users = sorted({u for u in user_ids if u})
        if not users:
            return
        payload = orjson.dumps({"agents": users})

        async def publish() -> None:
            await self.bus.publish(AGENT_CHANNEL, payload)

        tx.after_commit(publish)

    def wake_routing_after_commit(self, tx: Tx) -> None:
        """A contact is waiting for an agent: every node's router takes a look once ``tx`` commits."""

        async def publish() -> None:
            await self.bus.publish(ROUTING_CHANNEL, b"{}")

        tx.after_commit(publish)

    def drop_after_commit(self, tx: Tx, chat_id: str, participant_id: str) -> None:
        """Close ``participant_id``'s sockets of ``chat_id`` on every node once ``tx`` commits: for a party that
        leaves without an item saying so (a silent monitor), whose sockets no ``participant.left`` closes."""
        payload: list[dict[str, object]] = [{"chat": chat_id, "seq": 0, DROP: participant_id}]

        async def publish() -> None:
            payload[0][SENT] = time.time()
            await self.bus.publish(CHAT_CHANNEL, orjson.dumps(payload))

        tx.after_commit(publish)

    async def poke_agents(self, user_ids: Iterable[str]) -> None:
        await self.bus.publish(AGENT_CHANNEL, orjson.dumps({"agents": sorted({u for u in user_ids if u})}))

    async def push_ephemeral(self, item: Item) -> None:
        """Typing: delivered to the chat's sockets, never stored."""
        payload = [{"chat": item.chat_id, "item": delivery(item, self.render).dump(), SENT: time.time()}]
        await self.bus.publish(CHAT_CHANNEL, orjson.dumps(payload))


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

"""Publishing chat activity on the bus, only after the transaction that made it has committed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from parley.domain.codec import from_json, to_json
from parley.domain.transcript import Item
from parley.service.ports import Bus, Tx

# The one bus channel for chat activity; payloads name the chat.
CHAT_CHANNEL = "parley.chat"
# Pokes carry their items when the items' content is at most this big (bigger ones are read from storage).
INLINE_BYTES = 32 * 1024
# The bus channel that wakes the routers of every node.
ROUTING_CHANNEL = "parley.routing"
# The bus channel that tells agents' snapshot long polls to look again; payloads list user ids.
AGENT_CHANNEL = "parley.agents"


class ChatNotifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def poke_after_commit(self, tx: Tx, chat_id: str, items: list[Item]) -> None:
        """Tell every node that ``chat_id`` has items up to the last of ``items``, once ``tx`` commits.

        Small items travel in the poke itself, so hubs that are up to date push them without reading them
        back from storage; hubs that missed something still catch up from storage.
        """
        data: dict[str, object] = {"chat": chat_id, "seq": items[-1].seq}
        if sum(len(i.content or "") for i in items) <= INLINE_BYTES:
            data["items"] = [to_json(i) for i in items]
        payload = orjson.dumps(data)

        async def publish() -> None:
            await self.bus.publish(CHAT_CHANNEL, payload)

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

    async def poke_agents(self, user_ids: Iterable[str]) -> None:
        await self.bus.publish(AGENT_CHANNEL, orjson.dumps({"agents": sorted({u for u in user_ids if u})}))

    async def push_ephemeral(self, item: Item) -> None:
        """Typing: delivered to the chat's sockets, never stored."""
        await self.bus.publish(CHAT_CHANNEL, orjson.dumps({"chat": item.chat_id, "item": to_json(item)}))


@dataclass(frozen=True)
class Poke:
    chat_id: str
    seq: int
    ephemeral: Item | None = None
    items: tuple[Item, ...] = ()


def decode_poke(payload: bytes) -> Poke:
    """A bus payload: the chat, its newest seq, and the items it carries (a typing event, or new items)."""
    data = orjson.loads(payload)
    ephemeral = from_json(Item, data["item"]) if "item" in data else None
    items = tuple(from_json(Item, raw) for raw in data.get("items", ()))
    return Poke(str(data["chat"]), int(data.get("seq", 0)), ephemeral, items)

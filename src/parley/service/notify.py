"""Publishing on the bus, only after the unit of work that made the news has committed (the format is
:mod:`parley.service.pokes`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import orjson

from parley.domain.transcript import Item
from parley.service.pokes import AGENT_CHANNEL, CHAT_CHANNEL, DROP, INLINE_BYTES, ROUTING_CHANNEL, SENT, delivery
from parley.service.ports import Bus
from parley.service.repositories import UnitOfWork


class Notifier:
    """Publishes, once the unit of work that caused them commits, what other nodes must hear: chats' new items,
    agents whose snapshot changed, contacts waiting for routing, sockets to close (typing alone goes at once).
    ``render`` turns an item into its websocket message's text (done once, on the committing node)."""

    def __init__(self, bus: Bus, render: Callable[[Item], str]) -> None:
        self.bus = bus
        self.render = render

    def poke_after_commit(self, uow: UnitOfWork, chat_id: str, items: list[Item]) -> None:
        """Tell every node that ``chat_id`` has items up to the last of ``items``, once ``uow`` commits."""
        self.pokes_after_commit(uow, {chat_id: items})

    def pokes_after_commit(self, uow: UnitOfWork, new_items: dict[str, list[Item]]) -> None:
        """Tell every node which chats got which items, in one bus message, once ``uow`` commits.

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

        uow.after_commit(publish)

    def poke_agents_after_commit(self, uow: UnitOfWork, user_ids: Iterable[str]) -> None:
        """Tell the agents' long polls that their snapshot changed, once ``uow`` commits."""
        users = sorted({u for u in user_ids if u})
        if not users:
            return
        payload = orjson.dumps({"agents": users})

        async def publish() -> None:
            await self.bus.publish(AGENT_CHANNEL, payload)

        uow.after_commit(publish)

    def wake_routing_after_commit(self, uow: UnitOfWork) -> None:
        """A contact is waiting for an agent: every node's router takes a look once ``uow`` commits."""

        async def publish() -> None:
            await self.bus.publish(ROUTING_CHANNEL, b"{}")

        uow.after_commit(publish)

    def drop_after_commit(self, uow: UnitOfWork, chat_id: str, participant_id: str) -> None:
        """Close ``participant_id``'s sockets of ``chat_id`` on every node once ``uow`` commits: for a party that
        leaves without an item saying so (a silent monitor), whose sockets no ``participant.left`` closes."""
        payload: list[dict[str, object]] = [{"chat": chat_id, "seq": 0, DROP: participant_id}]

        async def publish() -> None:
            payload[0][SENT] = time.time()
            await self.bus.publish(CHAT_CHANNEL, orjson.dumps(payload))

        uow.after_commit(publish)

    async def push_ephemeral(self, item: Item) -> None:
        """Typing: delivered to the chat's sockets, never stored."""
        payload = [{"chat": item.chat_id, "item": delivery(item, self.render).dump(), SENT: time.time()}]
        await self.bus.publish(CHAT_CHANNEL, orjson.dumps(payload))



"""The participant's received items: arrival order, de-duplicated by ``Id``, with waiting readers."""

from __future__ import annotations

import asyncio

from parley.client.items import Item, is_stored


class ItemLog:
    """Every item a participant received, once each, and whether (and why) the stream ended.

    ``cursor`` is the Id of the newest item that is also in the transcript: a reconnecting stream reloads the
    transcript from there.
    """

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.cursor: str | None = None
        self.ended = False
        self.error: BaseException | None = None
        self._ids: set[str] = set()
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def mark(self, item: Item) -> None:
        """Remember ``item`` as already known (earlier history) without handing it to readers."""
        item_id = item.get("Id")
        if isinstance(item_id, str):
            self._ids.add(item_id)
            if is_stored(item):
                self.cursor = item_id

    def start_at(self, item_id: str) -> None:
        """Let the first catch-up begin with the stored item ``item_id`` (which readers then get)."""
        self.cursor = item_id

    def add(self, item: Item) -> bool:
        """Append ``item`` unless its Id was seen before or the stream has ended; True when appended."""
        item_id = item.get("Id")
        if self.ended or (isinstance(item_id, str) and item_id in self._ids):
            return False
        self.mark(item)
        self.items.append(item)
        self._notify()
        return True

    def end(self, error: BaseException | None = None) -> None:
        """Stop the stream; readers get what is left, then the end (or ``error``)."""
        if not self.ended:
            self.ended = True
            self.error = error
            self._notify()

    async def wait_past(self, index: int) -> bool:
        """Wait until an item exists at ``index`` (True) or the stream has ended without one (False)."""
        while True:
            changed = self._changed
            if len(self.items) > index:
                return True
            if self.ended:
                return False
            await changed.wait()

"""The ports the services need from adapters: a transactional store (its unit of work and repositories are in
``parley.service.repositories``), a message bus, socket slots and the node's socket registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from parley.service.repositories import UnitOfWork


class StorageUnavailable(Exception):
    """The database cannot be reached now (down, restarting, connection lost); the transaction did not commit, or
    may not have when the connection broke during its commit. Worth retrying: edges answer 503."""


class Storage(Protocol):
    """The database: opens transactions (which raise :class:`StorageUnavailable` while it cannot be reached)."""

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work: it commits when the block ends, rolls back when it raises. A write that breaks a unique
        key (a name or id that exists, or that a concurrent unit of work took first) raises
        :class:`parley.domain.errors.Duplicate` and rolls the whole unit back."""
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    """Carries small pokes between nodes; the database stays the truth."""

    async def publish(self, channel: str, payload: bytes) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    def degraded(self) -> bool:
        """Whether pokes published on other nodes may be missed here now (the bus is unreachable, a subscription
        broke, or it came back moments ago): whoever waits for pokes should look at the database meanwhile."""
        ...

    async def close(self) -> None: ...


class SocketSlots(Protocol):
    """Open websockets counted per key (a participant) across every node, held from accept to close; each bus
    adapter has one (``bus.slots``). A node's slots lapse when it stops refreshing them (a crash)."""

    async def acquire(self, key: str, holder: str, limit: int) -> bool:
        """Take a slot of ``key`` for ``holder`` (unique per socket); False when ``limit`` others hold one."""
        ...

    async def release(self, key: str, holder: str) -> None: ...


class Sink(Protocol):
    """One socket as the hub sees it: frames are queued to it in order; ``finish`` closes it after them."""

    participant_id: str
    chat_id: str

    def push(self, frame: str) -> None:
        """Queue the message ``frame`` (its JSON text). The hub hands the same ``str`` object to every socket of
        the chat, so the edge may encode it once for all of them."""
        ...

    def finish(self) -> None: ...

    async def drained(self, timeout: float) -> None:
        """Return once every frame queued so far is written (or ``timeout`` seconds passed)."""
        ...


class Feeds(Protocol):
    """The node's registry of chat sockets (the hub)."""

    async def add(self, sink: Sink) -> None: ...

    def remove(self, sink: Sink) -> None: ...

    def count(self, participant_id: str, chat_id: str) -> int: ...

    async def flush(self, chat_id: str, timeout: float = 1.0) -> int:
        """Push what the chat has committed to this node's sockets now and wait until it is written; returns
        how many sockets of the chat this node holds."""
        ...


class AgentSignals(Protocol):
    """Wakes agents' snapshot long polls when something about them changed (on any node)."""

    def mark(self, user_id: str) -> int: ...

    async def wait(self, user_id: str, timeout: float, since: int | None = None) -> None: ...

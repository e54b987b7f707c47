"""Fan-out adapters: the bus that carries pokes between nodes and the hub that feeds sockets."""

from __future__ import annotations

from parley.fanout.local import LocalBus
from parley.fanout.redis import RedisBus


async def open_bus(url: str) -> LocalBus | RedisBus:
    """``local://`` (one process) or ``redis://HOST:PORT/DB`` (several nodes)."""
    if url.startswith("local://"):
        return LocalBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        bus = RedisBus(url)
        await bus.check()
        return bus
    raise ValueError(f"unsupported bus URL {url!r}: use local:// or redis://HOST:PORT/DB")

"""Accepting connections in batches: up to :data:`ACCEPT_BATCH` each time the listening socket is readable.

uvloop's server accepts one connection per turn of the event loop. On a saturated loop a turn takes 10-20 ms, so
a burst of new connections (under overload every participant's browser opens another connection while its open
ones wait) drained from the kernel's accept queue at 50-100 a second: the requests on them waited there for
seconds, unseen by load shedding, while requests on open connections were answered in milliseconds. asyncio's
own loop accepts up to a backlog's worth per turn; this does the same on any loop, handing each accepted socket to
the loop's ``connect_accepted_socket`` with uvicorn's protocol.

:func:`accept_in_batches` replaces the servers uvicorn started (``Server.servers``) by :class:`BatchAccept`, which
keeps the listening socket (a duplicate of its descriptor) and answers what uvicorn's shutdown asks of a server:
``close`` (stop accepting) and ``wait_closed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import Callable

log = logging.getLogger(__name__)

# Connections accepted per readiness of the listening socket: asyncio's default loop takes up to its backlog (100)
# per turn; enough to drain a burst in a turn or two without starving the requests already read.
ACCEPT_BATCH = 128
# How often a failing accept (out of descriptors) is logged while it keeps failing.
WARN_EVERY_SECONDS = 10.0

ProtocolFactory = Callable[[], asyncio.Protocol]


class BatchAccept:
    """One listening socket accepted from in batches; each connection gets ``factory()`` as its protocol."""

    def __init__(self, listener: socket.socket, factory: ProtocolFactory, tls: ssl.SSLContext | None) -> None:
        self.listener = listener
        self.factory = factory
        self.tls = tls
        self.loop = asyncio.get_running_loop()
        self.handshakes: set[asyncio.Task[None]] = set()  # connections being handed to the loop
        self._closed = False
        self._warned_at = float("-inf")
        listener.setblocking(False)
        self.loop.add_reader(listener.fileno(), self._ready)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._closed else (self.listener,)

    def _ready(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, or the connection was reset before it was accepted
                now = self.loop.time()
                if now - self._warned_at >= WARN_EVERY_SECONDS:
                    self._warned_at = now
                    log.warning("accepting a connection failed: %s", exc)
                return
            conn.setblocking(False)
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self.loop.create_task(self._hand_over(conn))
            self.handshakes.add(task)
            task.add_done_callback(self.handshakes.discard)

    async def _hand_over(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.factory, conn, ssl=self.tls)
        except (TimeoutError, OSError, ssl.SSLError) as exc:  # a client gone, or a failed TLS handshake
            log.debug("an accepted connection could not be served: %s", exc)
            conn.close()

    def close(self) -> None:
        """Stop accepting; connections already accepted are the server's to drain."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.listener.fileno())
        self.listener.close()

    async def wait_closed(self) -> None:
        if self.handshakes:
            await asyncio.gather(*self.handshakes, return_exceptions=True)


def accept_in_batches(servers: list[asyncio.Server], factory: ProtocolFactory,
                      tls: ssl.SSLContext | None) -> list[asyncio.Server | BatchAccept]:
    """The servers uvicorn started, those listening on TCP replaced: their sockets taken over (a duplicate of each
    descriptor; the server is closed) and accepted from in batches. Others (a Unix socket) are kept as they are."""
    kept: list[asyncio.Server | BatchAccept] = []
    for server in servers:
        if not server.sockets or any(s.family not in (socket.AF_INET, socket.AF_INET6) for s in server.sockets):
            kept.append(server)
            continue
        listeners = [socket.socket(fileno=os.dup(s.fileno())) for s in server.sockets]
        server.close()  # uvloop stops accepting on its descriptor; the duplicates keep the sockets listening
        kept += [BatchAccept(listener, factory, tls) for listener in listeners]
    return kept

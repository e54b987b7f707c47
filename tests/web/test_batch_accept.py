"""Connections are accepted in batches (parley.web.server.accept): a burst waiting in the kernel's accept queue is
taken in a few turns of the event loop, not one connection per turn (uvloop's own server), which under load left
requests on new connections waiting for seconds. Counted in loop turns, never in wall-clock time."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from pathlib import Path

import uvloop

from parley.web.server.accept import ACCEPT_BATCH, BatchAccept, accept_in_batches

BURST = 300


class Recorder(asyncio.Protocol):
    def __init__(self, made: list[asyncio.BaseTransport]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


def listening() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    return listener


def burst(port: int, n: int = BURST) -> list[socket.socket]:
    """``n`` connections the kernel completes while the loop has not run yet: all waiting to be accepted."""
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]


async def turns_until(done: list[asyncio.BaseTransport], n: int, limit: int = 5000) -> int:
    """Loop turns (each a ``sleep(0)``) until ``n`` connections were made."""
    turns = 0
    while len(done) < n and turns < limit:
        await asyncio.sleep(0)
        turns += 1
    return turns


def test_a_burst_of_connections_is_accepted_in_a_few_loop_turns() -> None:
    async def main() -> tuple[int, int]:
        made: list[asyncio.BaseTransport] = []
        listener = listening()
        accept = BatchAccept(listener, lambda: Recorder(made), None)
        clients = burst(listener.getsockname()[1])
        try:
            turns = await turns_until(made, BURST)
            return turns, len(made)
        finally:
            accept.close()
            await accept.wait_closed()
            for transport in made:
                transport.close()
            for client in clients:
                client.close()

    turns, made = uvloop.run(main())
    assert made == BURST
    # Each readable turn takes up to ACCEPT_BATCH; handing a socket to the loop takes a turn or two more.
    assert turns <= 4 * (BURST // ACCEPT_BATCH + 1), turns


def test_closed_it_accepts_no_more_and_the_port_is_released() -> None:
    async def main() -> None:
        made: list[asyncio.BaseTransport] = []
        listener = listening()
        port = listener.getsockname()[1]
        accept = BatchAccept(listener, lambda: Recorder(made), None)
        assert accept.sockets == (listener,)
        accept.close()
        accept.close()  # twice is harmless (uvicorn's shutdown and ours)
        await accept.wait_closed()
        assert accept.sockets == ()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        raise AssertionError("a connection was accepted after close")

    uvloop.run(main())


def test_uvicorn_servers_on_tcp_are_taken_over_and_unix_ones_kept() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        made: list[asyncio.BaseTransport] = []
        tcp = await loop.create_server(lambda: Recorder(made), "127.0.0.1", 0)
        port = tcp.sockets[0].getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            unix = await loop.create_unix_server(lambda: Recorder(made), str(Path(tmp) / "s"))
            servers = accept_in_batches([tcp, unix], lambda: Recorder(made), None)
            assert servers[0] is unix or servers[1] is unix
            batch = [s for s in servers if isinstance(s, BatchAccept)]
            assert len(batch) == 1 and not tcp.is_serving()
            clients = burst(port, 10)
            await turns_until(made, 10)
            assert len(made) == 10, "the port stays open, served by the batch acceptor"
            for server in servers:
                server.close()
                await server.wait_closed()
            for client in clients:
                client.close()
            for transport in made:
                transport.close()

    uvloop.run(main())

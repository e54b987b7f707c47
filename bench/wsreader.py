"""A lean WebSocket client for the load generator: it reads frames in the transport's callback, no task per socket.

The generator holds hundreds or thousands of participant sockets and takes tens of thousands of frames a second.
With the ``websockets`` library's asyncio client each frame went through its parser, a queue and a reader task's
``async for`` before the meter saw it; at 2,400 SendMessage/s into 100 six-party chats (12,000 frames/s in) the
generator used 70-80 % of a core, and its own lateness counted as the server's latency. Here a socket is an
:class:`asyncio.Protocol`: ``data_received`` walks the frames in the bytes it was given and hands each text
payload (as ``bytes``) to a callback. It does what a benchmark client needs and no more (RFC 6455): the opening
handshake (checked: status 101 and ``Sec-WebSocket-Accept``), masked text frames out, unmasked frames in, text
messages in fragments, ping answered with pong, a close answered and the socket shut. No extensions, no
compression, no limits on what the server sends.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


class WsClosed(Exception):
    """The socket closed (or never opened)."""


def masked(opcode: int, payload: bytes) -> bytes:
    """One final client frame: clients mask what they send."""
    key = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    stream = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big") if n else b""
    return head + key + body


class WsClient(asyncio.Protocol):
    """One WebSocket. Until :meth:`listen` is called, text messages wait in a queue for :meth:`recv`; after it, each
    goes to the listener as it arrives."""

    def __init__(self, host: str, path: str, key: bytes) -> None:
        self.host, self.path, self.key = host, path, key
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._head = True
        self._buf = b""
        self._fragments: list[bytes] = []
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._listener: Callable[[bytes], object] | None = None

    # --- asyncio.Protocol ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        self.transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        if self._head:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._buf = buf
                return
            if not self._handshake(buf[:end]):
                return
            buf = buf[end + 4:]
            self._head = False
        self._buf = self._frames(buf)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(WsClosed(f"connection lost during the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        self._queue.put_nowait(None)

    # --- the pieces ---------------------------------------------------------------------------------------------

    def _handshake(self, head: bytes) -> bool:
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        lines = head.split(b"\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        if lines[0][9:12] != b"101" or headers.get(b"sec-websocket-accept") != accept:
            self.opened.set_exception(WsClosed(f"handshake refused: {lines[0].decode(errors='replace')}"))
            assert self.transport is not None
            self.transport.close()
            return False
        self.opened.set_result(None)
        return True

    def _frames(self, buf: bytes) -> bytes:
        """Handle every whole frame in ``buf``; returns the rest (a frame not wholly received yet)."""
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, start = b1 & 0x7F, pos + 2
            if n == 126:
                if size - start < 2:
                    break
                n, start = (buf[start] << 8) | buf[start + 1], start + 2
            elif n == 127:
                if size - start < 8:
                    break
                n, start = struct.unpack_from("!Q", buf, start)[0], start + 8
            if b1 & 0x80:  # a server must not mask; take its key off all the same
                if size - start < 4 + n:
                    break
                key, start = buf[start:start + 4], start + 4
                payload = (int.from_bytes(buf[start:start + n], "big")
                           ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
            else:
                if size - start < n:
                    break
                payload = buf[start:start + n]
            pos = start + n
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
        return buf[pos:] if pos < size else b""

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (TEXT, BINARY, CONTINUATION):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join((*self._fragments, payload))
                self._fragments = []
            if self._listener is not None:
                self._listener(payload)
            else:
                self._queue.put_nowait(payload)
        elif opcode == PING:
            self._write(PONG, payload)
        elif opcode == CLOSE:
            self._write(CLOSE, payload[:2])
            assert self.transport is not None
            self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked(opcode, payload))

    # --- the caller's side --------------------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send a text message."""
        if self.transport is None or self.transport.is_closing():
            raise WsClosed("the socket is closed")
        self._write(TEXT, text.encode())

    async def recv(self) -> bytes:
        """The next text message (before :meth:`listen`)."""
        payload = await self._queue.get()
        if payload is None:
            self._queue.put_nowait(None)
            raise WsClosed("the socket closed")
        return payload

    def listen(self, listener: Callable[[bytes], object]) -> None:
        """From now on, hand each message to ``listener`` (those queued first)."""
        while not self._queue.empty():
            payload = self._queue.get_nowait()
            if payload is not None:
                listener(payload)
        self._listener = listener

    async def close(self, timeout: float = 2.0) -> None:
        """Send a close (1000) and wait up to ``timeout`` for the connection to end."""
        if self.transport is None:
            return
        if not self.transport.is_closing():
            self._write(CLOSE, struct.pack("!H", 1000))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            self.transport.abort()


async def connect(url: str, timeout: float = 120.0) -> WsClient:
    """Open a ``ws://`` URL (host, port, path and query)."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"not a ws:// URL: {url}")
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    key = base64.b64encode(os.urandom(16))
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: WsClient(f"{parts.hostname}:{port}", path, key), parts.hostname, port),
        timeout)
    try:
        await asyncio.wait_for(asyncio.shield(client.opened), timeout)
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        raise
    return client

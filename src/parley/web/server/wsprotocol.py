"""uvicorn's websocket protocol with two additions: inbound limits, and the ``parley.frames`` ASGI extension.

Inbound, every socket is held to :mod:`parley.web.wslimits` before anything reaches the app: a frame over
32 KB or a message over 128 KB is refused from its header (close 1009, the payload is never buffered); a socket
that sends frames faster than its budget is closed (1008); a text message that is not UTF-8 is closed (1007).
Each is one log line, without a traceback. What waits for the app is bounded too: uvicorn stops reading a socket
while a received message waits in its queue, and a read's worth of frames can queue at most the frame budget.

A chat message goes to six sockets. Through the ASGI ``send`` each of those frames is a coroutine call into
uvicorn, which has the ``websockets`` library build the frame, and a wake-up of the socket's writer task. The
bytes are the same for every socket (a server's frames are not masked), so Parley encodes a message's frame
once (:class:`parley.web.wsframes.TextFrames`) and writes it to each connection's transport through this
extension, in the order the frames were pushed. The ASGI ``send`` still does everything else: accepting,
closing, and any frame while the connection is not open or its transport is paused (a slow client).

The extension is offered in the connection's scope as ``scope["extensions"]["parley.frames"]``; an app run by
another server does not find it and sends every frame through ``send``.
"""

from __future__ import annotations

import codecs
import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import PayloadTooBig
from websockets.frames import Frame
from websockets.protocol import State

from parley.web.wslimits import (
    CLOSE_INVALID_DATA,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    LINGER_SECONDS,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_UNREAD_BYTES,
    FrameBudget,
)

EXTENSION = "parley.frames"
log = logging.getLogger(__name__)


class DirectFrames:
    """Writes encoded frames straight to one open connection's transport."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def ready(self) -> bool:
        """The connection is open (handshake done, no close sent or received) and its transport takes bytes."""
        protocol = self._protocol
        return (protocol.conn.state is State.OPEN and not protocol.close_sent and protocol.writable.is_set()
                and not protocol.transport.is_closing())

    def write(self, data: bytes) -> None:
        """Write ``data`` (whole frames); only when :meth:`ready` said so in the same turn of the event loop."""
        self._protocol.transport.write(data)

    async def writable(self) -> None:
        """Wait while the transport is paused (its buffer above the high-water mark)."""
        await self._protocol.writable.wait()


class ParleyWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, with Parley's inbound limits, offering :class:`DirectFrames`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read by the parser before each frame's payload (whatever uvicorn's ws_max_size says).
        self.conn.max_message_size = MAX_MESSAGE_BYTES
        self.conn.max_fragment_size = MAX_FRAME_BYTES
        self.budget = FrameBudget()
        # The UTF-8 check of the text message being received, fed frame by frame.
        self._utf8: codecs.IncrementalDecoder | None = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.close_sent:
            scope["extensions"][EXTENSION] = DirectFrames(self)

    # Every frame the peer sends (but close and pong, which cost nothing to answer) spends the budget first.

    def handle_text(self, event: Frame) -> None:
        if self._admit():
            self._utf8 = codecs.getincrementaldecoder("utf-8")()
            if self._valid_text(event):
                super().handle_text(event)

    def handle_bytes(self, event: Frame) -> None:
        if self._admit():
            self._utf8 = None
            super().handle_bytes(event)

    def handle_cont(self, event: Frame) -> None:
        if self._admit() and self._valid_text(event):
            super().handle_cont(event)

    def handle_ping(self) -> None:
        if not self._admit():
            return
        if self.transport.get_write_buffer_size() > MAX_UNREAD_BYTES:
            self.refuse(CLOSE_POLICY, "Not reading", "it does not read what it is sent")
            return
        super().handle_ping()

    def handle_parser_exception(self) -> None:
        """The parser failed the connection (a frame or message too big, a protocol error): it has queued the
        close frame; tell the app and close. Called again for input that arrives meanwhile (dropped)."""
        if self.close_sent:
            self.conn.data_to_send()  # nothing to write after the close frame
            return
        exc = self.conn.parser_exc
        if isinstance(exc, PayloadTooBig):
            log.warning("closing websocket %s with %d: %s (at most %d bytes a frame, %d a message)", self._who(),
                        CLOSE_TOO_BIG, exc, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES)
        else:
            log.info("closing websocket %s: %s", self._who(), exc)
        close = self.conn.close_sent
        code, reason = (close.code, close.reason) if close is not None else (1006, "")
        self._drop_unread()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._linger()

    def _admit(self) -> bool:
        """Spend one frame of the budget; False (and the socket is being closed) when it must not be handled."""
        if self.close_sent:
            return False  # closing: what still arrives is dropped (uvicorn drops it too once the app closed)
        if self.budget.take(self.loop.time()):
            return True
        self.refuse(CLOSE_POLICY, "Too many frames",
                    f"more than {self.budget.burst:g} frames at once or {self.budget.rate:g} a second")
        return False

    def _valid_text(self, event: Frame) -> bool:
        decoder = self._utf8
        if decoder is None:  # a continuation of a binary message
            return True
        try:
            decoder.decode(event.data, final=event.fin)
        except UnicodeDecodeError:
            self.refuse(CLOSE_INVALID_DATA, "Invalid UTF-8", "a text message that is not UTF-8")
            return False
        return True

    def refuse(self, code: int, reason: str, why: str) -> None:
        """Close the connection now with ``code`` (the app sees a disconnect next; anything it had not read yet
        is dropped) and log ``why`` in one line."""
        log.warning("closing websocket %s with %d: %s", self._who(), code, why)
        self._drop_unread()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.fail(code, reason)  # queues the close frame; later input is discarded unparsed
        self._linger()

    def _drop_unread(self) -> None:
        """Drop the messages the app has not read yet (it is told of the close next)."""
        waiting = []
        while not self.queue.empty():
            waiting.append(self.queue.get_nowait())
        for message in waiting:
            if message["type"] != "websocket.receive":
                self.queue.put_nowait(message)  # websocket.connect, when the app has not accepted yet

    def _linger(self) -> None:
        """Write the close frame, then keep reading (and dropping) the peer's input for a moment before closing
        the TCP connection, so that the peer reads the close frame rather than a reset."""
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.transport.is_closing():
            return
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        if self.close_timer is None:
            self.close_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _who(self) -> str:
        """The socket's path and peer, for a log line (never the query string: it carries the ticket)."""
        scope = getattr(self, "scope", None)
        path = scope["path"] if scope is not None else "?"
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        return f"{path} from {client}"


def direct_frames(scope: Any) -> DirectFrames | None:
    """The connection's :class:`DirectFrames`, when the server offers them."""
    extensions = scope.get("extensions") or {}
    found = extensions.get(EXTENSION)
    return found if isinstance(found, DirectFrames) else None

"""uvicorn's websocket protocol with one addition: the ``parley.frames`` ASGI extension.

A chat message goes to six sockets. Through the ASGI ``send`` each of those frames is a coroutine call into
uvicorn, which has the ``websockets`` library build the frame, and a wake-up of the socket's writer task. The
bytes are the same for every socket (a server's frames are not masked), so Parley encodes a message's frame
once (:func:`parley.service.frames.text_frame`) and writes it to each connection's transport through this
extension, in the order the frames were pushed. The ASGI ``send`` still does everything else: accepting,
closing, and any frame while the connection is not open or its transport is paused (a slow client).

The extension is offered in the connection's scope as ``scope["extensions"]["parley.frames"]``; an app run by
another server does not find it and sends every frame through ``send``.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

EXTENSION = "parley.frames"


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
    """uvicorn's ``websockets-sansio`` protocol, offering :class:`DirectFrames` to the app."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.close_sent:
            scope["extensions"][EXTENSION] = DirectFrames(self)


def direct_frames(scope: Any) -> DirectFrames | None:
    """The connection's :class:`DirectFrames`, when the server offers them."""
    extensions = scope.get("extensions") or {}
    found = extensions.get(EXTENSION)
    return found if isinstance(found, DirectFrames) else None

"""WebSocket text frames as a server sends them (RFC 6455 §5.2), encoded once for every socket of a chat.

A frame from server to client is not masked, so the bytes of one message are the same for every socket it goes
to. The hub hands every socket of a chat the same ``str`` object; :class:`TextFrames`, one per node and shared by
every socket, remembers the last text it encoded (by identity) and its frame, so a message pushed to six sockets
is encoded once and the other five get the same bytes.
"""

from __future__ import annotations

import struct

# FIN set, opcode 1 (text); no RSV bits (an uncompressed message, also where permessage-deflate was agreed).
_FIN_TEXT = 0x81


def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame carrying ``text``."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, size) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, size) + payload


class TextFrames:
    """The frame of the text encoded last, kept while the same ``str`` object is pushed to socket after socket.

    Keyed by identity, not equality: comparing would cost as much as encoding, and the hub pushes one object to
    all the sockets of a chat in one loop. Holding the text keeps it alive, so another string can never take
    its identity while it is remembered. One entry is enough: a push to a chat's sockets is one synchronous
    loop, so no other text comes between them. Not thread-safe; it belongs to the event loop's thread.
    """

    __slots__ = ("frame", "text")

    def __init__(self) -> None:
        # The last text encoded and its frame; read-only outside (a hot caller may test ``text is`` itself).
        self.text: str | None = None
        self.frame = b""

    def encode(self, text: str) -> bytes:
        """The frame carrying ``text``: encoded now, or the bytes of the last call when it had this very object."""
        if text is self.text:
            return self.frame
        frame = text_frame(text)
        self.text = text
        self.frame = frame
        return frame

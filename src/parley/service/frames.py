"""WebSocket text frames as a server sends them (RFC 6455 §5.2), encoded once for every socket of a chat.

A frame from server to client is not masked, so the bytes of one message are the same for every socket it
goes to: the hub encodes each delivery once and the sockets write those bytes as they are.
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

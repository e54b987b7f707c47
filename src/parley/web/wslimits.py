"""The limits every inbound websocket (participant and agent) lives under, and the per-socket frame budget.

The values follow Amazon Connect's participant websocket where it has one (frame and message sizes) and leave
ample room for what ChatJS and StreamsJS really send (``reference/chatjs.md`` §2.3, ``reference/streams.md``
§4.2) where it does not:

- on open: ``aws/subscribe``, ``aws/ping``, ``aws/heartbeat`` (3 frames); a refused subscribe is retried every
  500 ms (StreamsJS gives up after 5);
- then ``aws/ping`` and ``aws/heartbeat`` every 10 s (0.2 frames/s);
- a reconnect opens a *new* socket, which starts with a full budget.
"""

from __future__ import annotations

from dataclasses import dataclass

# Amazon Connect's participant websocket: a frame carries at most 32 KB, a (fragmented) message at most 128 KB.
# A frame's header announces its length, so a longer one is refused before its payload is read (close 1009).
MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
# Frames a socket may send per second, sustained: 50 times what ChatJS sends (0.2/s), still cheap to serve.
FRAMES_PER_SECOND = 10.0
# Frames a socket may send at once: ChatJS sends 3 on open and StreamsJS at most 5 subscribe retries; 20 leaves
# room for a page that subscribes, pings and retries together, while a flood is cut after 20 frames.
FRAME_BURST = 20
# Bytes waiting in a socket's transport (pongs written for a peer that does not read) before it is closed: far
# above what a reading peer ever leaves there (the transport pauses our writers at 64 KiB).
MAX_UNREAD_BYTES = 1024 * 1024
# After refusing a socket, how long its input is still read (and dropped unparsed) before the TCP connection is
# closed: closing with unread input makes the kernel send a reset, which can destroy the close frame before the
# peer reads it; one second lets it read the code, and costs nothing but discarding bytes.
LINGER_SECONDS = 1.0
# RFC 6455 close codes Parley sends on its own.
CLOSE_POLICY = 1008  # too many frames, too many sockets, no aws/subscribe in time
CLOSE_TOO_BIG = 1009  # a frame over 32 KB or a message over 128 KB
CLOSE_INVALID_DATA = 1007  # a text message that is not UTF-8


@dataclass
class FrameBudget:
    """A token bucket: ``take`` spends one frame, refilled at ``rate`` per second up to ``burst``."""

    rate: float = FRAMES_PER_SECOND
    burst: float = FRAME_BURST
    tokens: float = FRAME_BURST
    last: float | None = None

    def take(self, now: float) -> bool:
        """Spend one token at time ``now`` (seconds, monotonic); False when the bucket is empty."""
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

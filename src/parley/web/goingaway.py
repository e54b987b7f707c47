"""Parley's websocket protocol, closing with 1001 (Going Away) when the server stops.

uvicorn closes every open websocket with 1012 (Service Restart) and drops the connection in the same instant, so
a client never completes the closing handshake. When Parley drains, each open socket is sent 1001 instead (what
API Gateway sends when it closes a connection, and what ChatJS and StreamsJS reconnect after), the app sees the
disconnect and ends its handler, and the connection is closed once the client answers the close frame, or after
:data:`CLOSE_ECHO_SECONDS`. A socket whose handshake the app has not answered yet is refused as uvicorn does.
"""

from __future__ import annotations

from parley.web.server.wsprotocol import ParleyWebSocketProtocol

# Close code sent to every open websocket when the server stops (RFC 6455 7.4.1: the server is going down).
GOING_AWAY = 1001
# How long a client has to answer the close frame before its connection is dropped: a live client answers within
# a round trip; one that does not must not hold the stop up for long.
CLOSE_ECHO_SECONDS = 2.0


class GoingAwayWebSocketProtocol(ParleyWebSocketProtocol):
    """:class:`ParleyWebSocketProtocol` whose server-side shutdown sends 1001 and waits for the client's echo."""

    def shutdown(self) -> None:
        open_socket = self.handshake_complete and self.initial_response is None
        if self.close_sent or not open_socket or self.transport.is_closing():
            super().shutdown()
            return
        self.stop_keepalive()
        # The app's next receive is the disconnect; its sends fail from now on (the connection is closing).
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY, "Server going away")
        self.transport.write(b"".join(self.conn.data_to_send()))
        if self.read_paused:  # read on, to see the client's close frame
            self.read_paused = False
            self.transport.resume_reading()
        # uvicorn closes the transport when the client's close frame arrives (handle_close); else this does.
        self.close_timer = self.loop.call_later(CLOSE_ECHO_SECONDS, self.transport.close)

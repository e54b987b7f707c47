"""An idle keep-alive connection outlives the client's own keep-alive, so reusing it never meets a closing socket."""

from __future__ import annotations

import http.client
import time
from typing import Any

from parley.server import KEEP_ALIVE_SECONDS


def test_an_idle_keep_alive_connection_still_answers_after_httpx_would_have_dropped_it(server: Any) -> None:
    assert KEEP_ALIVE_SECONDS > 5  # httpx keeps an idle connection 5 s; the server must keep it longer
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        first.read()
        assert first.status == 200 and first.getheader("connection", "").lower() != "close"
        time.sleep(6)  # past uvicorn's default keep-alive of 5 s, which closed the connection here
        conn.request("GET", "/health")  # http.client does not reconnect: this is the same socket
        second = conn.getresponse()
        assert second.status == 200
        second.read()
    finally:
        conn.close()

"""A demo agent signed in through the real login form, speaking the CTI API (JSON 1.0 at ``POST /api``) over a
plain httpx client, for the CTI and agent websocket fuzzers."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx

from tests.fuzz.conftest import Reply

TARGET = "AmazonConnectCTIService."
# The agent the fuzzers sign in as; it stays Offline so that no chat is offered to it while it is fuzzed.
AGENT = "agent5"
# The password of the demo agents (``parley serve --demo``).
AGENT_PASSWORD = "Parley-demo-1"


class CtiAgent:
    """A signed-in agent speaking CTI over a plain httpx client."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        page = self.http.get("/connect/login")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and found, page.text[:300]
        signed = self.http.post("/connect/login", data={
            "username": AGENT, "password": AGENT_PASSWORD, "instance": "demo", "csrf": found.group(1),
            "landat": "/connect/ccp-v2/"})
        assert signed.status_code == 303, (signed.status_code, signed.text[:300])
        authorized = self.http.get("/auth/authorize")
        assert authorized.status_code == 200, authorized.text
        self.token = str(authorized.json()["accessToken"])

    def post(self, target: str | None, body: bytes, content_type: str = "application/x-amz-json-1.0",
             bearer: str | None = None) -> Reply:
        headers = {"Content-Type": content_type}
        if target is not None:
            headers["X-Amz-Target"] = target
        if bearer is not None:
            headers["X-Amz-Bearer"] = bearer
        return Reply.of(self.http.post("/api", content=body, headers=headers))

    def version(self) -> str:
        """The snapshot's version: it changes exactly when the snapshot's content does."""
        reply = self.post(TARGET + "GetAgentSnapshot", json.dumps({"authentication": {"authToken": self.token}})
                          .encode())
        assert reply.status == 200, reply
        return str(json.loads(reply.body)["nextToken"])

    def websocket_url(self) -> str:
        """A new agent websocket URL (CTI CreateTransport ``web_socket``)."""
        body = json.dumps({"authentication": {"authToken": self.token}, "transportType": "web_socket"}).encode()
        reply = self.post(TARGET + "CreateTransport", body)
        assert reply.status == 200, reply
        url = urlsplit(str(json.loads(reply.body)["webSocketTransport"]["url"]))
        # Over plain HTTP the URL names a marker host that Parley's own CCP worker dials on its own host.
        return str(self.http.base_url).replace("http", "ws", 1).rstrip("/") + url.path + "?" + url.query

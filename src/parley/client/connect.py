"""The Connect API calls a customer or bot script needs, signed with SigV4 (service ``connect``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from parley.client.errors import ParleyError
from parley.client.wire import json_body, send_json

# The SigV4 service name of the Connect API.
SERVICE = "connect"
# The demo instance's alias and flow (``parley serve --demo``).
DEMO_ALIAS = "demo"
DEMO_FLOW = "Sample inbound flow"


@dataclass(frozen=True)
class ChatStart:
    """What ``StartChatContact`` answered: the customer's contact and participant token."""

    instance_id: str
    contact_id: str
    participant_id: str
    participant_token: str


@dataclass(frozen=True)
class BotStart:
    """What ``CreateParticipant`` answered for a ``CUSTOM_BOT``: its participant token and expiry."""

    instance_id: str
    contact_id: str
    participant_id: str
    participant_token: str
    expiry: str


class ConnectClient:
    """A small signed client of Parley's Connect API.

    Use it as ``async with ConnectClient(url) as connect: ...`` (or call :meth:`close`).
    """

    def __init__(self, url: str, access_key: str = "test", secret_key: str = "test", region: str = "us-west-2",
                 *, session_token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.region = region
        self._credentials = Credentials(access_key, secret_key, session_token)
        self._http = httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                   query: Mapping[str, str] | None = None, *, idempotent: bool = False) -> dict[str, Any]:
        """Send one signed Connect API request; raise :class:`ParleyError` on an error answer."""
        url = self.url + path + (f"?{urlencode(sorted(query.items()))}" if query else "")
        data = json_body(body)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(self._credentials, SERVICE, self.region).add_auth(request)
        signed = {k: str(v) for k, v in request.headers.items()}
        return await send_json(self._http, method, url, signed, data, idempotent=idempotent)

    async def _pages(self, path: str, key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self.call("GET", path, query={"nextToken": token} if token else None, idempotent=True)
            out += page.get(key) or []
            token = page.get("NextToken")
            if not token:
                return out

    async def instance_id(self, alias: str = DEMO_ALIAS) -> str:
        """The Id of the instance called ``alias``."""
        for summary in await self._pages("/instance", "InstanceSummaryList"):
            if summary.get("InstanceAlias") == alias:
                return str(summary["Id"])
        raise ParleyError("ResourceNotFoundException", f"No instance has the alias {alias!r}.", 404)

    async def flow_id(self, instance_id: str, name: str = DEMO_FLOW) -> str:
        """The Id of the contact flow called ``name`` in the instance."""
        path = f"/contact-flows-summary/{quote(instance_id, safe='')}"
        for summary in await self._pages(path, "ContactFlowSummaryList"):
            if summary.get("Name") == name:
                return str(summary["Id"])
        raise ParleyError("ResourceNotFoundException", f"No contact flow is called {name!r}.", 404)

    async def start_chat(self, instance_id: str, flow_id: str, display_name: str,
                         initial_message: str | None = None, attributes: Mapping[str, str] | None = None, *,
                         supported_content_types: Sequence[str] | None = None,
                         client_token: str | None = None) -> ChatStart:
        """Start a chat contact as a customer called ``display_name`` (``StartChatContact``).

        ``supported_content_types`` are the message types the customer's client shows (Connect's default:
        ``text/plain`` only); others may send only those.
        """
        body: dict[str, Any] = {
            "InstanceId": instance_id, "ContactFlowId": flow_id,
            "ParticipantDetails": {"DisplayName": display_name},
            "ClientToken": client_token or str(uuid.uuid4()),
        }
        if initial_message is not None:
            body["InitialMessage"] = {"ContentType": "text/plain", "Content": initial_message}
        if attributes:
            body["Attributes"] = dict(attributes)
        if supported_content_types:
            body["SupportedMessagingContentTypes"] = list(supported_content_types)
        out = await self.call("PUT", "/contact/chat", body, idempotent=True)
        return ChatStart(instance_id, str(out["ContactId"]), str(out["ParticipantId"]), str(out["ParticipantToken"]))

    async def add_bot(self, instance_id: str, contact_id: str, display_name: str, *,
                      client_token: str | None = None) -> BotStart:
        """Add a ``CUSTOM_BOT`` participant to a chat (``CreateParticipant``)."""
        body: dict[str, Any] = {
            "InstanceId": instance_id, "ContactId": contact_id,
            "ParticipantDetails": {"ParticipantRole": "CUSTOM_BOT", "DisplayName": display_name},
        }
        if client_token:
            body["ClientToken"] = client_token
        out = await self.call("POST", "/contact/create-participant", body)
        creds = out["ParticipantCredentials"]
        return BotStart(instance_id, contact_id, str(out["ParticipantId"]), str(creds["ParticipantToken"]),
                        str(creds.get("Expiry", "")))

    async def stop_contact(self, instance_id: str, contact_id: str) -> None:
        """End a contact for everyone (``StopContact``)."""
        await self.call("POST", "/contact/stop", {"InstanceId": instance_id, "ContactId": contact_id},
                        idempotent=True)

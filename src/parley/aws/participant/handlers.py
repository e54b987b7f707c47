"""One handler per Participant Service operation; the bearer token comes from ``X-Amz-Bearer``."""

from __future__ import annotations

import asyncio
from typing import Any

from parley.aws.participant.items import item_json
from parley.aws.restjson import Call
from parley.aws.shapes import iso
from parley.domain.errors import InvalidParameter
from parley.service.chat import ChatService, TranscriptQuery
from parley.service.ports import Feeds

# How long DisconnectParticipant waits after pushing the end of the chat to the leaver's socket.
CALLBACK_GRACE_SECONDS = 0.1


class ParticipantHandlers:
    def __init__(self, chat: ChatService, websocket_base: str, feeds: Feeds | None = None) -> None:
        self.chat = chat
        self.websocket_base = websocket_base
        self.feeds = feeds

    async def create_participant_connection(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        types = p.get("Type") or []
        connect = bool(p.get("ConnectParticipant"))
        if not types and not connect:
            raise InvalidParameter("Give Type (WEBSOCKET, CONNECTION_CREDENTIALS) or ConnectParticipant.")
        grant = await self.chat.create_connection(call.caller, types, connect)
        out: dict[str, Any] = {}
        if grant.websocket_ticket and grant.websocket_expiry:
            out["Websocket"] = {
                "Url": f"{self.websocket_base}/participant/ws?ticket={grant.websocket_ticket}",
                "ConnectionExpiry": iso(grant.websocket_expiry),
            }
        if grant.connection_token and grant.connection_expiry:
            out["ConnectionCredentials"] = {
                "ConnectionToken": grant.connection_token, "Expiry": iso(grant.connection_expiry),
            }
        return out

    async def send_message(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        item = await self.chat.send_message(call.caller, p["ContentType"], p["Content"], p.get("ClientToken"))
        return {"Id": item.id, "AbsoluteTime": iso(item.absolute_time)}

    async def send_event(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        item = await self.chat.send_event(call.caller, p["ContentType"], p.get("Content"), p.get("ClientToken"))
        return {"Id": item.id, "AbsoluteTime": iso(item.absolute_time)}

    async def get_transcript(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        start = p.get("StartPosition") or {}
        direction = p.get("ScanDirection")
        query = TranscriptQuery(
            contact_id=p.get("ContactId"),
            max_results=p.get("MaxResults", 10),
            next_token=p.get("NextToken"),
            forward=None if direction is None else direction == "FORWARD",
            ascending=p.get("SortOrder", "DESCENDING") == "ASCENDING",
            start_id=start.get("Id"),
            start_time=_parse_time(start.get("AbsoluteTime")),
            most_recent=start.get("MostRecent"),
        )
        initial, items, token = await self.chat.transcript(call.caller, query)
        return {"InitialContactId": initial, "Transcript": [item_json(i) for i in items], "NextToken": token}

    async def disconnect_participant(self, call: Call[str]) -> dict[str, Any]:
        chat_id = await self.chat.disconnect(call.caller)
        # Like Connect, the leaving client's socket gets participant.left / chat.ended before the answer:
        # ChatJS 3.x stops listening as soon as DisconnectParticipant returns, and it hands items to its
        # callbacks on the next tick, so it also needs a moment between the two.
        if self.feeds is not None and await self.feeds.flush(chat_id):
            await asyncio.sleep(CALLBACK_GRACE_SECONDS)
        return {}


def _parse_time(value: str | None) -> Any:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameter(
            f"StartPosition.AbsoluteTime '{value}' is not an ISO-8601 time like 2019-11-08T02:41:28.172Z."
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

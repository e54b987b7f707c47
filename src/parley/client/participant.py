"""``ChatParticipant``: one customer or bot in a chat, over the Participant Service and its WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from parley.client.errors import StreamEnded
from parley.client.items import DELIVERED, JOINED, READ, TYPING, Item, ItemPredicate
from parley.client.log import ItemLog
from parley.client.stream import Stream
from parley.client.wire import json_body, send_json

# GetTranscript's largest page.
MAX_PAGE = 100
# Connect asks clients to heartbeat every 10 seconds.
HEARTBEAT_SECONDS = 10.0


@dataclass(frozen=True)
class TranscriptPage:
    """One GetTranscript answer."""

    initial_contact_id: str | None
    items: list[Item]
    next_token: str | None


class ChatParticipant:
    """A participant of a chat, from its ``ParticipantToken``.

    ``async with ChatParticipant(url, token) as p:`` opens the connection (CreateParticipantConnection), subscribes
    to the WebSocket and starts collecting items; leaving the block closes the connection without leaving the chat
    (call :meth:`disconnect` for that). Items are kept in arrival order, once each (by ``Id``), across socket
    closes: the client reconnects and reloads what it missed from the transcript.

    The stream starts with this participant's own ``participant.joined`` when ``participant_id`` is given (so
    nothing said between joining and connecting is missed), else with what arrives after :meth:`connect`; with
    ``history=True`` it starts with the whole transcript.
    """

    def __init__(self, url: str, participant_token: str, *, participant_id: str | None = None,
                 contact_id: str | None = None, history: bool = False, connect_participant: bool = True,
                 heartbeat: float = HEARTBEAT_SECONDS, reconnect_timeout: float = 60.0,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.participant_token = participant_token
        self.participant_id = participant_id
        self.contact_id = contact_id
        self.initial_contact_id: str | None = None
        self.connection_token: str | None = None
        self.history = history
        self.connect_participant = connect_participant
        self._http = httpx.AsyncClient(timeout=timeout)
        self._log = ItemLog()
        self._stream = Stream(self._log, self._open_socket, self._catch_up, heartbeat=heartbeat,
                              reconnect_timeout=reconnect_timeout, participant_id=participant_id)
        self._task: asyncio.Task[None] | None = None
        self._next = 0

    # lifecycle -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def connect(self) -> None:
        """Create the connection and wait until the WebSocket is subscribed.

        Raises :class:`ParleyError` when refused (``AccessDeniedException`` for a bad or expired token); a
        participant whose connect failed is closed: make a new one to try again.
        """
        if self._task is not None:
            return
        try:
            url = await self._open_socket(connect_participant=self.connect_participant)
            if not self.history:
                # Fetched before subscribing, so nothing falls between this baseline and the first socket.
                joined, newest = await self._baseline()
                if joined is not None:
                    self._log.start_at(joined["Id"])
                elif newest is not None:
                    self._log.mark(newest)
            self._task = asyncio.get_running_loop().create_task(self._stream.run(url))
            ready = asyncio.ensure_future(self._stream.ready.wait())
            await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                raise self._log.error or StreamEnded("the chat ended before the connection was ready")
        except BaseException:
            await self.close()
            raise

    async def _baseline(self) -> tuple[Item | None, Item | None]:
        """Where a stream without history starts: (this participant's own ``participant.joined``, found when the
        participant id is known; else the newest item, after which it starts; both None: at the beginning)."""
        token: str | None = None
        newest: Item | None = None
        while self.participant_id is not None:
            page = await self.transcript_page(MAX_PAGE, next_token=token, scan_direction="BACKWARD",
                                              sort_order="DESCENDING")
            newest = newest or (page.items[0] if page.items else None)
            for item in page.items:
                if item.get("ContentType") == JOINED and item.get("ParticipantId") == self.participant_id:
                    return item, None
            token = page.next_token
            if not token:
                return None, newest
        latest = await self.transcript_page(1, scan_direction="BACKWARD", sort_order="DESCENDING")
        return None, (latest.items[0] if latest.items else None)

    async def close(self) -> None:
        """Close the socket and HTTP connections (the participant stays in the chat)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._log.end()
        await self._http.aclose()

    @property
    def sockets_opened(self) -> int:
        """How many WebSockets this participant has opened (more than one after reconnects)."""
        return self._stream.sockets

    @property
    def ended(self) -> bool:
        """Whether the item stream has ended (chat ended, participant left, or closed)."""
        return self._log.ended

    # Participant Service ---------------------------------------------------------------------------
    async def _call(self, path: str, body: Mapping[str, Any], token: str | None = None) -> dict[str, Any]:
        bearer = token or self.connection_token
        if bearer is None:
            raise RuntimeError("not connected: call connect() (or use 'async with') first")
        headers = {"Content-Type": "application/json", "X-Amz-Bearer": bearer}
        return await send_json(self._http, "POST", self.url + path, headers, json_body(body), idempotent=True)

    async def _open_socket(self, connect_participant: bool = False) -> str:
        body: dict[str, Any] = {"Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"]}
        if connect_participant:
            body["ConnectParticipant"] = True
        out = await self._call("/participant/connection", body, self.participant_token)
        self.connection_token = str(out["ConnectionCredentials"]["ConnectionToken"])
        return str(out["Websocket"]["Url"])

    async def send(self, text: str, content_type: str = "text/plain", *, client_token: str | None = None) -> str:
        """Send a message; returns its Id."""
        out = await self._call("/participant/message", {
            "ContentType": content_type, "Content": text, "ClientToken": client_token or str(uuid.uuid4()),
        })
        return str(out["Id"])

    async def event(self, content_type: str, content: str | None = None, *, client_token: str | None = None) -> str:
        """Send an event (typing, receipts, connection.acknowledged); returns its Id."""
        body = {"ContentType": content_type, "ClientToken": client_token or str(uuid.uuid4())}
        if content is not None:
            body["Content"] = content
        return str((await self._call("/participant/event", body))["Id"])

    async def typing(self) -> str:
        return await self.event(TYPING)

    async def read(self, message_id: str) -> str:
        """Send a read receipt for ``message_id`` (refused with ConflictException in chats of more than two)."""
        return await self.event(READ, orjson.dumps({"messageId": message_id}).decode())

    async def delivered(self, message_id: str) -> str:
        return await self.event(DELIVERED, orjson.dumps({"messageId": message_id}).decode())

    async def transcript_page(self, max_results: int = MAX_PAGE, *, next_token: str | None = None,
                              scan_direction: str | None = "BACKWARD", sort_order: str | None = "ASCENDING",
                              start_position: Mapping[str, Any] | None = None,
                              contact_id: str | None = None) -> TranscriptPage:
        """One GetTranscript page. The defaults (as ChatJS's) give the newest ``max_results`` items, oldest first."""
        body: dict[str, Any] = {"MaxResults": max_results}
        for key, value in (("NextToken", next_token), ("ScanDirection", scan_direction), ("SortOrder", sort_order),
                           ("ContactId", contact_id or self.contact_id)):
            if value is not None:
                body[key] = value
        if start_position is not None:
            body["StartPosition"] = dict(start_position)
        out = await self._call("/participant/transcript", body)
        self.initial_contact_id = out.get("InitialContactId") or self.initial_contact_id
        return TranscriptPage(out.get("InitialContactId"), list(out.get("Transcript") or []), out.get("NextToken"))

    async def transcript(self, max_results: int = MAX_PAGE, **kwargs: Any) -> list[Item]:
        """The items of one transcript page (see :meth:`transcript_page` for the options)."""
        return (await self.transcript_page(max_results, **kwargs)).items

    async def full_transcript(self, page_size: int = MAX_PAGE,
                              start_position: Mapping[str, Any] | None = None) -> list[Item]:
        """The whole transcript (from ``start_position`` when given), oldest first, reading every page."""
        out: list[Item] = []
        token: str | None = None
        while True:
            page = await self.transcript_page(page_size, next_token=token, scan_direction="FORWARD",
                                              sort_order="ASCENDING",
                                              start_position=None if token else start_position)
            out += page.items
            token = page.next_token
            if not token:
                return out

    async def _catch_up(self, cursor: str | None) -> list[Item]:
        return await self.full_transcript(start_position={"Id": cursor} if cursor else None)

    async def disconnect(self) -> None:
        """Leave the chat (a customer leaving ends it for everyone); the item stream then ends."""
        self._stream.left = True
        try:
            await self._call("/participant/disconnect", {"ClientToken": str(uuid.uuid4())})
        except BaseException:
            self._stream.left = False
            raise

    # receiving -------------------------------------------------------------------------------------
    @property
    def received(self) -> list[Item]:
        """Every item received so far, in arrival order."""
        return list(self._log.items)

    async def items(self) -> AsyncIterator[Item]:
        """Items in arrival order, each once; ends after ``chat.ended`` (or when this participant left).

        Iterations share one position: breaking out and iterating again continues where the last one stopped.
        """
        while await self._log.wait_past(self._next):
            item = self._log.items[self._next]
            self._next += 1
            yield item
        if self._log.error is not None:
            raise self._log.error

    async def wait_for(self, predicate: ItemPredicate, timeout: float = 10.0) -> Item:
        """The first item of the stream that matches ``predicate``, waiting up to ``timeout`` seconds.

        Looks at every received item (also ones :meth:`items` already yielded) and does not consume any. Raises
        ``TimeoutError``, or :class:`StreamEnded` when the stream ends without a match.
        """
        async with asyncio.timeout(timeout):
            index = 0
            while await self._log.wait_past(index):
                item = self._log.items[index]
                if predicate(item):
                    return item
                index += 1
        if self._log.error is not None:
            raise StreamEnded(f"the item stream failed: {self._log.error}") from self._log.error
        raise StreamEnded("the item stream ended without a matching item")

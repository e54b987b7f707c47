"""Use cases of the Participant Service: connect, send, receipts, transcript, disconnect, bots."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parley.domain import callers
from parley.domain.clock import utcnow
from parley.domain.contact import CUSTOM_BOT, CUSTOMER, INTERACTIVE, SENDABLE_MESSAGE_TYPES, Participant
from parley.domain.errors import AccessDenied, Conflict, InvalidParameter, InvalidRequest, QuotaExceeded
from parley.domain.ids import hash_token, new_id, new_item_id, new_token
from parley.domain.monitoring import check_writes, is_monitor, receipt_count
from parley.domain.transcript import (
    JOINED,
    MAX_CONTENT_BYTES,
    RECEIPTS,
    SENDABLE_EVENTS,
    TYPING,
    Chat,
    Connection,
    Item,
    Receipt,
)
from parley.service.access import allow
from parley.service.agent_steps import remove_agent_txn
from parley.service.appends import Append, Appender
from parley.service.chat_steps import append_txn, end_chat_txn, event, leave_txn
from parley.service.contacts import get_contact
from parley.service.credentials import (
    CONNECTION,
    DENIED,
    GONE,
    PARTICIPANT,
    WEBSOCKET,
    Caller,
    participant_caller,
)
from parley.service.lookups import get_instance
from parley.service.notify import Notifier
from parley.service.paging import INVALID_TOKEN, decode_payload, encode_payload
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# Connect's lifetimes: a websocket URL must be opened within 100 s; a connection token lasts a day.
WEBSOCKET_URL_SECONDS = 100
CONNECTION_TOKEN_SECONDS = 24 * 3600
# Connect's quota: one custom participant (bot) per contact.
MAX_BOTS = 1


@dataclass(frozen=True)
class Grant:
    """What CreateParticipantConnection hands out."""

    websocket_ticket: str | None
    websocket_expiry: datetime | None
    connection_token: str | None
    connection_expiry: datetime | None


class ChatService:
    def __init__(self, storage: Storage, notifier: Notifier, appender: Appender | None = None) -> None:
        self.storage = storage
        self.notifier = notifier
        self.appender = appender or Appender(storage, notifier)

    # authentication --------------------------------------------------------------------------------
    async def resolve_connection(self, token: str | None) -> Caller:
        async with self.storage.transaction() as uow:
            return await participant_caller(uow, token, CONNECTION)

    async def resolve_websocket(self, ticket: str | None) -> Caller:
        async with self.storage.transaction() as uow:
            caller = await participant_caller(uow, ticket, WEBSOCKET)
        if not caller.participant.active:
            raise AccessDenied(DENIED)
        return caller

    # connections -----------------------------------------------------------------------------------
    async def create_connection(self, participant_token: str | None, types: list[str],
                                connect_participant: bool) -> Grant:
        if "WEBRTC_CONNECTION" in types:
            raise InvalidRequest("Parley does not offer WebRTC connections for chat.")
        async with self.storage.transaction() as uow:
            caller = await participant_caller(uow, participant_token, PARTICIPANT, lock=True)
            participant = caller.participant
            if not participant.active or caller.chat.ended:
                raise AccessDenied(DENIED)
            now = utcnow()
            ticket = token = None
            ws_expiry = conn_expiry = None
            if "WEBSOCKET" in types:
                ticket = new_token()
                ws_expiry = now + timedelta(seconds=WEBSOCKET_URL_SECONDS)
                await uow.connections.add(hash_token(ticket), Connection("ws", participant.id, ws_expiry))
            if "CONNECTION_CREDENTIALS" in types:
                token = new_token()
                conn_expiry = min(now + timedelta(seconds=CONNECTION_TOKEN_SECONDS), participant.token_expiry)
                await uow.connections.add(hash_token(token), Connection("conn", participant.id, conn_expiry))
            if connect_participant and participant.connected is None:
                await uow.participants.update(replace(participant, connected=now))
            return Grant(ticket, ws_expiry, token, conn_expiry)

    # messages and events ---------------------------------------------------------------------------
    async def _writable(self, uow: UnitOfWork, token: str | None) -> Caller:
        caller = await participant_caller(uow, token, CONNECTION, lock=True)
        if not caller.participant.active or caller.chat.ended:
            raise AccessDenied(GONE)
        return caller

    async def send_message(self, token: str | None, content_type: str, content: str,
                           client_token: str | None) -> Item:
        _check_content(content)
        if not token:
            raise AccessDenied(DENIED)
        unsupported = InvalidParameter(
            f"Unsupported content type {content_type}; use one of {', '.join(sorted(SENDABLE_MESSAGE_TYPES))}."
        )
        if content_type not in SENDABLE_MESSAGE_TYPES and content_type != INTERACTIVE:
            raise unsupported

        async def make(uow: UnitOfWork, writer: Caller, seq: int) -> Item:
            me = writer.participant
            check_writes(me)
            if content_type == INTERACTIVE and me.role != CUSTOM_BOT:
                raise unsupported
            if me.role != CUSTOMER and content_type != "text/plain":
                contact = await get_contact(uow, writer.chat.instance_id, writer.chat.id)
                if content_type not in contact.supported_content_types:
                    raise InvalidParameter(
                        f"The customer's client does not accept {content_type} in this chat "
                        f"(SupportedMessagingContentTypes: {', '.join(contact.supported_content_types)})."
                    )
            return Item(
                chat_id=writer.chat.id, id=new_item_id(), type="MESSAGE", content_type=content_type, content=content,
                absolute_time=utcnow(), contact_id=me.contact_id, participant_id=me.id,
                display_name=me.display_name, role=me.role, seq=seq,
            )

        return await self.appender.append(Append(hash_token(token), "SendMessage", client_token, make))

    async def send_event(self, token: str | None, content_type: str, content: str | None,
                         client_token: str | None) -> Item:
        if content is not None:
            _check_content(content)
        if content_type not in SENDABLE_EVENTS:
            raise InvalidParameter(
                f"Unsupported event content type {content_type}; use one of {', '.join(sorted(SENDABLE_EVENTS))}."
            )
        message_id = _receipt_message_id(content) if content_type in RECEIPTS else None
        if content_type == TYPING:
            async with self.storage.transaction() as uow:
                me = (await self._writable(uow, token)).participant
            check_writes(me)
            typing = event(me.chat_id, me.contact_id, TYPING, me, utcnow())
            await self.notifier.push_ephemeral(typing)
            return typing
        if not token:
            raise AccessDenied(DENIED)

        async def make(uow: UnitOfWork, writer: Caller, seq: int) -> Item:
            me, chat = writer.participant, writer.chat
            check_writes(me)
            now = utcnow()
            if message_id is None:
                return replace(event(chat.id, me.contact_id, content_type, me, now), content=content, seq=seq)
            if receipt_count(await uow.participants.of_chat(chat.id)) > 2:
                raise Conflict(
                    "Message receipts are not supported while more than two participants are active in the chat."
                )
            if await uow.chats.find_item(chat.id, message_id) is None:
                raise InvalidParameter(f"Message {message_id} is not in this chat.")
            read = content_type.endswith(".read")
            return Item(
                chat_id=chat.id, id=new_item_id(), type="MESSAGEMETADATA", content_type=content_type,
                absolute_time=now, contact_id=me.contact_id, participant_id=me.id,
                display_name=me.display_name, role=me.role, message_id=message_id,
                receipts=(Receipt(me.id, delivered=now, read=now if read else None),), seq=seq,
            )

        # ChatJS sends literal ClientTokens for receipts, so the key includes the type and the content.
        suffix = f"/{content_type}/{content or ''}"
        return await self.appender.append(Append(hash_token(token), "SendEvent", client_token, make, suffix))

    # transcript ------------------------------------------------------------------------------------
    async def transcript(self, token: str | None, query: TranscriptQuery) -> tuple[str, list[Item], str | None]:
        """One page of the chat's transcript: (InitialContactId, items, NextToken)."""
        async with self.storage.transaction() as uow:
            caller = await participant_caller(uow, token, CONNECTION)
            chat = caller.chat
            if query.contact_id and query.contact_id != chat.id:
                chain = {c.id for c in await uow.contacts.of_chat(chat.id)}
                if query.contact_id not in chain:
                    raise InvalidParameter(f"Contact {query.contact_id} is not part of this chat.")
            boundary: int | None
            if query.next_token is not None:
                forward, boundary = _decode_transcript_token(query.next_token, chat.id)
                if boundary > chat.last_seq and boundary > (await uow.chats.find(chat.id) or chat).last_seq:
                    raise InvalidParameter(INVALID_TOKEN)  # past every item: no GetTranscript handed it out
            else:
                forward = query.forward if query.forward is not None else query.has_start
                boundary = await _start_boundary(uow, chat, query, forward)
            if boundary is None or query.max_results == 0:
                return chat.id, [], None
            limit = query.max_results
            if forward:
                rows = await uow.chats.items_after(chat.id, boundary - 1, limit + 1)
            else:
                rows = await uow.chats.items_before(chat.id, boundary + 1, limit + 1)
        next_token = _encode_transcript_token(chat.id, forward, rows[limit].seq) if len(rows) > limit else None
        page = sorted(rows[:limit], key=lambda i: i.seq, reverse=not query.ascending)
        return chat.id, page, next_token

    # leaving ---------------------------------------------------------------------------------------
    async def disconnect(self, token: str | None) -> str:
        """The participant leaves (a customer ends the chat); returns the chat's id."""
        async with self.storage.transaction() as uow:
            caller = await participant_caller(uow, token, CONNECTION, lock=True)
            me = caller.participant
            if not me.active or caller.chat.ended:
                raise AccessDenied("You have already left this chat.")
            if me.role == CUSTOMER:
                await end_chat_txn(uow, self.notifier, caller.chat.id, "CUSTOMER_DISCONNECT")
            elif is_monitor(me):  # the monitoring ends: its contact goes to after-contact work
                await remove_agent_txn(uow, self.notifier, me, utcnow(), "SUPERVISOR_DISCONNECT")
            else:
                await leave_txn(uow, self.notifier, me, utcnow())
        return caller.chat.id

    # bots ------------------------------------------------------------------------------------------
    async def add_bot(self, caller: callers.Caller, instance_id: str, contact_id: str, display_name: str | None,
                      client_token: str | None, role: str | None = CUSTOM_BOT) -> tuple[Participant, str]:
        """Connect's CreateParticipant: a custom participant (a bot, named "Bot" unless told) joins the chat."""
        allow(caller, instance_id, "CreateParticipant")
        if role != CUSTOM_BOT:
            raise InvalidRequest(
                f"ParticipantRole {role} cannot be added to a chat: the only valid value for chat contacts is "
                "CUSTOM_BOT. Agents join through quick connects."
            )
        display_name = display_name or "Bot"
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            contact = await get_contact(uow, instance.id, contact_id)
            scope = f"CreateParticipant/{contact.id}"
            # The chat's row lock orders this join against other joins and against the chat ending.
            chat = await uow.chats.find(contact.initial_contact_id, for_update=True)
            if chat is None or chat.ended or not contact.is_active:
                raise Conflict(f"Contact {contact_id} has ended; participants can no longer join it.")
            participants = await uow.participants.of_chat(chat.id)
            if sum(1 for p in participants if p.role == CUSTOM_BOT and p.active) >= MAX_BOTS:
                raise QuotaExceeded(f"A contact can have at most {MAX_BOTS} custom participant (bot).")
            if client_token and await uow.idempotency.find(scope, client_token) is not None:
                raise Conflict("This ClientToken was already used to add a participant to this contact.")
            now = utcnow()
            token = new_token()
            bot = Participant(
                id=new_id(), chat_id=chat.id, contact_id=contact.id, role=CUSTOM_BOT, display_name=display_name,
                token_hash=hash_token(token), token_expiry=chat.expires_at, created=now,
            )
            await uow.participants.add(bot)
            await append_txn(uow, self.notifier, chat.id, [event(chat.id, contact.id, JOINED, bot, now)])
            if client_token:
                await uow.idempotency.save(scope, client_token, {"ParticipantId": bot.id})
            return bot, token

    # timers ----------------------------------------------------------------------------------------
    async def end_expired_chats(self, limit: int = 100) -> int:
        """End chats whose duration ran out; safe on several nodes (each chat ends exactly once)."""
        async with self.storage.transaction() as uow:
            due = await uow.chats.expiring(utcnow(), limit)
        ended = 0
        for chat_id in due:
            async with self.storage.transaction() as uow:
                if await end_chat_txn(uow, self.notifier, chat_id, "EXPIRED"):
                    ended += 1
        return ended


@dataclass(frozen=True)
class TranscriptQuery:
    contact_id: str | None = None
    max_results: int = 10
    next_token: str | None = None
    forward: bool | None = None
    ascending: bool = False
    start_id: str | None = None
    start_time: datetime | None = None
    most_recent: int | None = None

    @property
    def has_start(self) -> bool:
        return self.start_id is not None or self.start_time is not None or self.most_recent is not None


async def _start_boundary(uow: UnitOfWork, chat: Chat, query: TranscriptQuery, forward: bool) -> int | None:
    """The seq a transcript page starts from (inclusive), or None when nothing matches."""
    given = [x for x in (query.start_id, query.start_time, query.most_recent) if x is not None]
    if len(given) > 1:
        raise InvalidParameter("StartPosition takes one of Id, AbsoluteTime or MostRecent.")
    if query.start_id is not None:
        item = await uow.chats.find_item(chat.id, query.start_id)
        if item is None:
            raise InvalidParameter(f"StartPosition.Id {query.start_id} is not an item of this chat.")
        return item.seq
    if query.start_time is not None:
        return await uow.chats.seq_at_time(chat.id, query.start_time, forward=forward)
    latest = (await uow.chats.find(chat.id) or chat).last_seq
    if query.most_recent is not None:
        recent = await uow.chats.items_before(chat.id, latest + 1, max(query.most_recent, 1))
        return recent[-1].seq if recent else None
    return 1 if forward else latest


def _encode_transcript_token(chat_id: str, forward: bool, seq: int) -> str:
    # The chat is in the token, so a token of one chat is refused by another rather than read as a position.
    return encode_payload({"c": chat_id, "d": "F" if forward else "B", "s": seq})


def _decode_transcript_token(token: str, chat_id: str) -> tuple[bool, int]:
    """(forward, seq) of a token this chat's GetTranscript handed out; anything else is refused."""
    data = decode_payload(token)
    if not isinstance(data, dict) or data.keys() != {"c", "d", "s"} or data["c"] != chat_id:
        raise InvalidParameter(INVALID_TOKEN)
    direction, seq = data["d"], data["s"]
    # bool is an int to Python; a real token's seq is an item of the chat (checked against last_seq by the caller).
    if direction not in ("F", "B") or type(seq) is not int or seq < 1:
        raise InvalidParameter(INVALID_TOKEN)
    return direction == "F", seq


def _check_content(content: str) -> None:
    size = len(content.encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise InvalidParameter(f"Content is {size} bytes; the limit is {MAX_CONTENT_BYTES} bytes.")


def _receipt_message_id(content: str | None) -> str:
    try:
        data = json.loads(content or "")
        message_id = data["messageId"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidParameter('A receipt needs Content {"messageId": "<id of the message>"}.') from exc
    if not isinstance(message_id, str) or not message_id:
        raise InvalidParameter('A receipt needs Content {"messageId": "<id of the message>"}.')
    return message_id

"""Use cases for chat attachments: start an upload, receive the bytes, complete it, hand out downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from parley.domain.attachments import (
    DEFAULT_DOWNLOAD_SECONDS,
    MAX_ATTACHMENTS_PER_CHAT,
    UPLOAD_URL_SECONDS,
    check_attachment,
)
from parley.domain.clock import utcnow
from parley.domain.contact import CUSTOM_BOT
from parley.domain.errors import AccessDenied, Conflict, InvalidParameter, NotFound, QuotaExceeded
from parley.domain.ids import hash_token, new_id, new_item_id, new_token
from parley.domain.monitoring import check_writes
from parley.domain.transcript import Attachment, Connection, Item, StoredAttachment
from parley.service.chat import ChatService
from parley.service.chat_steps import append_txn
from parley.service.credentials import DOWNLOAD, UPLOAD, attachment_of_ticket
from parley.service.notify import Notifier
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

IN_PROGRESS = "IN_PROGRESS"
APPROVED = "APPROVED"


class FileStore(Protocol):
    """Where attachment bytes live (a directory under the data dir by default)."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], size: int) -> int:
        """Store ``chunks`` under ``key`` if they add up to exactly ``size`` bytes, reading no more than
        ``size + 1`` of them; answers how many bytes arrived (the key is left absent unless it was ``size``)."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def size(self, key: str) -> int | None: ...


@dataclass(frozen=True)
class Ticket:
    attachment: StoredAttachment
    ticket: str
    expires: datetime


class AttachmentService:
    def __init__(self, storage: Storage, files: FileStore, chat: ChatService, notifier: Notifier) -> None:
        self.storage = storage
        self.files = files
        self.chat = chat
        self.notifier = notifier

    async def start_upload(self, token: str | None, content_type: str, size: int, name: str,
                           client_token: str) -> Ticket:
        check_attachment(name, content_type, size)
        caller = await self.chat.resolve_connection(token)
        me = caller.participant
        if not me.active or caller.chat.ended:
            raise AccessDenied("The chat has ended or you have left it; it no longer accepts attachments.")
        check_writes(me)
        async with self.storage.transaction() as uow:
            scope = f"StartAttachmentUpload/{me.id}"
            earlier = await uow.idempotency.find(scope, client_token)
            if earlier is not None:
                found = await uow.attachments.find(earlier["AttachmentId"])
                if found is not None and found.status == IN_PROGRESS:
                    return await self._upload_ticket_txn(uow, found)
            if len(await uow.attachments.of_chat(caller.chat.id)) >= MAX_ATTACHMENTS_PER_CHAT:
                raise QuotaExceeded(
                    f"The number of attachments per contact exceeds the quota of {MAX_ATTACHMENTS_PER_CHAT}."
                )
            attachment = StoredAttachment(
                id=new_id(), chat_id=caller.chat.id, participant_id=me.id, name=name, content_type=content_type,
                size=size, status=IN_PROGRESS, created=utcnow(), client_token=client_token,
            )
            await uow.attachments.add(attachment)
            await uow.idempotency.save(scope, client_token, {"AttachmentId": attachment.id})
            return await self._upload_ticket_txn(uow, attachment)

    async def _upload_ticket_txn(self, uow: UnitOfWork, attachment: StoredAttachment) -> Ticket:
        ticket = new_token()
        expires = utcnow() + timedelta(seconds=UPLOAD_URL_SECONDS)
        await uow.connections.add(hash_token(ticket), Connection(UPLOAD, attachment.id, expires))
        return Ticket(attachment, ticket, expires)

    async def receive(self, attachment_id: str, ticket: str | None, content_type: str | None,
                      declared_length: int | None, chunks: AsyncIterator[bytes]) -> None:
        """The bytes PUT to an upload URL, streamed to the file store as they arrive.

        The ticket, the attachment's state, its content type and a declared ``Content-Length`` are checked
        before any byte is read, and no more bytes are read than StartAttachmentUpload declared (plus one, to
        tell a longer upload apart): an upload never costs more memory than one chunk.
        """
        async with self.storage.transaction() as uow:
            attachment = await attachment_of_ticket(uow, attachment_id, ticket, UPLOAD)
        if attachment.status != IN_PROGRESS:
            raise Conflict("This attachment has already been completed.")
        if content_type is not None and content_type.split(";")[0].strip() != attachment.content_type.split(";")[0]:
            raise InvalidParameter(f"Send the header Content-Type: {attachment.content_type} with the upload.")
        if declared_length is not None and declared_length != attachment.size:
            raise InvalidParameter(
                f"The upload has {declared_length} bytes but StartAttachmentUpload declared {attachment.size}."
            )
        received = await self.files.put_stream(attachment.id, chunks, attachment.size)
        if received > attachment.size:
            raise InvalidParameter(f"The upload has more than the {attachment.size} bytes StartAttachmentUpload "
                                   "declared.")
        if received != attachment.size:
            raise InvalidParameter(
                f"The upload has {received} bytes but StartAttachmentUpload declared {attachment.size}."
            )

    async def complete(self, token: str | None, attachment_ids: list[str], client_token: str) -> None:
        caller = await self.chat.resolve_connection(token)
        me = caller.participant
        if not me.active or caller.chat.ended:
            raise AccessDenied("The chat has ended or you have left it; it no longer accepts attachments.")
        check_writes(me)
        if len(attachment_ids) != 1:
            raise InvalidParameter("Complete one attachment at a time.")
        async with self.storage.transaction() as uow:
            scope = f"CompleteAttachmentUpload/{me.id}"
            if await uow.idempotency.find(scope, client_token) is not None:
                return
            attachment = await uow.attachments.find(attachment_ids[0])
            if attachment is None or attachment.chat_id != caller.chat.id or attachment.participant_id != me.id:
                raise InvalidParameter(f"Attachment {attachment_ids[0]} is not an upload of yours in this chat.")
            if attachment.status != IN_PROGRESS:
                raise Conflict(f"Attachment {attachment.id} has already been completed.")
            if await self.files.size(attachment.id) != attachment.size:
                raise Conflict(f"Attachment {attachment.id} is still being uploaded: PUT its bytes to the upload URL.")
            done = replace(attachment, status=APPROVED)
            await uow.attachments.update(done)
            item = Item(
                chat_id=caller.chat.id, id=new_item_id(), type="ATTACHMENT", content_type=done.content_type,
                absolute_time=utcnow(), contact_id=me.contact_id, participant_id=me.id,
                display_name=me.display_name, role=me.role,
                attachments=(Attachment(done.id, done.name, done.content_type, APPROVED),),
            )
            await append_txn(uow, self.notifier, caller.chat.id, [item])
            await uow.idempotency.save(scope, client_token, {"AttachmentId": done.id})

    async def download_ticket(self, token: str | None, attachment_id: str, seconds: int | None) -> Ticket:
        caller = await self.chat.resolve_connection(token)
        if caller.participant.role == CUSTOM_BOT:
            raise AccessDenied("Custom participants (bots) cannot download attachments.")
        async with self.storage.transaction() as uow:
            attachment = await uow.attachments.find(attachment_id)
            if attachment is None or attachment.chat_id != caller.chat.id or attachment.status != APPROVED:
                raise NotFound(f"Attachment {attachment_id} was not found in this chat.")
            ticket = new_token()
            expires = utcnow() + timedelta(seconds=seconds or DEFAULT_DOWNLOAD_SECONDS)
            await uow.connections.add(hash_token(ticket), Connection(DOWNLOAD, attachment.id, expires))
            return Ticket(attachment, ticket, expires)

    async def fetch(self, attachment_id: str, ticket: str | None) -> tuple[StoredAttachment, bytes]:
        async with self.storage.transaction() as uow:
            attachment = await attachment_of_ticket(uow, attachment_id, ticket, DOWNLOAD)
        data = await self.files.get(attachment.id)
        if data is None:
            raise NotFound(f"The bytes of attachment {attachment_id} are missing.")
        return attachment, data

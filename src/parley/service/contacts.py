"""Use cases for contacts through the Connect API: start a chat, stop, describe, attributes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.contact import (
    CUSTOMER,
    MONITOR_SEGMENT,
    QUEUED,
    SENDABLE_MESSAGE_TYPES,
    Contact,
    Participant,
    check_attributes,
    check_chat_duration,
    check_supported_content_types,
)
from parley.domain.errors import ContactNotActive, InvalidParameter, InvalidRequest, NotFound
from parley.domain.ids import hash_token, new_id, new_item_id, new_token
from parley.domain.resources import ContactFlow
from parley.domain.transcript import Chat, Item
from parley.service.access import allow
from parley.service.chat_steps import end_chat_txn, open_chat_txn
from parley.service.lookups import get_instance, get_resource
from parley.service.monitor_steps import stop_monitoring_txn
from parley.service.notify import Notifier
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork


@dataclass(frozen=True)
class StartedChat:
    contact_id: str
    participant_id: str
    participant_token: str


@dataclass(frozen=True)
class ChatRequest:
    instance_id: str
    contact_flow_id: str
    display_name: str
    attributes: dict[str, str]
    initial_message_type: str | None = None
    initial_message: str | None = None
    chat_duration_minutes: int | None = None
    supported_content_types: list[str] | None = None
    related_contact_id: str | None = None
    client_token: str | None = None


async def get_contact(uow: UnitOfWork, instance_id: str, contact_id: str, *, for_update: bool = False) -> Contact:
    found = await uow.contacts.find(instance_id, contact_id, for_update=for_update)
    if found is None:
        raise NotFound(
            f"Contact {contact_id} was not found in instance {instance_id}.",
            resource_type="CONTACT", resource_id=contact_id,
        )
    return found


class ContactService:
    def __init__(self, storage: Storage, notifier: Notifier) -> None:
        self.storage = storage
        self.notifier = notifier

    async def start_chat(self, caller: Caller, request: ChatRequest) -> StartedChat:
        allow(caller, request.instance_id, "StartChatContact")
        duration = check_chat_duration(request.chat_duration_minutes)
        check_attributes(request.attributes)
        content_types = check_supported_content_types(request.supported_content_types)
        if request.initial_message is not None:
            if request.initial_message_type not in SENDABLE_MESSAGE_TYPES:
                raise InvalidParameter(f"Unsupported InitialMessage content type {request.initial_message_type}.")
            if request.initial_message_type not in content_types:
                raise InvalidParameter(
                    f"InitialMessage content type {request.initial_message_type} is not in "
                    "SupportedMessagingContentTypes."
                )
            if len(request.initial_message.encode()) > 16384:
                raise InvalidParameter("InitialMessage content is larger than 16,384 bytes.")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, request.instance_id)
            scope = f"StartChatContact/{instance.id}"
            if request.client_token:
                earlier = await uow.idempotency.find(scope, request.client_token)
                if earlier is not None:
                    return StartedChat(**earlier)
            flow = await get_resource(uow, ContactFlow, instance.id, request.contact_flow_id)
            if flow.flow_type != "CONTACT_FLOW":
                raise InvalidRequest(
                    f"Flow '{flow.name}' is of type {flow.flow_type}; a chat starts with a CONTACT_FLOW flow."
                )
            if request.related_contact_id:
                await get_contact(uow, instance.id, request.related_contact_id)
            now = utcnow()
            contact_id = new_id()
            contact = Contact(
                instance_id=instance.id, id=contact_id, initial_contact_id=contact_id, channel="CHAT",
                initiation_method="API", initiation_time=now, last_update_time=now, state=QUEUED,
                related_contact_id=request.related_contact_id, queue_id=flow.target_queue_id,
                enqueue_time=now if flow.target_queue_id else None, flow_id=flow.id,
                chat_duration_minutes=duration, customer_display_name=request.display_name,
                attributes=dict(request.attributes), multi_party=instance.multi_party_chat,
                supported_content_types=content_types,
            )
            token = new_token()
            customer = Participant(
                id=new_id(), chat_id=contact_id, contact_id=contact_id, role=CUSTOMER,
                display_name=request.display_name, token_hash=hash_token(token),
                token_expiry=now + timedelta(minutes=duration), created=now,
            )
            initial = None
            if request.initial_message is not None and request.initial_message_type is not None:
                initial = Item(
                    chat_id=contact_id, id=new_item_id(), type="MESSAGE", content_type=request.initial_message_type,
                    content=request.initial_message, absolute_time=now, contact_id=contact_id,
                    participant_id=customer.id, display_name=customer.display_name, role=CUSTOMER,
                )
            await uow.contacts.add(contact)
            await uow.participants.add(customer)
            chat = Chat(contact_id, instance.id, 0, False, contact.expires_at)
            await open_chat_txn(uow, self.notifier, chat, customer, initial)
            self.notifier.wake_routing_after_commit(uow)
            started = StartedChat(contact_id, customer.id, token)
            if request.client_token:
                await uow.idempotency.save(scope, request.client_token, started.__dict__)
            return started

    async def stop(self, caller: Caller, instance_id: str, contact_id: str, reason: str | None = None) -> None:
        allow(caller, instance_id, "StopContact")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            contact = await uow.contacts.find(instance.id, contact_id)
            chat = await uow.chats.find(contact.initial_contact_id, for_update=True) if contact else None
            if contact is None or chat is None or chat.ended:
                raise ContactNotActive(f"Contact {contact_id} is not active or does not exist.")
            if contact.segment_kind == MONITOR_SEGMENT:  # a monitoring contact: only the monitoring ends
                await stop_monitoring_txn(uow, self.notifier, contact, reason or "API")
                return
            await end_chat_txn(uow, self.notifier, contact.initial_contact_id, reason or "API")

    async def describe(self, caller: Caller, instance_id: str, contact_id: str) -> Contact:
        allow(caller, instance_id, "DescribeContact")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            return await get_contact(uow, instance.id, contact_id)

    async def get_attributes(self, caller: Caller, instance_id: str, initial_contact_id: str) -> dict[str, str]:
        allow(caller, instance_id, "GetContactAttributes")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            root = await get_contact(uow, instance.id, initial_contact_id)
            if root.initial_contact_id != root.id:
                root = await get_contact(uow, instance.id, root.initial_contact_id)
            return dict(root.attributes)

    async def update_attributes(
        self, caller: Caller, instance_id: str, initial_contact_id: str, attributes: dict[str, str]
    ) -> None:
        allow(caller, instance_id, "UpdateContactAttributes")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            root = await get_contact(uow, instance.id, initial_contact_id, for_update=True)
            if root.initial_contact_id != root.id:
                raise InvalidRequest(
                    f"Contact {initial_contact_id} is not an initial contact; "
                    f"use its InitialContactId {root.initial_contact_id}."
                )
            merged = {**root.attributes, **attributes}
            check_attributes(merged)
            await uow.contacts.update(replace(root, attributes=merged, last_update_time=utcnow()))


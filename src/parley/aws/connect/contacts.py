"""Connect operations on contacts: start a chat, stop, describe, contact attributes."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, ConnectContext
from parley.aws.shapes import iso
from parley.domain.contact import Contact
from parley.service.contacts import ChatRequest


class ContactHandlers:
    def __init__(self, ctx: ConnectContext) -> None:
        self.ctx = ctx

    async def start_chat_contact(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        initial = p.get("InitialMessage") or {}
        started = await self.ctx.contacts.start_chat(call.caller, ChatRequest(
            instance_id=p["InstanceId"], contact_flow_id=p["ContactFlowId"],
            display_name=p["ParticipantDetails"]["DisplayName"], attributes=p.get("Attributes") or {},
            initial_message_type=initial.get("ContentType"), initial_message=initial.get("Content"),
            chat_duration_minutes=p.get("ChatDurationInMinutes"),
            supported_content_types=p.get("SupportedMessagingContentTypes"),
            related_contact_id=p.get("RelatedContactId"), client_token=p.get("ClientToken"),
        ))
        return {"ContactId": started.contact_id, "ParticipantId": started.participant_id,
                "ParticipantToken": started.participant_token}

    async def stop_contact(self, call: ConnectCall) -> None:
        p = call.params
        reason = (p.get("DisconnectReason") or {}).get("Code")
        await self.ctx.contacts.stop(call.caller, p["InstanceId"], p["ContactId"], reason)

    async def create_participant(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        details = p["ParticipantDetails"]
        bot, token = await self.ctx.chat.add_bot(
            call.caller, p["InstanceId"], p["ContactId"], details.get("DisplayName"), p.get("ClientToken"),
            role=details.get("ParticipantRole"),
        )
        return {"ParticipantCredentials": {"ParticipantToken": token, "Expiry": iso(bot.token_expiry)},
                "ParticipantId": bot.id}

    def _contact(self, c: Contact) -> dict[str, Any]:
        agent: dict[str, Any] | None = None
        if c.agent_user_id:
            agent = {
                "Id": c.agent_user_id, "ConnectedToAgentTimestamp": c.connected_to_agent_time,
                "AfterContactWorkStartTimestamp": c.after_contact_work_start,
                "AfterContactWorkEndTimestamp": c.after_contact_work_end,
            }
            if c.after_contact_work_start and c.after_contact_work_end:
                agent["AfterContactWorkDuration"] = int(
                    (c.after_contact_work_end - c.after_contact_work_start).total_seconds()
                )
        return {
            "Arn": self.ctx.arn(c.instance_id, c.KIND, c.id), "Id": c.id, "InitialContactId": c.initial_contact_id,
            "PreviousContactId": c.previous_contact_id, "RelatedContactId": c.related_contact_id,
            "InitiationMethod": c.initiation_method, "Channel": c.channel, "Name": c.name,
            "Description": c.description,
            "QueueInfo": {"Id": c.queue_id, "EnqueueTimestamp": c.enqueue_time} if c.queue_id else None,
            "AgentInfo": agent, "InitiationTimestamp": c.initiation_time, "DisconnectTimestamp": c.disconnect_time,
            "LastUpdateTimestamp": c.last_update_time,
            "ChatMetrics": {"ChatContactMetrics": {"MultiParty": c.multi_party}},
            "Attributes": dict(c.attributes) or None,
            "NextContacts": [
                {"Type": "QUICK_CONNECT", "NextContactMetadata": {"QuickConnectContactData": {
                    "ContactId": leg.contact_id, "InitiationTimestamp": leg.initiation_time,
                    "QuickConnectId": leg.quick_connect_id, "QuickConnectName": leg.quick_connect_name,
                    "QuickConnectType": leg.quick_connect_type,
                }}}
                for leg in c.next_contacts
            ] or None,
        }

    async def describe_contact(self, call: ConnectCall) -> dict[str, Any]:
        contact = await self.ctx.contacts.describe(call.caller, call.params["InstanceId"], call.params["ContactId"])
        return {"Contact": self._contact(contact)}

    async def get_contact_attributes(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        attributes = await self.ctx.contacts.get_attributes(call.caller, p["InstanceId"], p["InitialContactId"])
        return {"Attributes": attributes}

    async def update_contact_attributes(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.contacts.update_attributes(
            call.caller, p["InstanceId"], p["InitialContactId"], p["Attributes"]
        )

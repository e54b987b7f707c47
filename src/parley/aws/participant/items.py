"""Transcript items in the Participant Service's wire form (GetTranscript and ``aws/chat`` frames)."""

from __future__ import annotations

from typing import Any

import orjson

from parley.aws.shapes import iso
from parley.domain.transcript import METADATA, Item


def item_json(item: Item) -> dict[str, Any]:
    """The ``Item`` shape, plus ``InitialContactId`` that websocket clients route by."""
    out: dict[str, Any] = {
        "AbsoluteTime": iso(item.absolute_time),
        "Content": item.content,
        "ContentType": METADATA if item.type == "MESSAGEMETADATA" else item.content_type,
        "Id": item.id,
        "Type": item.type,
        "ParticipantId": item.participant_id,
        "DisplayName": item.display_name,
        "ParticipantRole": item.role,
        "InitialContactId": item.chat_id,
        "ContactId": item.contact_id,
    }
    if item.attachments:
        out["Attachments"] = [
            {"ContentType": a.content_type, "AttachmentId": a.attachment_id, "AttachmentName": a.name,
             "Status": a.status}
            for a in item.attachments
        ]
    if item.message_id:
        out["MessageMetadata"] = {
            "MessageId": item.message_id,
            "Receipts": [
                {k: v for k, v in (
                    ("DeliveredTimestamp", iso(r.delivered) if r.delivered else None),
                    ("ReadTimestamp", iso(r.read) if r.read else None),
                    ("RecipientParticipantId", r.recipient_participant_id),
                ) if v is not None}
                for r in item.receipts
            ],
        }
    return {k: v for k, v in out.items() if v is not None}


def chat_frame(item: Item) -> str:
    """An ``aws/chat`` websocket frame: the item travels as a JSON string, as ChatJS parses it."""
    content = orjson.dumps(item_json(item)).decode()
    return orjson.dumps({"topic": "aws/chat", "contentType": "application/json", "content": content}).decode()

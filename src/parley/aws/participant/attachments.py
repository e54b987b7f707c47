"""Participant Service attachment operations: StartAttachmentUpload, CompleteAttachmentUpload, GetAttachment."""

from __future__ import annotations

from typing import Any

from parley.aws.restjson import Call
from parley.aws.shapes import iso
from parley.service.attachments import AttachmentService


class AttachmentHandlers:
    def __init__(self, attachments: AttachmentService, base_url: str) -> None:
        self.attachments = attachments
        self.base_url = base_url

    async def start_attachment_upload(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        ticket = await self.attachments.start_upload(
            call.caller, p["ContentType"], p["AttachmentSizeInBytes"], p["AttachmentName"], p["ClientToken"]
        )
        return {
            "AttachmentId": ticket.attachment.id,
            "UploadMetadata": {
                "Url": f"{self.base_url}/participant/attachments/{ticket.attachment.id}?ticket={ticket.ticket}",
                "UrlExpiry": iso(ticket.expires),
                "HeadersToInclude": {"Content-Type": ticket.attachment.content_type},
            },
        }

    async def complete_attachment_upload(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        await self.attachments.complete(call.caller, p["AttachmentIds"], p["ClientToken"])
        return {}

    async def get_attachment(self, call: Call[str]) -> dict[str, Any]:
        p = call.params
        ticket = await self.attachments.download_ticket(call.caller, p["AttachmentId"], p.get("UrlExpiryInSeconds"))
        disposition = "inline" if p.get("UrlContentDisposition") == "INLINE" else "attachment"
        return {
            "Url": f"{self.base_url}/participant/attachments/{ticket.attachment.id}"
                   f"?ticket={ticket.ticket}&disposition={disposition}",
            "UrlExpiry": iso(ticket.expires),
            "AttachmentSizeInBytes": ticket.attachment.size,
        }

"""The upload and download URLs that GetAttachment / StartAttachmentUpload hand out (CORS-enabled)."""

from __future__ import annotations

from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from parley.domain.attachments import MAX_ATTACHMENT_BYTES
from parley.domain.errors import AccessDenied, Conflict, DomainError, InvalidParameter, NotFound
from parley.service.attachments import AttachmentService

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, PUT, OPTIONS",
    "Access-Control-Allow-Headers": "content-type, x-amz-meta-*, content-disposition",
    "Access-Control-Max-Age": "600",
}
STATUS = {AccessDenied: 403, NotFound: 404, Conflict: 409, InvalidParameter: 400}


def _error(exc: DomainError) -> Response:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    return Response(orjson.dumps({"Message": exc.message}), status, CORS, media_type="application/json")


def _too_large() -> Response:
    message = f"The upload is larger than the attachment size limit of {MAX_ATTACHMENT_BYTES} bytes."
    return Response(orjson.dumps({"Message": message}), 413, {**CORS, "Connection": "close"},
                    media_type="application/json")


def _content_length(request: Request) -> int | None:
    """The declared body length; a malformed one is refused like a wrong one."""
    text = request.headers.get("content-length")
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidParameter("The Content-Length header is not a number of bytes.")
    return int(text)


class AttachmentFiles:
    def __init__(self, attachments: AttachmentService) -> None:
        self.attachments = attachments

    async def handle(self, request: Request) -> Response:
        attachment_id = request.path_params["attachment_id"]
        ticket = request.query_params.get("ticket")
        try:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=CORS)
            if request.method == "PUT":
                length = _content_length(request)
                if length is not None and length > MAX_ATTACHMENT_BYTES:
                    return _too_large()
                await self.attachments.receive(attachment_id, ticket, request.headers.get("content-type"), length,
                                               request.stream())
                return Response(status_code=200, headers=CORS)
            attachment, body = await self.attachments.fetch(attachment_id, ticket)
        except DomainError as exc:
            return _error(exc)
        disposition = "inline" if request.query_params.get("disposition") == "inline" else "attachment"
        headers = {
            **CORS,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=60",
        }
        return Response(body, 200, headers, media_type=attachment.content_type)

"""Attachment rules: Connect's size limit, allowed file types, and per-chat count quota."""

from __future__ import annotations

from pathlib import PurePosixPath

from parley.domain.errors import InvalidParameter

# Connect's defaults: 20 MB per attachment, 35 attachments per chat conversation.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS_PER_CHAT = 35
# Upload URLs stay valid this long; download URL lifetimes are 5-300 s as GetAttachment allows.
UPLOAD_URL_SECONDS = 300
DEFAULT_DOWNLOAD_SECONDS = 300

# The file types Connect accepts for chat attachments, with the MIME types each may be sent as.
ALLOWED_TYPES: dict[str, frozenset[str]] = {
    ".csv": frozenset({"text/csv"}),
    ".doc": frozenset({"application/msword"}),
    ".docx": frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
    ".heic": frozenset({"image/heic"}),
    ".jfif": frozenset({"image/jpeg", "image/pjpeg"}),
    ".jpeg": frozenset({"image/jpeg"}),
    ".jpg": frozenset({"image/jpeg"}),
    ".mov": frozenset({"video/quicktime"}),
    ".mp4": frozenset({"video/mp4"}),
    ".pdf": frozenset({"application/pdf"}),
    ".png": frozenset({"image/png"}),
    ".ppt": frozenset({"application/vnd.ms-powerpoint"}),
    ".pptx": frozenset({"application/vnd.openxmlformats-officedocument.presentationml.presentation"}),
    ".rtf": frozenset({"application/rtf", "text/rtf"}),
    ".txt": frozenset({"text/plain"}),
    ".wav": frozenset({"audio/wav", "audio/x-wav", "audio/vnd.wave"}),
    ".xls": frozenset({"application/vnd.ms-excel"}),
    ".xlsx": frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
}


def check_attachment(name: str, content_type: str, size: int) -> None:
    """Refuse a file Connect would refuse: unknown type, a type that does not match its name, too big."""
    if "/" in name or "\\" in name or name in (".", ".."):
        raise InvalidParameter(f"Attachment name '{name}' must be a plain file name.")
    suffix = PurePosixPath(name).suffix.lower()
    allowed = ALLOWED_TYPES.get(suffix)
    if allowed is None:
        raise InvalidParameter(
            f"Attachments of type '{suffix or name}' are not allowed; allowed: {', '.join(sorted(ALLOWED_TYPES))}."
        )
    base_type = content_type.split(";", 1)[0].strip().lower()
    if base_type not in allowed:
        raise InvalidParameter(
            f"Content type {content_type} does not match a {suffix} file (expected {', '.join(sorted(allowed))})."
        )
    if size < 1 or size > MAX_ATTACHMENT_BYTES:
        raise InvalidParameter(
            f"AttachmentSizeInBytes is {size}; attachments must be 1 to {MAX_ATTACHMENT_BYTES} bytes."
        )

"""Attachment rules: Connect's file types (the content type must match the name), 1 byte to 20 MB, and plain
names only; each refusal is InvalidParameter with a message saying why."""

from __future__ import annotations

import pytest

from parley.domain.attachments import ALLOWED_TYPES, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_CHAT, check_attachment
from parley.domain.errors import InvalidParameter


@pytest.mark.parametrize(("name", "content_type"), [
    ("report.pdf", "application/pdf"),
    ("PHOTO.JPG", "image/jpeg"),  # the suffix in any case
    ("notes.txt", "text/plain; charset=utf-8"),  # parameters after the type
    ("scan.jfif", "image/pjpeg"),
    ("sound.wav", "Audio/X-WAV"),
])
def test_allowed_files(name: str, content_type: str) -> None:
    check_attachment(name, content_type, 1)
    check_attachment(name, content_type, MAX_ATTACHMENT_BYTES)


@pytest.mark.parametrize(("name", "content_type", "size", "message"), [
    ("run.exe", "application/octet-stream", 10, "Attachments of type '.exe' are not allowed; allowed: .csv, "),
    ("README", "text/plain", 10, "Attachments of type 'README' are not allowed"),
    ("report.pdf", "image/png", 10, "Content type image/png does not match a .pdf file (expected application/pdf)."),
    ("report.pdf", "application/pdf", 0, f"AttachmentSizeInBytes is 0; attachments must be 1 to {20 * 1024 * 1024}"),
    ("report.pdf", "application/pdf", MAX_ATTACHMENT_BYTES + 1, "AttachmentSizeInBytes is 20971521;"),
    ("../etc/passwd.txt", "text/plain", 10, "Attachment name '../etc/passwd.txt' must be a plain file name."),
    ("a\\b.txt", "text/plain", 10, "must be a plain file name"),
    ("..", "text/plain", 10, "must be a plain file name"),
])
def test_refused_files(name: str, content_type: str, size: int, message: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_attachment(name, content_type, size)
    assert message in caught.value.message


def test_connect_limits() -> None:
    assert (MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_CHAT) == (20 * 1024 * 1024, 35)
    assert all(suffix.startswith(".") and suffix == suffix.lower() for suffix in ALLOWED_TYPES)

"""The errors ``parley.client`` raises: the server's AWS-style errors and the end of an item stream."""

from __future__ import annotations

from collections.abc import Mapping

import orjson


class ParleyError(Exception):
    """An error answer from Parley: the AWS error ``code`` (e.g. ``AccessDeniedException``), its message and
    the HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.message = message
        self.status = status

    def __reduce__(self) -> tuple[type[ParleyError], tuple[str, str, int]]:
        return type(self), (self.code, self.message, self.status)


class StreamEnded(Exception):
    """The participant's item stream ended (chat ended, participant left or client closed) before an awaited
    item arrived."""


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> ParleyError:
    """Build the :class:`ParleyError` of a restJson error answer.

    The code comes from the ``x-amzn-ErrorType`` header (``Code:detail`` forms are cut at the colon), else from
    the body's ``__type``/``code``; the message from ``Message`` or ``message``.
    """
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = headers.get("x-amzn-errortype", "").split(":", 1)[0].strip()
    if not code:
        code = str(data.get("__type") or data.get("code") or data.get("Code") or "").rsplit("#", 1)[-1]
    message = data.get("Message") or data.get("message")
    if not isinstance(message, str):
        message = body.decode("utf-8", "replace")[:500] if body else ""
    return ParleyError(code or f"HTTP{status}", message, status)

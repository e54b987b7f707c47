"""Reads a request body with a size limit, enforced while reading: a declared ``Content-Length`` above the limit
is refused before a byte of the body is read, and a body that grows past it (chunked, or longer than declared)
is refused as soon as it does, so no more than the limit (plus one chunk of the server's read buffer) is ever
held. Each surface answers :class:`BodyTooLarge` with 413 in its own error shape.

The limits, from the largest legitimate request of each surface (the botocore models for the rest-json ones):

* Connect API: 1 MiB. The biggest bodies Parley implements are contact attributes (``UpdateContactAttributes``,
  ``StartChatContact``: Connect's quota is 32 KB of attributes per contact) and an initial chat message
  (``ChatContent``, at most 16,384 characters). botocore's JSON escapes every non-ASCII character (``\\uXXXX``,
  6 bytes; 12 for a character outside the BMP), so the largest legitimate body is about 32 KB x 6 + 16,384 x 12
  = 390 KB; 1 MiB leaves room for everything else in the request.
* Participant Service: 128 KiB. ``SendMessage``'s ``Content`` is the biggest input of any operation: at most
  16,384 characters (``ChatContent``), which Parley holds to 16,384 bytes of UTF-8 as Connect does. Escaped by
  boto3, each byte takes at most 6 (a control character as ``\u0001``; a 4-byte character takes 12 for 4), so
  the largest legitimate body is 98,304 bytes and some envelope.
* CTI ``/api``: 1 MiB. StreamsJS's worker sends ``SendClientLogs`` once more than 400 log lines are buffered,
  and a line's text has no length limit in StreamsJS (some carry a whole snapshot), so a real CCP's request
  can pass 64 KiB; the other CTI operations are small.
"""

from __future__ import annotations

from contextlib import aclosing

from starlette.requests import Request

# See the module docstring for why each value (the largest legitimate request, with JSON escaping).
CONNECT_BODY_LIMIT = 1024 * 1024
PARTICIPANT_BODY_LIMIT = 128 * 1024
CTI_BODY_LIMIT = 1024 * 1024
# The error code of a 413: AWS's own name for it (Lambda's Invoke, API Gateway's REQUEST_TOO_LARGE response);
# neither Connect nor the Participant Service models a 413 error shape.
TOO_LARGE = "RequestEntityTooLargeException"


class BodyTooLarge(Exception):
    """The request body is (or is declared to be) longer than ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes, the most this endpoint accepts.")
        self.limit = limit
        self.message = str(self)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body of ``request``, at most ``limit`` bytes, else :class:`BodyTooLarge`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)  # refused before reading (and before ``100 Continue``)
    chunks: list[bytes] = []
    total = 0
    async with aclosing(request.stream()) as stream:  # raises ClientDisconnect when the client goes away
        async for chunk in stream:
            total += len(chunk)
            if total > limit:
                raise BodyTooLarge(limit)
            if chunk:
                chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)

"""The console's form bodies: ``application/x-www-form-urlencoded`` of bounded size, read once, every value text.

Only reading is done here (no rule of the console's own): what a value must be is the services' to say
(:mod:`parley.service.inputs` holds the rules the Connect model states). A value holding NUL is refused, as the
Connect API's edge refuses it (no database column can hold one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

# The largest form of the console (a security profile's permissions) is a few kilobytes.
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 400


class FormUnreadable(Exception):
    """The body is not a console form; the message says why, for a person."""


@dataclass(frozen=True)
class Form:
    """The fields of a posted form, in order (a name may repeat: checkboxes)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str, default: str = "", *, strip: bool = True) -> str:
        for key, value in self.pairs:
            if key == name:
                return value.strip() if strip else value
        return default

    def all(self, name: str) -> list[str]:
        """Every non-empty value of ``name``, once each, in order."""
        return list(dict.fromkeys(v.strip() for k, v in self.pairs if k == name and v.strip()))

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def values(self) -> dict[str, str]:
        """The first value of each field (what a re-shown form fills in)."""
        shown: dict[str, str] = {}
        for key, value in self.pairs:
            shown.setdefault(key, value)
        return shown


async def read_form(request: Request) -> Form:
    """The posted form; :class:`FormUnreadable` for another content type, a body too large, bad UTF-8 or NUL."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormUnreadable("Send the form as application/x-www-form-urlencoded (as a browser does).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormUnreadable(f"The form is larger than {MAX_FORM_BYTES // 1024} KB.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormUnreadable("The form could not be read (it must be UTF-8 form fields).") from exc
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        raise FormUnreadable("The form holds a NUL character, which no field may contain.")
    return Form(pairs)

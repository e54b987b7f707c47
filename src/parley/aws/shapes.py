"""Binds request members from uri, query, headers and body, validates them against the model's shapes,
and serializes outputs from output shapes, all as botocore's rest-json protocol expects."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import regex
from botocore.model import OperationModel, Shape, StructureShape


class SerializationError(Exception):
    """The request body is not JSON, or a value has the wrong JSON type."""


class ValidationFailed(Exception):
    """Members violate the model's constraints; ``problems`` are Coral-style sentences."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    @property
    def message(self) -> str:
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        return f"{count} validation {noun} detected: " + "; ".join(self.problems)


# The only character no string member may hold: PostgreSQL's text cannot store it (a lookup by an id holding it
# fails inside the driver), and no name, id, token or message of Connect's needs it.
NUL = "\x00"
# Integer and decimal text as the services read it from a URI, query string or header: ASCII digits only (Python's
# int() and float() also take "1_000", " 12 ", Arabic-Indic digits, "nan" and "inf").
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> regex.Pattern[str] | None:
    # Model patterns are Java regexes with Unicode classes (\p{L}); the `regex` module speaks them.
    # Some carry artifacts of their Java source that the service itself does not see: doubled
    # backslashes (\\+[1-9]\\d{1,14}$ stands for \+[1-9]\d{1,14}$) and JavaScript-style /.../ delimiters.
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        pattern = pattern[1:-1]
    pattern = _end_anchors(pattern.replace("\\\\", "\\"))
    try:
        return regex.compile(pattern)
    except regex.error:
        return None


def _end_anchors(pattern: str) -> str:
    """``pattern`` with each ``$`` anchor (outside character classes, unescaped) written ``\\Z``: in Python a
    ``$`` also matches before a final newline, so ``^[a-z]+$`` would let ``"abc\\n"`` through."""
    out: list[str] = []
    escaped = False
    in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("\\Z")
            continue
        out.append(char)
    return "".join(out)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if len(value) <= 100 else value[:100] + "…"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        return "[...]" if isinstance(value, list) else "{...}"
    return str(value)


def validate(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """Append a sentence to ``problems`` for every constraint ``value`` breaks."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        for req in meta.get("required", []):
            if value.get(req) is None:
                problems.append(f"Value null at '{_join(path, req)}' failed to satisfy constraint: "
                                "Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                validate(member, value[name], _join(path, name), problems)
        return
    # Like Coral, never echo a sensitive member (a password, a name) back: "Value at 'password' failed …".
    fail = _Fail(value, path, bool(meta.get("sensitive")))
    if kind in ("string", "list", "map", "blob"):
        size = len(value.encode()) if kind == "blob" and isinstance(value, str) else len(value)
        if "min" in meta and size < meta["min"]:
            problems.append(f"{fail} have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            problems.append(f"{fail} have length less than or equal to {meta['max']}")
    if kind == "string":
        if NUL in value:
            problems.append(f"{fail} not contain the NUL character (U+0000)")
        enum = shape.enum
        if enum and value not in enum:
            problems.append(f"{fail} satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and not compiled.search(value):
            problems.append(f"{fail} satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{fail} have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{fail} have value less than or equal to {meta['max']}")
    elif kind == "list":
        for i, item in enumerate(value, start=1):
            _validate_item(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map":
        for key, item in value.items():
            shown = _show(key)  # a path echoes the key: long keys are cut as values are
            validate(shape.key, key, f"{path}.{shown}.key", problems)
            _validate_item(shape.value, item, f"{path}.{shown}.value", problems)


class _Fail:
    """The start of a constraint sentence ("Value 'x' at 'path' failed to satisfy constraint: Member must"),
    written out only when a constraint fails (most values break none)."""

    __slots__ = ("path", "sensitive", "value")

    def __init__(self, value: Any, path: str, sensitive: bool) -> None:
        self.value = value
        self.path = path
        self.sensitive = sensitive

    def __format__(self, spec: str) -> str:
        shown = "Value" if self.sensitive else f"Value '{_show(self.value)}'"
        return f"{shown} at '{self.path}' failed to satisfy constraint: Member must"


def _validate_item(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """A list member or map value: JSON null is not a value (``[null]``, ``{"a": null}``)."""
    if value is None:
        problems.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")
    else:
        validate(shape, value, path, problems)


def _join(path: str, member: str) -> str:
    return f"{path}.{_camel(member)}" if path else _camel(member)


def from_json(shape: Shape, value: Any, path: str) -> Any:
    """Check the JSON type of ``value`` against ``shape`` and convert timestamps and blobs."""
    if value is None:
        return None
    kind = shape.type_name
    where = path or "the request body"
    if kind == "structure":
        if not isinstance(value, dict):
            raise SerializationError(f"Expected an object at '{where}'.")
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[name] = from_json(member, value[name], _join(path, name))
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationError(f"Expected a list at '{where}'.")
        return [from_json(shape.member, v, f"{path}.{i}.member") for i, v in enumerate(value, start=1)]
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationError(f"Expected a map at '{where}'.")
        return {str(k): from_json(shape.value, v, f"{path}.{k}.value") for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise SerializationError(f"Expected a string at '{where}'.")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SerializationError(f"Expected true or false at '{where}'.")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SerializationError(f"Expected an integer at '{where}'.")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SerializationError(f"Expected a number at '{where}'.")
        return float(value)
    if kind == "timestamp":
        return _timestamp(value, where)
    if kind == "blob":
        if not isinstance(value, str):
            raise SerializationError(f"Expected base64 text at '{where}'.")
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise SerializationError(f"Expected base64 text at '{where}'.") from exc
    return value


def _timestamp(value: Any, where: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise SerializationError(f"Expected a timestamp at '{where}'.")


def _from_text(shape: Shape, text: str, where: str) -> Any:
    """Convert a uri, query or header value to the member's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            if not _INTEGER_TEXT.fullmatch(text):
                raise ValueError(text)
            return int(text)
        if kind in ("float", "double"):
            if not _DECIMAL_TEXT.fullmatch(text):
                raise ValueError(text)
            return float(text)
    except ValueError as exc:
        raise ValidationFailed([f"Value '{_show(text)}' at '{where}' failed to satisfy constraint: "
                                "Member must be a number"]) from exc
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValidationFailed([f"Value '{_show(text)}' at '{where}' failed to satisfy constraint: "
                                    "Member must be true or false"])
        return text.lower() == "true"
    if kind == "timestamp":
        try:
            return _timestamp(float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text, where)
        except SerializationError as exc:
            raise ValidationFailed([f"Value '{_show(text)}' at '{where}' failed to satisfy constraint: "
                                    "Member must be a timestamp"]) from exc
    return text


def bind_request(
    op: OperationModel, labels: Mapping[str, str], query: Mapping[str, list[str]],
    headers: Mapping[str, str], body: Any,
) -> dict[str, Any]:
    """The operation's input as a dict of member name -> value, validated against the input shape."""
    shape = op.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload_member = shape.serialization.get("payload")
    body_members: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        where = _camel(name)
        if location == "uri":
            if wire in labels:
                params[name] = _from_text(member, unquote(labels[wire]), where)
        elif location == "querystring":
            values = query.get(wire)
            if values:
                if member.type_name == "list":
                    params[name] = [_from_text(member.member, v, where) for v in values]
                elif member.type_name != "map":
                    params[name] = _from_text(member, values[0], where)
        elif location == "header":
            value = _header(headers, wire)
            if value is not None:
                params[name] = _from_text(member, value, where)
        elif location is None and name != payload_member:
            body_members[name] = member
    if payload_member:
        params[payload_member] = from_json(shape.members[payload_member], body, "")
    elif body_members:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise SerializationError("Expected a JSON object as the request body.")
        for name, member in body_members.items():
            if body.get(name) is not None:
                params[name] = from_json(member, body[name], _camel(name))
    problems: list[str] = []
    validate(shape, params, "", problems)
    if problems:
        raise ValidationFailed(problems)
    return params


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def to_json(shape: Shape, value: Any, *, epoch_timestamps: bool) -> Any:
    """Serialize ``value`` through ``shape``: unknown keys dropped, timestamps in the service's format."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            item = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
            if item is not None:
                out[name] = to_json(member, item, epoch_timestamps=epoch_timestamps)
        return out
    if kind == "list":
        return [to_json(shape.member, v, epoch_timestamps=epoch_timestamps) for v in value]
    if kind == "map":
        return {k: to_json(shape.value, v, epoch_timestamps=epoch_timestamps) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, datetime):
        if shape.serialization.get("timestampFormat") == "iso8601" or not epoch_timestamps:
            return iso(value)
        return round(value.timestamp(), 3)
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def iso(value: datetime) -> str:
    """``2019-11-08T02:41:28.172Z``: the ISO-8601 form Connect uses in strings."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without its "+00:00"


def output_headers(op: OperationModel, result: Mapping[str, Any]) -> dict[str, str]:
    shape = op.output_shape
    headers: dict[str, str] = {}
    if shape is None:
        return headers
    for name, member in shape.members.items():
        if member.serialization.get("location") == "header" and result.get(name) is not None:
            headers[member.serialization.get("name", name)] = str(result[name])
    return headers

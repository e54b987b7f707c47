"""An independent reading of the model's constraints, for the fuzzers' oracle: a request that breaks one
(a missing required member, a wrong JSON type in the body, a length, range, enum or pattern violation, a NUL
character) must be refused with a 4xx. Patterns written for Java's Unicode classes are left out; lengths count
code points, as Parley does."""

from __future__ import annotations

import re
from typing import Any

from botocore.model import Shape, StructureShape


def problems(shape: Shape, value: Any, path: str = "", *, located: bool = False) -> list[str]:
    """What ``value`` breaks of ``shape``'s constraints. ``located`` values travel in the URI, query or a header,
    where boto3 turns scalars into text, so their JSON type is not checked."""
    kind = shape.type_name
    meta = shape.metadata
    found: list[str] = []
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        for name in meta.get("required", []):
            member = shape.members[name]
            if value.get(name) is None and not member.metadata.get("idempotencyToken"):
                found.append(f"{path}.{name}: missing")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                location = member.serialization.get("location")
                if location == "header":  # servers trim a header value's spaces: only a NUL is certain
                    if isinstance(value[name], str) and "\x00" in value[name]:
                        found.append(f"{path}.{name}: holds a NUL")
                    continue
                if location == "uri" and value[name] == "":
                    continue  # the path loses a segment: on the wire this is another operation's request
                found += problems(member, value[name], f"{path}.{name}", located=bool(location))
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [] if located else [f"{path}: not a string"]
        found += _length(meta, len(value), path)
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: not in the enum")
        if "\x00" in value:
            found.append(f"{path}: holds a NUL (Parley refuses U+0000 in every string)")
        pattern = _anchored(meta.get("pattern"))
        if pattern is not None and not pattern.search(value):
            found.append(f"{path}: does not match {pattern.pattern}")
        return found
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [] if located else [f"{path}: not an integer"]
        return _range(meta, value, path)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [] if located else [f"{path}: not a number"]
        return _range(meta, value, path)
    if kind == "boolean":
        return [] if located or isinstance(value, bool) else [f"{path}: not a boolean"]
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        found += _length(meta, len(value), path)
        for i, item in enumerate(value):
            found += problems(shape.member, item, f"{path}[{i}]", located=located)
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        found += _length(meta, len(value), path)
        for key, item in value.items():
            found += problems(shape.key, key, f"{path}.<key {key!r:.40}>")
            found += problems(shape.value, item, f"{path}.{key!s:.40}")
        return found
    return found


def _anchored(pattern: str | None) -> re.Pattern[str] | None:
    """The model's pattern as ECMAScript reads it (``$`` is the end of the text, never before a final newline),
    for the patterns Python's ``re`` can read (those without Java's Unicode classes)."""
    if not pattern:
        return None
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        pattern = pattern[1:-1]
    pattern = pattern.replace("\\\\", "\\")
    if "\\p" in pattern or "\\P" in pattern:
        return None
    try:
        return re.compile(re.sub(r"(?<!\\)\$(?![^\[]*\])", r"\\Z", pattern))
    except re.error:
        return None


def _length(meta: dict[str, Any], size: int, path: str) -> list[str]:
    found = []
    if "min" in meta and size < meta["min"]:
        found.append(f"{path}: shorter than {meta['min']}")
    if "max" in meta and size > meta["max"]:
        found.append(f"{path}: longer than {meta['max']}")
    return found


def _range(meta: dict[str, Any], value: float, path: str) -> list[str]:
    found = []
    if "min" in meta and value < meta["min"]:
        found.append(f"{path}: below {meta['min']}")
    if "max" in meta and value > meta["max"]:
        found.append(f"{path}: above {meta['max']}")
    return found

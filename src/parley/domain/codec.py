"""Turns frozen domain dataclasses into JSON-ready dicts and back, driven by their type hints."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a dataclass (or of any value inside one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(options[0], raw)
    if origin is tuple:
        (item, *_) = typing.get_args(hint)
        return tuple(_decode(item, v) for v in raw)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_decode(item, v) for v in raw]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: _decode(item, v) for k, v in raw.items()}
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_json(hint, raw)
    return raw


def from_json(cls: type[T], raw: dict[str, Any]) -> T:
    """Rebuild a dataclass from :func:`to_json` output; unknown keys (from newer versions) are ignored."""
    hints = _hints(cast(Any, cls))
    names = {f.name for f in dataclasses.fields(cast(Any, cls))}
    values = {k: _decode(hints[k], v) for k, v in raw.items() if k in names}
    return cls(**values)

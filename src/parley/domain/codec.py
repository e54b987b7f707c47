"""Turns frozen domain dataclasses into JSON-ready dicts and back, driven by their type hints.

Both directions are on every hot path (each stored item, participant and poke), so the per-class work —
reading fields and type hints — is done once per class and kept in small caches of functions.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")

_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})


@cache
def _field_names(cls: Any) -> tuple[str, ...] | None:
    """The fields of a dataclass type, in order; None for any other type."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a dataclass (or of any value inside one)."""
    kind: Any = type(value)
    if kind in _PLAIN:
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda raw: None if raw is None else decode(raw)


def _sequence(kind: Callable[[Any], Any], item: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if item is None:
        return _optional(kind)
    decode_item: Callable[[Any], Any] = item
    return _optional(lambda raw: kind(decode_item(v) for v in raw))


@cache
def _decoder(hint: Any) -> Callable[[Any], Any] | None:
    """How to rebuild a value of type ``hint`` from JSON; None when the JSON value is used as is."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _decoder(options[0])
        return None if inner is None else _optional(inner)
    if origin is tuple:
        return _sequence(tuple, _decoder(typing.get_args(hint)[0]))
    if origin is list:
        return _sequence(list, _decoder(typing.get_args(hint)[0]))
    if origin is dict:
        value = _decoder(typing.get_args(hint)[1])
        if value is None:
            return _optional(dict)
        decode_value: Callable[[Any], Any] = value
        return _optional(lambda raw: {k: decode_value(v) for k, v in raw.items()})
    if hint is datetime:
        return _optional(datetime.fromisoformat)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        cls = hint
        return _optional(lambda raw: from_json(cls, raw))
    return None


@cache
def _plan(cls: Any) -> dict[str, Callable[[Any], Any] | None]:
    """For each field of ``cls``: its decoder (None: taken as is)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls)}


def from_json(cls: type[T], raw: dict[str, Any]) -> T:
    """Rebuild a dataclass from :func:`to_json` output; unknown keys (from newer versions) are ignored."""
    plan = _plan(cast(Any, cls))
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in plan:
            decode = plan[key]
            values[key] = value if decode is None else decode(value)
    return cls(**values)

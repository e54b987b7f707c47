"""Hypothesis strategies built from botocore shapes: values around every member's limits (lengths, ranges,
enums, patterns), hostile text (NUL, lone surrogates, right-to-left marks, emoji), wrong scalar types, missing
required members, and, for hand-made requests, arbitrary JSON, extra members and hostile URI segments."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape
from hypothesis import strategies as st

# The longest string or list a strategy builds (about 30 KB in JSON): past every limit the models set for the
# fuzzed operations' short members, yet small enough that a few hundred requests stay quick.
MAX_FILL = 30_000
# The most elements of a list or map built at its limit (lists in the models allow up to a few hundred).
MAX_ITEMS = 120
# Below this depth a structure is built with its members; deeper, as an empty object (the models used here are
# not recursive, this only guards against a model that is).
MAX_DEPTH = 5

# One character repeated to a limit's length: ASCII, Latin-1, CJK, a right-to-left override, NUL, an emoji (two
# UTF-16 units), a lone surrogate (not encodable as UTF-8; JSON can only escape it), a combining mark.
FILLERS = ("a", "Z", "0", "é", "中", "\u202e", "\x00", "😀", " ", "-", "/", "%", "\ud800", "\u0301", "\ufeff")

# Strings that broke parsers, lookups and templates elsewhere.
NASTY = (
    "", " ", "\x00", "a\x00b", "\u202eevil", "\ud800", "\udfff", "\U0010ffff", "\uffff", "😀" * 3, "e\u0301",
    "../../etc/passwd", "..", ".", "%00", "%zz", "%", "' OR 1=1 --", '"; DROP TABLE x; --', "<script>x</script>",
    "\r\nX-Injected: 1", "{{7*7}}", "${jndi:x}", "null", "true", "0", "-1", "1e309", "NaN", "[]", "{}",
    "arn:aws:connect:us-west-2:123456789012:instance/x", "a" * 257, "\t", "\n", "\\", "中文.example",
    "https://a.example; script-src *", "https://*", "\u0085", "\u2028",
)

# Integers around machine limits (SQLite holds 64-bit signed integers; JSON numbers past 2**64 parse as floats).
EDGE_INTS = (0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30)

# Bytes that are not JSON, or JSON that is not one object.
MALFORMED_BODIES = (
    b"{", b"}", b"[", b"{\"a\":", b"nul", b"\xff\xfe\x00", b"{\"a\": 1,}", b"{'a': 1}", b"\x00", b"NaN",
    b"Infinity", b"[]", b"[{}]", b"1", b"-0", b"1e999", b"\"text\"", b"null", b"true", b"{\"a\": \"\\ud800\"}",
    b"{\"a\": \"\\u0000\"}", b"\xef\xbb\xbf{}", b"{}{}", b"{\"a\":1}\x00", b"\"\\", b" " * 100,
)

# Content types a client might send, right and wrong.
CONTENT_TYPES = (
    "application/json", "application/x-amz-json-1.1", "application/x-amz-json-1.0", "text/plain",
    "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "",
    "application/json; charset=utf-16", "*/*", "application/json" + "; x=y" * 200,
)


def _python_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's pattern as a Python regex (for ``from_regex``), or None when it needs Java's syntax."""
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        pattern = pattern[1:-1]
    pattern = pattern.replace("\\\\", "\\")
    if "\\p" in pattern or "\\P" in pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _filled(lengths: set[int]) -> st.SearchStrategy[str]:
    sizes = sorted(n for n in lengths if 0 <= n <= MAX_FILL)
    return st.tuples(st.sampled_from(FILLERS), st.sampled_from(sizes)).map(lambda t: (t[0] * t[1])[: t[1]])


class ShapeValues:
    """Builds a strategy per shape (cached), preferring ``known`` values (real ids, or strategies of them) for
    members of those names."""

    def __init__(self, known: Mapping[str, Any], *, wrong_types: bool = True) -> None:
        self.known = dict(known)
        self.wrong_types = wrong_types
        self._cache: dict[tuple[int, str, int], st.SearchStrategy[Any]] = {}

    def member(self, shape: Shape, name: str, depth: int = 0) -> st.SearchStrategy[Any]:
        key = (id(shape), name, depth)
        if key not in self._cache:
            built = self._build(shape, depth)
            if name in self.known:
                given = self.known[name]
                known = given if isinstance(given, st.SearchStrategy) else st.just(given)
                built = st.one_of(known, known, known, built)  # mostly the real id, so handlers run deeper
            self._cache[key] = built
        return self._cache[key]

    def _mostly(self, proper: st.SearchStrategy[Any], *kinds: str) -> st.SearchStrategy[Any]:
        """``proper`` seven times in eight, else a scalar of another JSON type (boto3's serializer passes scalars
        through unchanged), so that most requests are wrong in at most a member or two."""
        if not self.wrong_types:
            return proper
        choices: dict[str, st.SearchStrategy[Any]] = {
            "string": st.sampled_from(["1", "", "true", "x" * 40]),
            "int": st.sampled_from(EDGE_INTS),
            "float": st.floats(allow_nan=False, allow_infinity=False),
            "bool": st.booleans(),
        }
        wrong = st.one_of(*(strategy for kind, strategy in choices.items() if kind not in kinds))
        return st.integers(0, 7).flatmap(lambda pick: wrong if pick == 0 else proper)

    def _build(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            return self.structure(shape, depth)
        if kind == "string":
            lo, hi = int(meta.get("min", 0)), meta.get("max")
            lengths = {0, 1, lo - 1, lo, lo + 1}
            if hi is not None:
                lengths |= {int(hi) - 1, int(hi), int(hi) + 1}
            options: list[st.SearchStrategy[Any]] = [
                st.sampled_from(NASTY), st.text(max_size=24), _filled(lengths),
                st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=40),
            ]
            if shape.enum:
                enum = list(shape.enum)
                options[:0] = [st.sampled_from(enum), st.sampled_from(enum),
                               st.sampled_from(enum).map(lambda v: v.lower() + " ")]
            pattern = meta.get("pattern")
            compiled = _python_pattern(pattern) if pattern else None
            if compiled is not None:
                options.append(st.from_regex(compiled, fullmatch=True).filter(lambda v: len(v) <= MAX_FILL))
            return self._mostly(st.one_of(*options), "string")
        if kind in ("integer", "long"):
            edges = list(EDGE_INTS)
            for limit in ("min", "max"):
                if limit in meta:
                    edges += [int(meta[limit]) - 1, int(meta[limit]), int(meta[limit]) + 1]
            return self._mostly(st.one_of(st.sampled_from(edges), st.integers(min_value=-10, max_value=1000)), "int")
        if kind in ("float", "double"):
            return self._mostly(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                                          st.sampled_from(EDGE_INTS)), "float", "int")
        if kind == "boolean":
            return self._mostly(st.booleans(), "bool")
        if kind == "timestamp":
            return st.one_of(st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)),
                             st.integers(min_value=-(2**40), max_value=2**40))
        if kind == "blob":
            return st.binary(max_size=64)
        if kind == "list":
            element = self.member(shape.member, "", depth + 1)
            lo, hi = int(meta.get("min", 0)), meta.get("max")
            sizes = {lo - 1, lo, lo + 1} | ({int(hi), int(hi) + 1} if hi is not None else {MAX_ITEMS})
            sizes = {n for n in sizes if 0 <= n <= MAX_ITEMS}
            at_limit = st.tuples(element, st.sampled_from(sorted(sizes))).map(lambda t: [t[0]] * t[1])
            return st.one_of(st.lists(element, max_size=4), at_limit)
        if kind == "map":
            keys = self.member(shape.key, "", depth + 1)
            values = self.member(shape.value, "", depth + 1)
            hi = meta.get("max")
            count = min(int(hi) + 1, MAX_ITEMS) if hi is not None else MAX_ITEMS
            at_limit = values.map(lambda v: {f"k{i}": v for i in range(count)})
            return st.one_of(st.dictionaries(keys, values, max_size=4), at_limit)
        return st.none()

    def structure(self, shape: Shape, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
        """Members drawn each with its own strategy; optional ones sometimes, a required one sometimes missing."""
        assert isinstance(shape, StructureShape)
        if depth >= MAX_DEPTH:
            return st.just({})
        required = list(shape.metadata.get("required", []))
        members = {name: self.member(member, name, depth + 1) for name, member in shape.members.items()}

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, strategy in members.items():
                if name in required or draw(st.booleans()):
                    out[name] = draw(strategy)
            if required and draw(st.integers(0, 7)) == 0:
                out.pop(draw(st.sampled_from(required)), None)
            return out

        return build()

    def valid(self, shape: Shape, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
        """A value that keeps every constraint the model states (a real id where one is known)."""
        key = (id(shape), "valid:" + name, depth)
        if key in self._cache:
            return self._cache[key]
        given = self.known.get(name)
        meta = shape.metadata
        kind = shape.type_name
        built: st.SearchStrategy[Any]
        if given is not None:
            built = given if isinstance(given, st.SearchStrategy) else st.just(given)
        elif kind == "structure":
            assert isinstance(shape, StructureShape)
            required = meta.get("required", []) if depth < MAX_DEPTH else []
            built = st.fixed_dictionaries({n: self.valid(shape.members[n], n, depth + 1) for n in required})
        elif kind == "string" and shape.enum:
            built = st.sampled_from(list(shape.enum))
        elif kind == "string":
            lo, hi = max(int(meta.get("min", 1)), 1), min(int(meta.get("max", 24)), 24)
            compiled = _python_pattern(meta["pattern"]) if meta.get("pattern") else None
            if compiled is not None:
                built = st.from_regex(compiled, fullmatch=True).filter(
                    lambda v: int(meta.get("min", 0)) <= len(v) <= int(meta.get("max", MAX_FILL)) and "\x00" not in v)
            else:
                built = st.text(alphabet=string.ascii_letters + string.digits + " é中😀-",
                                min_size=min(lo, hi), max_size=max(lo, hi))
        elif kind in ("integer", "long"):
            lo = int(meta.get("min", 1))
            built = st.integers(lo, max(lo, min(int(meta.get("max", lo + 50)), lo + 50)))
        elif kind in ("float", "double"):
            built = st.floats(float(meta.get("min", 0)), float(meta.get("max", 100)))
        elif kind == "boolean":
            built = st.booleans()
        elif kind == "timestamp":
            built = st.just(datetime(2026, 1, 2, tzinfo=UTC))
        elif kind == "blob":
            built = st.just(b"blob")
        elif kind == "list":
            lo = int(meta.get("min", 0))
            built = st.lists(self.valid(shape.member, "", depth + 1), min_size=lo,
                             max_size=max(lo, min(int(meta.get("max", 2)), 2)))
        elif kind == "map":
            built = st.dictionaries(self.valid(shape.key, "", depth + 1), self.valid(shape.value, "", depth + 1),
                                    min_size=int(meta.get("min", 0)), max_size=max(int(meta.get("min", 0)), 1))
        else:
            built = st.none()
        self._cache[key] = built
        return built

    def one_off(self, shape: Shape) -> st.SearchStrategy[dict[str, Any]]:
        """A valid input with exactly one member (at the top or one level down) replaced by a fuzzed value, or
        removed: each example tests one constraint, and the rest of the request gets past the others."""
        assert isinstance(shape, StructureShape)
        valid = self.valid(shape)
        members = list(shape.members.items())

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out = dict(draw(valid))
            if not members:
                return out
            name, member = draw(st.sampled_from(members))
            if draw(st.integers(0, 9)) == 0:
                out.pop(name, None)
                return out
            inner = dict(out.get(name) or {}) if member.type_name == "structure" else None
            if inner is not None and isinstance(member, StructureShape) and member.members and draw(st.booleans()):
                if not inner:
                    inner = dict(draw(self.valid(member, name, 1)))
                sub_name, sub = draw(st.sampled_from(list(member.members.items())))
                inner[sub_name] = draw(self.member(sub, "", 2))
                out[name] = inner
            else:
                fuzzed = self.boundary(member) if draw(st.integers(0, 2)) else self.member(member, "", 1)
                out[name] = draw(fuzzed)
            return out

        return build()

    def boundary(self, shape: Shape) -> st.SearchStrategy[Any]:
        """Values just past (or just at) one of ``shape``'s limits: lengths min-1, min, max, max+1, values beyond
        the range, an enum value off by case or by a newline, a NUL, a wrong type, a null inside a list."""
        key = (id(shape), "boundary", 0)
        if key in self._cache:
            return self._cache[key]
        meta = shape.metadata
        kind = shape.type_name
        lo, hi = meta.get("min"), meta.get("max")
        options: list[st.SearchStrategy[Any]] = []
        if kind == "string":
            valid = self.valid(shape)
            lengths = {n for n in (0, lo, hi, None if lo is None else lo - 1, None if hi is None else hi + 1)
                       if n is not None and 0 <= n <= MAX_FILL}
            options += [_filled(lengths), valid.map(lambda v: v + "\n"), valid.map(lambda v: v + "\x00"),
                        valid.map(lambda v: " " + v), st.sampled_from([5, True, ["x"], {"a": "b"}])]
            if shape.enum:
                off = st.sampled_from(list(shape.enum)).map(lambda v: v.lower() if v != v.lower() else v + "x")
                options.append(off)
        elif kind in ("integer", "long", "float", "double"):
            edges = [2**63, -(2**63) - 1, 2**64, 0, -1]
            edges += [int(lo) - 1, int(lo)] if lo is not None else []
            edges += [int(hi), int(hi) + 1] if hi is not None else []
            options += [st.sampled_from(edges), st.sampled_from([1.5, "1", True, None, [1]])]
        elif kind == "boolean":
            options.append(st.sampled_from(["true", 1, 0, "false", [True]]))
        elif kind == "list":
            element = self.valid(shape.member)
            sizes = {n for n in (0, None if lo is None else lo - 1, None if hi is None else hi + 1)
                     if n is not None and 0 <= n <= MAX_ITEMS}
            options += [st.tuples(element, st.sampled_from(sorted(sizes))).map(lambda t: [t[0]] * t[1]),
                        element.map(lambda v: [v, None]), st.sampled_from(["x", {"a": 1}])]
        elif kind == "map":
            count = min(int(hi) + 1, MAX_ITEMS) if hi is not None else MAX_ITEMS
            value = self.valid(shape.value)
            options += [value.map(lambda v: {f"k{i}": v for i in range(count)}),
                        value.map(lambda v: {"": v, "k" * 40_000: v}), st.just({"k": None}),
                        st.sampled_from(["x", ["a"]])]
        elif kind == "structure":
            options.append(st.sampled_from([{}, "x", [], 0]))
        built = st.one_of(*options) if options else self.member(shape, "", 1)
        self._cache[key] = built
        return built


@cache
def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (with hostile scalars); built once, as hypothesis validates a new strategy slowly."""
    scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(EDGE_INTS), st.integers(),
                        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(NASTY), st.text(max_size=16))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=max_leaves)


@cache
def _extra_members() -> st.SearchStrategy[dict[str, Any]]:
    """Members no shape has, with any JSON values."""
    return st.dictionaries(st.text(max_size=12), json_values(), max_size=4)


def deep(levels: int, kind: str) -> bytes:
    """JSON nested ``levels`` deep: ``[[[...]]]`` or ``{"a":{"a":...}}``."""
    if kind == "list":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"{}" + b"}" * levels


def body_members(op: OperationModel) -> dict[str, Shape]:
    shape = op.input_shape
    if shape is None:
        return {}
    return {name: member for name, member in shape.members.items() if not member.serialization.get("location")}


@st.composite
def hostile_body(draw: st.DrawFn, op: OperationModel, values: ShapeValues) -> bytes:
    """A request body for ``op`` a serializer would never send: members of the wrong JSON type, extra and
    duplicated members, deep nesting, bytes that are not JSON, JSON that is not an object."""
    import json

    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(st.sampled_from(MALFORMED_BODIES))
    if choice == 1:
        return deep(draw(st.sampled_from([64, 500, 5000])), draw(st.sampled_from(["list", "object"])))
    members = body_members(op)
    body: dict[str, Any] = {}
    for name, shape in members.items():
        pick = draw(st.integers(0, 3))
        if pick == 0:
            continue
        body[name] = draw(json_values()) if pick == 1 else _jsonable(draw(values.member(shape, name)))
    if choice == 2:
        body.update(draw(_extra_members()))
    text = json.dumps(body)
    if choice == 3 and members:  # a member given twice: the last value wins in most parsers
        name = draw(st.sampled_from(sorted(members)))
        text = text[:-1] + ("," if body else "") + json.dumps(name) + ":" + json.dumps(draw(json_values()))[:2000] + "}"
    if choice == 4:
        return draw(st.sampled_from([b"[", b""])) + text.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


def _jsonable(value: Any) -> Any:
    """``value`` with what JSON cannot hold (bytes, datetimes) turned into text."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


# URI segments for a label: NUL, dot segments (encoded, so the client keeps them), bad or partial percent escapes,
# overlong UTF-8, very long, empty, Unicode.
HOSTILE_SEGMENTS = (
    "%00", "a%00b", "%2e%2e", "%2E%2E%2F%2E%2E", ".%2e", "%zz", "%", "%e2%82", "%C0%AF", "%ff%fe", "x" * 5000,
    "%2F", "a%2Fb", "%20", "%E4%B8%AD%E6%96%87", "%F0%9F%98%80", "%u0041", "%25", "%252e", ";x=1", "*", "~",
)

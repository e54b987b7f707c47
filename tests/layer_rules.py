"""The architecture's layer rules as functions over a source tree, so they run on Parley and on small trees
built to break each rule (tests/test_layers.py does both).

Three checks, each returning :class:`Violation` s:

- :func:`check_imports`: every import (absolute, relative, inside functions, under ``TYPE_CHECKING``) is
  resolved to an absolute module name and must point from a ring to itself or to a ring it may use
  (:data:`ALLOWED`). Top-level modules are placed in rings by :data:`TOP_LEVEL`; one that is not placed is a
  violation (:func:`check_classified`).
- :func:`check_wiring`: a dependency the imports cannot see. A class or function of ring X can be handed an
  object of a ring X may not use through a parameter (or attribute) typed ``Any`` or ``object``: the code of X
  then calls into that ring without importing it. This check follows values through each function (the class
  a variable was built from, through simple assignments, ``await`` and functions' return annotations), maps
  each call's arguments to the callee's parameters, and reports an argument from a forbidden ring that lands
  on a loosely typed parameter or attribute. That is how ``app.build`` handed ``web``'s ``AgentSockets`` to
  ``aws``'s ``CtiHandlers(agent_websocket: Any)``. A parameter typed with a Protocol the callee's ring owns is
  a port, the way dependencies are meant to point inward, and is not reported.
- :func:`check_loose_constructors`: the backstop for flows the wiring check cannot follow (objects passed
  through containers, lambdas, attributes of attributes): every constructor parameter typed ``Any`` or
  ``object`` inside the rings is reported, so the test can require each to be listed with its reason.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The rings under src/parley and what each may import besides itself, innermost first. ``client`` is the
# Python SDK: it speaks the public protocols only, so it shares nothing with the server's code.
RING_ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "service": frozenset({"domain"}),
    "storage": frozenset({"domain", "service"}),
    "fanout": frozenset({"domain", "service"}),
    "aws": frozenset({"domain", "service"}),
    "web": frozenset({"domain", "service", "aws"}),
    # The pages for people (home, test chat, widget, workspace, console): an edge over the services, like the
    # Connect API, with no knowledge of the wire's other edges or of storage.
    "pages": frozenset({"domain", "service"}),
    "client": frozenset(),
}
# Where each top-level module of the package sits (the file name without ``.py``), and why:
TOP_LEVEL: dict[str, str] = {
    # The package itself holds only ``__version__``; it imports nothing, so every ring may read it.
    "__init__": "package",
    # The one composition root: it builds every ring and wires them together.
    "app": "root",
    # The process's entry points: the ``parley`` command, the server under uvicorn, ``python -m parley``.
    "cli": "entry",
    "server": "entry",
    "__main__": "entry",
    # ``parley widget``'s actions (the cli module's parser and dispatch stay in cli).
    "widget_cli": "entry",
    # ``parley canned``'s actions, likewise.
    "canned_cli": "entry",
    "cli_common": "entry",
    # Settings read from the command line, the environment and the data directory (it does file I/O): an
    # outer ring that only the root and the entry points read; the rings get plain values from app.py.
    "config": "config",
    # What the server process runs beside the app: its garbage-collector policy and its log format (which
    # reads the web edge's request id). Only the entry points use them.
    "collector": "process",
    "logformat": "process",
}
# Every ring, with the places of the top-level modules.
ALLOWED: dict[str, frozenset[str]] = {
    **RING_ALLOWED,
    "package": frozenset(),
    "config": frozenset({"domain"}),
    "process": frozenset({"domain", "web"}),
    "root": frozenset(RING_ALLOWED) | {"config", "process"},
    "entry": frozenset(RING_ALLOWED) | {"config", "process", "root"},
}
# Rings every module may import: the package's own ``__init__`` (it imports nothing itself).
EVERYONE_MAY_IMPORT = frozenset({"package"})
# The ring a top-level module gets when TOP_LEVEL does not place it (reported by check_classified).
UNCLASSIFIED = "unclassified"
# What the pure domain may import from outside the package: the standard library only.
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# Annotations that let any object in: a parameter or attribute typed so carries a dependency unseen.
LOOSE_NAMES = frozenset({"Any", "object"})
# How many re-exports a name is followed through before giving up (a cycle, or a very long chain).
MAX_HOPS = 8


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``key`` (rule, module, subject) is what an allow-list names."""

    rule: str
    module: str
    subject: str
    line: int
    why: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.module, self.subject)

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: [{self.rule}] {self.why}"


@dataclass(frozen=True)
class Module:
    """One source file: its absolute module name, its syntax tree, and whether it is a package's ``__init__``."""

    name: str
    path: Path
    tree: ast.Module
    is_package: bool


@dataclass(frozen=True)
class Ref:
    """What a name refers to: a module (``node`` None), or a class or function defined in ``module``
    (``owner`` is the class a method is defined in)."""

    module: str
    node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | None
    owner: ast.ClassDef | None = None


@dataclass(frozen=True)
class Param:
    """A parameter of a callable, or an attribute of a class: its name and its annotation."""

    name: str
    annotation: ast.expr | None


@dataclass
class Signature:
    """How a call's arguments land on parameters."""

    positional: list[Param] = field(default_factory=list)
    keyword: dict[str, Param] = field(default_factory=dict)


Function = ast.FunctionDef | ast.AsyncFunctionDef


class SourceTree:
    """Every module under ``root`` (a package directory such as src/parley), by absolute name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.package = root.name
        self.modules: dict[str, Module] = {}
        for path in sorted(root.rglob("*.py")):
            parts = [self.package, *path.relative_to(root).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            self.modules[name] = Module(name, path, ast.parse(path.read_text(), str(path)), is_package)
        # The directories right under the package that hold modules: the rings.
        self.ring_dirs = {m.split(".")[1] for m in self.modules if m.count(".") >= 2} | {
            m.split(".")[1] for m, mod in self.modules.items() if mod.is_package and m.count(".") == 1
        }
        self._names: dict[str, dict[str, tuple[str, ...]]] = {}
        self._lookups: dict[tuple[str, str], Ref | None] = {}

    # Rings ---------------------------------------------------------------------------------------------------

    def ring_of(self, name: str) -> str | None:
        """The ring of the module ``name`` (None outside the package)."""
        parts = name.split(".")
        if parts[0] != self.package:
            return None
        if len(parts) == 1:
            return TOP_LEVEL["__init__"]
        if parts[1] in self.ring_dirs:
            return parts[1]
        return TOP_LEVEL.get(parts[1], UNCLASSIFIED)

    def may_use(self, ring: str, target: str) -> bool:
        return target == ring or target in EVERYONE_MAY_IMPORT or target in ALLOWED.get(ring, frozenset())

    # Imports -------------------------------------------------------------------------------------------------

    def base_of(self, module: Module, node: ast.ImportFrom) -> str | None:
        """The absolute module a ``from … import`` reads from (None: a relative import above the package)."""
        if node.level == 0:
            return node.module
        package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
        up = node.level - 1
        if up >= len(package):
            return None
        parts = package[: len(package) - up]
        return ".".join([*parts, node.module] if node.module else parts)

    def imports_of(self, module: Module) -> Iterator[tuple[int, str | None]]:
        """(line, absolute module name) of every import in ``module``; None for a relative import that climbs
        above the package. ``from pkg import name`` counts as importing ``pkg.name`` when that is a module."""
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom):
                base = self.base_of(module, node)
                if base is None:
                    yield node.lineno, None
                    continue
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    yield node.lineno, candidate if candidate in self.modules else base

    # Names ---------------------------------------------------------------------------------------------------

    def names_of(self, module: str) -> dict[str, tuple[str, ...]]:
        """What each top-level name of ``module`` is bound to: ("def",), ("module", name) or
        ("from", base, original name)."""
        if module in self._names:
            return self._names[module]
        names: dict[str, tuple[str, ...]] = {}
        mod = self.modules[module]
        for node in _top_level(mod.tree.body):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names[node.name] = ("def",)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = ("module", alias.name)
                    else:
                        head = alias.name.split(".")[0]
                        names[head] = ("module", head)
            elif isinstance(node, ast.ImportFrom):
                base = self.base_of(mod, node)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    candidate = f"{base}.{alias.name}"
                    names[alias.asname or alias.name] = (
                        ("module", candidate) if candidate in self.modules else ("from", base, alias.name)
                    )
        self._names[module] = names
        return names

    def lookup(self, module: str, name: str, hops: int = 0) -> Ref | None:
        """The class, function or module ``name`` means in ``module`` (None if it is not the package's)."""
        if (module, name) not in self._lookups:
            self._lookups[module, name] = self._lookup(module, name, hops)
        return self._lookups[module, name]

    def _lookup(self, module: str, name: str, hops: int) -> Ref | None:
        if module not in self.modules or hops > MAX_HOPS:
            return None
        bound = self.names_of(module).get(name)
        if bound is None:
            return None
        if bound[0] == "def":
            for node in _top_level(self.modules[module].tree.body):
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                    return Ref(module, node)
            return None
        if bound[0] == "module":
            return Ref(bound[1], None) if bound[1] in self.modules else None
        return self.lookup(bound[1], bound[2], hops + 1)

    def member(self, ref: Ref, name: str) -> Ref | None:
        """``name`` read from a module or from a class (a method, with its class as owner)."""
        if ref.node is None:
            return self.lookup(ref.module, name)
        if isinstance(ref.node, ast.ClassDef):
            for cls_ref in self.mro(ref):
                assert isinstance(cls_ref.node, ast.ClassDef)
                for node in cls_ref.node.body:
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                        return Ref(cls_ref.module, node, cls_ref.node)
        return None

    def mro(self, ref: Ref) -> list[Ref]:
        """The class and its base classes that are the package's, nearest first."""
        order: list[Ref] = []
        todo = [ref]
        while todo and len(order) <= MAX_HOPS:
            cls = todo.pop(0)
            if not isinstance(cls.node, ast.ClassDef) or cls in order:
                continue
            order.append(cls)
            for base in cls.node.bases:
                base_ref = self.annotation_class(cls.module, base)
                if base_ref is not None:
                    todo.append(base_ref)
        return order

    def annotation_class(self, module: str, ann: ast.expr | None) -> Ref | None:
        """The package's class an annotation (or base-class expression) names, if it names exactly one."""
        if ann is None:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                return self.annotation_class(module, ast.parse(ann.value, mode="eval").body)
            except SyntaxError:
                return None
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self.annotation_class(module, ann.left) or self.annotation_class(module, ann.right)
        if isinstance(ann, ast.Subscript) and _name(ann.value) == "Optional":
            return self.annotation_class(module, ann.slice)
        ref: Ref | None = None
        if isinstance(ann, ast.Name):
            ref = self.lookup(module, ann.id)
        elif isinstance(ann, ast.Attribute):
            owner = self.annotation_class(module, ann.value) if not isinstance(ann.value, ast.Name) else (
                self.lookup(module, ann.value.id))
            ref = self.member(owner, ann.attr) if owner is not None and owner.node is None else None
        return ref if ref is not None and isinstance(ref.node, ast.ClassDef) else None

    # Signatures ----------------------------------------------------------------------------------------------

    def signature(self, callee: Ref) -> Signature | None:
        """How arguments bind to the parameters of a class's constructor or of a function (None: unknown)."""
        if isinstance(callee.node, ast.ClassDef):
            for cls in self.mro(callee):
                assert isinstance(cls.node, ast.ClassDef)
                init = next((n for n in cls.node.body
                             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "__init__"), None)
                if init is not None:
                    return _function_signature(init, bound=True)
                if _is_dataclass(cls.node):
                    return _dataclass_signature(cls.node)
            return None
        if isinstance(callee.node, ast.FunctionDef | ast.AsyncFunctionDef):
            is_static = any(_name(d) == "staticmethod" for d in callee.node.decorator_list)
            return _function_signature(callee.node, bound=callee.owner is not None and not is_static)
        return None

    def attribute_annotation(self, cls: Ref, attr: str) -> tuple[bool, ast.expr | None]:
        """(known, annotation) of an instance attribute: from the class body, ``self.attr: T`` in
        ``__init__``, or ``self.attr = param`` (the parameter's annotation)."""
        for ref in self.mro(cls):
            assert isinstance(ref.node, ast.ClassDef)
            for node in ref.node.body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == attr:
                    return True, node.annotation
            init = next((n for n in ref.node.body
                         if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "__init__"), None)
            if init is None:
                continue
            params = {a.arg: a.annotation for a in [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]}
            for statement in ast.walk(init):
                if isinstance(statement, ast.AnnAssign) and _is_self_attr(statement.target, attr):
                    return True, statement.annotation
                if (isinstance(statement, ast.Assign) and any(_is_self_attr(t, attr) for t in statement.targets)
                        and isinstance(statement.value, ast.Name) and statement.value.id in params):
                    return True, params[statement.value.id]
        return False, None

    # Values --------------------------------------------------------------------------------------------------

    def origin(self, module: str, expr: ast.expr, env: dict[str, Ref]) -> Ref | None:
        """The package's class the value of ``expr`` is an instance of, when that can be seen statically."""
        if isinstance(expr, ast.Name):
            return env.get(expr.id)
        if isinstance(expr, ast.Attribute):  # an instance's attribute, by the annotation its class gives it
            holder = self.origin(module, expr.value, env)
            if holder is None:
                return None
            known, annotation = self.attribute_annotation(holder, expr.attr)
            return self.annotation_class(holder.module, annotation) if known else None
        if isinstance(expr, ast.Await):
            return self.origin(module, expr.value, env)
        if isinstance(expr, ast.IfExp):
            return self.origin(module, expr.body, env) or self.origin(module, expr.orelse, env)
        if isinstance(expr, ast.BoolOp):
            return next(filter(None, (self.origin(module, value, env) for value in expr.values)), None)
        if isinstance(expr, ast.Call):
            callee = self.callee(module, expr.func, env)
            if callee is None:
                return None
            if isinstance(callee.node, ast.ClassDef):
                return callee
            if isinstance(callee.node, ast.FunctionDef | ast.AsyncFunctionDef):
                returns = callee.node.returns
                if callee.owner is not None and _name(returns) in {"Self", callee.owner.name}:
                    return Ref(callee.module, callee.owner)
                return self.annotation_class(callee.module, returns)
        return None

    def callee(self, module: str, func: ast.expr, env: dict[str, Ref]) -> Ref | None:
        """What a call's function expression refers to: a class, a function or a method."""
        if isinstance(func, ast.Name) and func.id in env:  # calling an instance: its __call__
            return self.member(env[func.id], "__call__")
        named = self.static(module, func, env)
        if named is not None:  # a class, a function, or a class's method (``Service.load``)
            return named
        if isinstance(func, ast.Attribute):  # an instance's method
            owner = self.origin(module, func.value, env)
            return self.member(owner, func.attr) if owner is not None else None
        return None

    def static(self, module: str, expr: ast.expr, env: dict[str, Ref]) -> Ref | None:
        """What a dotted name (``Name``, ``module.Name``, ``pkg.module.Class.method``) refers to, unless its
        first name is a variable."""
        if isinstance(expr, ast.Name):
            return None if expr.id in env else self.lookup(module, expr.id)
        if isinstance(expr, ast.Attribute):
            owner = self.static(module, expr.value, env)
            return self.member(owner, expr.attr) if owner is not None else None
        return None


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's statements, including those under a top-level ``if`` (``TYPE_CHECKING``) or ``try``."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
        else:
            yield node


def _name(expr: ast.expr | None) -> str | None:
    """The last name of ``Name`` / ``a.b.Name`` / ``Name(...)``."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _is_self_attr(target: ast.expr, attr: str) -> bool:
    return (isinstance(target, ast.Attribute) and target.attr == attr and isinstance(target.value, ast.Name)
            and target.value.id == "self")


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any(_name(d) == "dataclass" for d in node.decorator_list)


def _function_signature(node: Function, bound: bool) -> Signature:
    """``bound``: the first parameter (``self``, ``cls``) is not the caller's to pass."""
    only, regular = list(node.args.posonlyargs), list(node.args.args)
    if bound and only:
        only = only[1:]
    elif bound and regular:
        regular = regular[1:]
    keyword = {a.arg: Param(a.arg, a.annotation) for a in [*regular, *node.args.kwonlyargs]}
    return Signature([Param(a.arg, a.annotation) for a in [*only, *regular]], keyword)


def _dataclass_signature(node: ast.ClassDef) -> Signature:
    fields: list[Param] = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if _name(stmt.annotation) == "ClassVar" or (
                isinstance(stmt.annotation, ast.Subscript) and _name(stmt.annotation.value) == "ClassVar"):
            continue
        value = stmt.value
        if isinstance(value, ast.Call) and _name(value) == "field" and any(
                k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in value.keywords):
            continue
        fields.append(Param(stmt.target.id, stmt.annotation))
    return Signature(fields, {p.name: p for p in fields})


def is_loose(ann: ast.expr | None) -> bool:
    """True for ``Any``, ``object``, no annotation, and those or'ed with anything (``Any | None``)."""
    if ann is None:
        return True
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            return is_loose(ast.parse(ann.value, mode="eval").body)
        except SyntaxError:
            return False
    if isinstance(ann, ast.Name | ast.Attribute):
        return _name(ann) in LOOSE_NAMES
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return is_loose(ann.left) or is_loose(ann.right)
    if isinstance(ann, ast.Subscript) and _name(ann.value) == "Optional":
        return is_loose(ann.slice)
    return False


# The checks ------------------------------------------------------------------------------------------------


def check_classified(tree: SourceTree) -> list[Violation]:
    """Every ring directory is a known ring and every top-level module is placed in :data:`TOP_LEVEL`."""
    found: list[Violation] = []
    for ring in sorted(tree.ring_dirs - set(RING_ALLOWED)):
        found.append(Violation("ring", f"{tree.package}.{ring}", ring, 0,
                               f"unknown ring {ring!r}: say what it may import in RING_ALLOWED"))
    for name, module in tree.modules.items():
        if tree.ring_of(name) == UNCLASSIFIED:
            found.append(Violation("ring", name, module.path.name, 0,
                                   f"top-level module {module.path.name} is in no ring: place it in TOP_LEVEL"))
    return found


def check_imports(tree: SourceTree) -> list[Violation]:
    """Imports point from a ring to itself or to a ring it may use; the domain imports the stdlib only."""
    found: list[Violation] = []
    for name, module in tree.modules.items():
        ring = tree.ring_of(name)
        if ring not in ALLOWED:
            continue  # check_classified reports it
        for line, target in tree.imports_of(module):
            if target is None:
                found.append(Violation("import", name, "<relative>", line, "relative import above the package"))
                continue
            target_ring = tree.ring_of(target)
            if target_ring is not None:
                if not tree.may_use(ring, target_ring):
                    found.append(Violation("import", name, target, line,
                                           f"{ring} must not import {target} (ring {target_ring})"))
            elif ring == "domain" and target.split(".")[0] not in STDLIB:
                found.append(Violation("stdlib", name, target, line, f"the domain is stdlib only, not {target}"))
    return found


def check_wiring(tree: SourceTree) -> list[Violation]:
    """No object of a ring the receiver may not use is passed in through a parameter or attribute typed
    ``Any``/``object`` (see the module's docstring)."""
    found: list[Violation] = []
    for name, module in tree.modules.items():
        for func, owner in _functions(module.tree):
            found += _check_function(tree, name, func, owner)
    return sorted(set(found), key=lambda v: (v.module, v.line, v.subject))


def check_loose_constructors(tree: SourceTree) -> list[Violation]:
    """Every constructor parameter typed ``Any``/``object`` (or untyped) in the rings."""
    found: list[Violation] = []
    for name, module in tree.modules.items():
        if tree.ring_of(name) not in RING_ALLOWED:
            continue
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ClassDef):
                continue
            signature = tree.signature(Ref(name, node)) if _defines_constructor(node) else None
            if signature is None:
                continue
            params = {p.name: p for p in [*signature.positional, *signature.keyword.values()]}
            for param in params.values():
                subject = f"{node.name}.{param.name}"
                if is_loose(param.annotation):
                    found.append(Violation("any-parameter", name, subject, node.lineno,
                                           f"{subject} is typed {_show(param.annotation)}: type it with a port"))
    return found


def _defines_constructor(node: ast.ClassDef) -> bool:
    own_init = any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "__init__" for n in node.body)
    return own_init or _is_dataclass(node)


def _show(ann: ast.expr | None) -> str:
    return ast.unparse(ann) if ann is not None else "nothing"


def _functions(module: ast.Module) -> Iterator[tuple[Function, ast.ClassDef | None]]:
    """The outermost functions and the methods of classes (nested functions are checked with their parent)."""
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, None
        elif isinstance(node, ast.ClassDef):
            for item in ast.walk(node):
                if isinstance(item, ast.ClassDef):
                    for member in item.body:
                        if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                            yield member, item


def _environment(tree: SourceTree, module: str, func: Function, owner: ast.ClassDef | None) -> dict[str, Ref]:
    """Each variable of ``func`` (and its nested functions) that holds an instance of a class of the package."""
    env: dict[str, Ref] = {}
    for node in ast.walk(func):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        for index, arg in enumerate(args):
            if node is func and index == 0 and owner is not None and not any(
                    _name(d) == "staticmethod" for d in func.decorator_list):
                env[arg.arg] = Ref(module, owner)
                continue
            ref = tree.annotation_class(module, arg.annotation)
            if ref is not None:
                env.setdefault(arg.arg, ref)
    assignments = [n for n in ast.walk(func) if isinstance(n, ast.Assign | ast.AnnAssign)]
    for _ in range(MAX_HOPS):  # until nothing changes: assignments may read variables assigned further down
        before = dict(env)
        for node in assignments:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            ref = tree.annotation_class(module, node.annotation) if isinstance(node, ast.AnnAssign) else None
            if ref is None and node.value is not None:
                ref = tree.origin(module, node.value, env)
            if ref is None:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    env.setdefault(target.id, ref)
        if env == before:
            break
    return env


def _check_function(tree: SourceTree, module: str, func: Function, owner: ast.ClassDef | None) -> list[Violation]:
    env = _environment(tree, module, func, owner)
    found: list[Violation] = []

    def report(line: int, receiver: Ref, what: str, annotation: ast.expr | None, value: ast.expr) -> None:
        given = tree.origin(module, value, env)
        receiver_ring, given_ring = tree.ring_of(receiver.module), tree.ring_of(given.module) if given else None
        if given is None or receiver_ring not in ALLOWED or given_ring is None:
            return
        if tree.may_use(receiver_ring, given_ring) or not is_loose(annotation):
            return
        assert isinstance(given.node, ast.ClassDef)
        found.append(Violation(
            "any-edge", module, f"{receiver.module}.{what}", line,
            f"{func.name} hands {given.module}.{given.node.name} ({given_ring}) to {receiver.module}.{what}, typed "
            f"{_show(annotation)}: {receiver_ring} must not depend on {given_ring}; type it with a port "
            f"{receiver_ring} may import",
        ))

    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            callee = tree.callee(module, node.func, env)
            signature = tree.signature(callee) if callee is not None else None
            if callee is None or signature is None or not isinstance(callee.node, ast.ClassDef | ast.FunctionDef
                                                                                 | ast.AsyncFunctionDef):
                continue
            label = callee.node.name if callee.owner is None else f"{callee.owner.name}.{callee.node.name}"
            for index, arg in enumerate(node.args):
                if isinstance(arg, ast.Starred) or index >= len(signature.positional):
                    break
                param = signature.positional[index]
                report(node.lineno, callee, f"{label}({param.name})", param.annotation, arg)
            for keyword in node.keywords:
                named = signature.keyword.get(keyword.arg) if keyword.arg else None
                if named is not None:
                    report(node.lineno, callee, f"{label}({named.name})", named.annotation, keyword.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if not isinstance(target, ast.Attribute):
                    continue
                holder = tree.origin(module, target.value, env)
                if holder is None or not isinstance(holder.node, ast.ClassDef):
                    continue
                known, annotation = tree.attribute_annotation(holder, target.attr)
                if known:
                    report(node.lineno, holder, f"{holder.node.name}.{target.attr}", annotation, node.value)
    return found

"""Loads botocore's service models at run time and routes (method, path) to an operation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: OperationModel
    literal_segments: int
    static_query: tuple[str, ...]


def _compile(request_uri: str) -> tuple[re.Pattern[str], int, tuple[str, ...]]:
    path, _, query = request_uri.partition("?")
    parts: list[str] = []
    literals = 0
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        label = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", segment)
        if label:
            name, greedy = label.groups()
            parts.append(f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)")
        else:
            literals += 1
            parts.append(re.escape(segment))
    regex = "^/" + "/".join(parts) + "/?$"
    static = tuple(k.split("=", 1)[0] for k in query.split("&") if k)
    return re.compile(regex), literals, static


class Service:
    """One AWS service model with its routing table."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        routes: list[Route] = []
        for name in model.operation_names:
            op = model.operation_model(name)
            pattern, literals, static = _compile(op.http["requestUri"])
            routes.append(Route(op.http["method"].upper(), pattern, op, literals, static))
        # More literal segments first, so "/users/{I}/search" beats "/users/{I}/{UserId}".
        routes.sort(key=lambda r: (-r.literal_segments, -len(r.static_query)))
        self.routes = routes
        # Paths without labels or query keys (SendMessage's "/participant/message") found by one dict lookup; a
        # route like that is also the first the scan below would find for its path, as no route has more
        # literal segments for it. Paths another route also claims with query keys are left to the scan.
        claimed = {(r.method, r.pattern.pattern) for r in routes if r.static_query}
        self._fixed = {(r.method, "/" + r.operation.http["requestUri"].strip("/")): r.operation for r in routes
                       if not r.static_query and "{" not in r.operation.http["requestUri"]
                       and (r.method, r.pattern.pattern) not in claimed}

    @classmethod
    def load(cls, name: str, api_version: str) -> Service:
        raw: dict[str, Any] = Loader().load_service_model(name, "service-2", api_version)
        return cls(ServiceModel(raw, service_name=name))

    @property
    def name(self) -> str:
        return str(self.model.service_name)

    def match(self, method: str, path: str, query_keys: set[str]) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation for a request, with the raw (still percent-encoded) URI labels."""
        fixed = self._fixed.get((method, path))
        if fixed is not None:
            return fixed, {}
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found and all(k in query_keys for k in route.static_query):
                return route.operation, found.groupdict()
        return None

    def path_known(self, path: str) -> set[str]:
        """Methods that some operation accepts on ``path`` (for 405-style answers and CORS)."""
        return {r.method for r in self.routes if r.pattern.match(path)}

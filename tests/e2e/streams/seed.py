"""The seed document's own example page, extracted at test time (the last ```html block of
``shared/seed/000_9ac11cafa560a7d0.txt``) and changed only where the issue allows: ``INSTANCE_URL``, the quick
connect endpoint, the two library imports and ``endpoint`` in ``connect.ChatSession.setGlobalConfig``.
Each change must match exactly once, and the result is diffed against the original to prove nothing else moved."""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SEED_NAME = "seed/000_9ac11cafa560a7d0.txt"
# The fences of a Markdown code block; "\```" lines inside the page's own HTML comment are not fences.
OPENING = re.compile(r"^```html\s*$")
CLOSING = re.compile(r"^```\s*$")


def seed_candidates(env: Mapping[str, str]) -> list[Path]:
    """Where the seed document may be: ``$PARLEY_SHARED/seed/…``, then ``<repo>/../shared/seed/…``."""
    candidates = [Path(env["PARLEY_SHARED"]) / SEED_NAME] if env.get("PARLEY_SHARED") else []
    candidates.append(REPO.parent / "shared" / SEED_NAME)
    return candidates


def in_ci(env: Mapping[str, str]) -> bool:
    """``CI`` set to anything but an explicit no (CI services set ``CI=true``; ``CI=1`` counts too)."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class SeedDecision:
    """What the seed-page test does: run on ``path``, or skip / fail with ``reason``."""

    action: str  # "run", "skip" or "fail"
    reason: str
    path: Path | None = None


def decide_seed(env: Mapping[str, str], candidates: list[Path]) -> SeedDecision:
    """Run when the document is there; when it is absent, skip on a developer's clone (a user of the project does
    not have ``../shared``) but fail under ``CI``, where a missing document means the suite is misconfigured."""
    for candidate in candidates:
        if candidate.is_file():
            return SeedDecision("run", "", candidate)
    looked = ", ".join(map(str, candidates))
    if in_ci(env):
        return SeedDecision("fail", f"the seed document is missing under CI; looked at {looked} "
                                    "(set PARLEY_SHARED to the directory that holds seed/)")
    return SeedDecision("skip", f"seed document not found (looked at {looked}); it lives outside the repository: "
                                "set PARLEY_SHARED to the directory that holds seed/ to run this test "
                                "(under CI=true a missing document fails)")


def seed_document(env: Mapping[str, str] | None = None) -> Path:
    """The seed document; skips the calling test when it is absent outside CI, fails when it is absent under CI."""
    environ = os.environ if env is None else env
    decision = decide_seed(environ, seed_candidates(environ))
    if decision.action == "skip":
        pytest.skip(decision.reason)
    if decision.action == "fail":
        pytest.fail(decision.reason)
    assert decision.path is not None
    return decision.path


def extract_page(text: str) -> str:
    """The last ```html block of the document."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if OPENING.match(line)]
    assert starts, "the seed document has no ```html block"
    start = starts[-1]
    end = next((n for n in range(start + 1, len(lines)) if CLOSING.match(lines[n])), None)
    assert end is not None, "the seed document's last ```html block is not closed"
    return "\n".join(lines[start + 1:end]) + "\n"


@dataclass(frozen=True)
class SeedConfig:
    """What a developer fills in to point the seed page at Parley."""

    ccp_url: str
    streams_url: str
    chatjs_url: str
    participant_endpoint: str
    quick_connect: dict[str, str]


def _once(pattern: str, replace: str, page: str, what: str) -> str:
    changed, count = re.subn(pattern, lambda _m: replace, page, flags=re.DOTALL)
    assert count == 1, f"the seed page's {what} ({pattern!r}) matched {count} times, expected once"
    return changed


def configure(page: str, config: SeedConfig) -> str:
    """Apply only the configuration changes the issue allows; returns the new page."""
    js = json.dumps
    qc = config.quick_connect
    page = _once(r'import "https://unpkg\.com/amazon-connect-streams@[^"]+";',
                 f"import {js(config.streams_url)};", page, "StreamsJS import")
    page = _once(r'import "https://unpkg\.com/amazon-connect-chatjs@[^"]+";',
                 f"import {js(config.chatjs_url)};", page, "ChatJS import")
    page = _once(r'const INSTANCE_URL = "[^"]*";', f"const INSTANCE_URL = {js(config.ccp_url)};", page,
                 "INSTANCE_URL")
    page = _once(r"id: '[^']*', // QuickConnectId", f"id: {js(qc['id'])}, // QuickConnectId", page,
                 "quick connect id")
    page = _once(r'endpointARN: "[^"]*", // QuickConnectARN',
                 f"endpointARN: {js(qc['endpointARN'])}, // QuickConnectARN", page, "quick connect ARN")
    page = _once(r'type: "agent", // phone_number, agent, queue',
                 f"type: {js(qc['type'])}, // phone_number, agent, queue", page, "quick connect type")
    page = _once(r'name: "[^"]*", // QuickConnect Name', f"name: {js(qc['name'])}, // QuickConnect Name", page,
                 "quick connect name")
    page = _once(r"connect\.ChatSession\.setGlobalConfig\(\{\n",
                 f"connect.ChatSession.setGlobalConfig({{\n        endpoint: {js(config.participant_endpoint)},\n",
                 page, "ChatSession.setGlobalConfig call")
    return page


def changed_lines(original: str, changed: str) -> list[str]:
    """The lines the configuration added (``+``) or removed (``-``), for the test to check and report."""
    diff = difflib.unified_diff(original.splitlines(), changed.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def seed_page(config: SeedConfig) -> tuple[str, list[str]]:
    """The configured seed page and its diff against the extracted original."""
    original = extract_page(seed_document().read_text())
    page = configure(original, config)
    diff = changed_lines(original, page)
    allowed = ("import ", "const INSTANCE_URL = ", "// QuickConnectId", "// QuickConnectARN",
               "// phone_number, agent, queue", "// QuickConnect Name")
    for line in diff:
        touched = line[1:].strip()
        assert touched.startswith(allowed) or touched.endswith(allowed) or (
            line.startswith("+") and touched == f"endpoint: {json.dumps(config.participant_endpoint)},"
        ), f"the configured seed page changed a line it should not: {line!r}"
    return page, diff

"""Summarizes a py-spy ``--format raw`` profile (collapsed stacks, ``--threads``): top frames by self and
inclusive samples, and where the samples went by thread and by library."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
AREAS = [
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("asyncpg", ("asyncpg/",)),
    ("websockets", ("websockets/",)),
    ("uvicorn", ("uvicorn/",)),
    ("starlette", ("starlette/",)),
    ("botocore", ("botocore/",)),
    ("asyncio", ("asyncio/",)),
]


def _frames(stack: str) -> list[tuple[str, str, str]]:
    out = []
    for raw in stack.split(";"):
        m = FRAME.match(raw.strip())
        if not m:
            out.append((raw.strip(), "", ""))
            continue
        out.append((m.group("func"), m.group("file"), m.group("line") or ""))
    return out


def _where(frames: list[tuple[str, str, str]], files: str, leaf: tuple[str, str, str]) -> str:
    """Which thread, and for the two busiest what it was doing (py-spy counts some waits as busy)."""
    if frames[0][0].endswith("_bootstrap") and "aiosqlite/core.py" in files:
        if leaf[1].endswith("aiosqlite/core.py") and leaf[0] == "_connection_worker_thread" and leaf[2] == "59":
            return "aiosqlite thread: waiting for the next statement (queue get)"
        return "aiosqlite thread: running SQLite (C) and handing results back"
    if frames[0][0].endswith("_bootstrap"):
        return "other threads (thread pool)"
    if leaf[0] == "Runner.run" or leaf[1].startswith("uvloop/"):
        return "event loop thread: inside uvloop (socket I/O, epoll wait; native, not broken down)"
    if leaf[1].endswith("aiosqlite/core.py") and leaf[0] == "Connection._execute":
        return "event loop thread: handing a statement to the aiosqlite thread (queue put, GIL hand-off)"
    return "event loop thread: running Python"


def key(func: str, file: str, line: str = "") -> str:
    return f"{file}:{func}" if file else func


def summarize(path: Path, top: int = 20) -> dict[str, Any]:
    self_c: Counter[str] = Counter()
    incl_parley: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, n = line.rpartition(" ")
        try:
            count = int(n)
        except ValueError:
            continue
        frames = [f for f in _frames(stack) if not f[0].startswith(("thread (", "process "))]
        if not frames:
            continue
        total += count
        files = " ".join(f[1] for f in frames)
        leaf = frames[-1]
        threads[_where(frames, files, leaf)] += count
        self_c[key(*leaf) + (f" (line {leaf[2]})" if leaf[2] else "")] += count
        for name, needles in AREAS:
            if any(n in files for n in needles):
                areas[name] += count
        if "parley/" in files:
            areas["parley (inclusive)"] += count
        seen = set()
        for func, file, _line in frames:
            if file.startswith("parley/") or "/parley/" in file:
                k = key(func, file)
                if k not in seen:
                    seen.add(k)
                    incl_parley[k] += count

    def pcts(c: Counter[str], n: int) -> list[dict[str, Any]]:
        return [{"frame": k, "samples": v, "pct": round(100 * v / max(1, total), 1)} for k, v in c.most_common(n)]

    return {
        "tool": "py-spy record --format raw --threads --nonblocking (busy samples only)",
        "samples": total,
        "threads": pcts(threads, 10),
        "areas_inclusive": pcts(areas, 20),
        "top_self": pcts(self_c, top),
        "top_parley_inclusive": pcts(incl_parley, top + 10),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(summarize(Path(sys.argv[1])), indent=2))

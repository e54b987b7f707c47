"""axe-core (``node_modules/axe-core``, installed by npm) over every frame of a live page: the serious and critical
violations, printed readably."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"


@dataclass(frozen=True)
class AxeFinding:
    frame: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        shown = "\n      ".join(self.targets[:6])
        return f"  [{self.impact}] {self.rule}: {self.help}\n    in {self.frame}\n      {shown}"


AXE_RUN = """async () => {
  const result = await axe.run(document, { iframes: false, resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => JSON.stringify(n.target) + " " + (n.failureSummary || "").replace(/\\s+/g, " ")) }));
}"""


async def axe_check(page: Any, label: str) -> list[AxeFinding]:
    """axe-core over every frame of ``page``; the serious and critical violations.

    ``page.add_script_tag`` inserts an inline script, which the pages' strict CSP (``script-src 'self'`` + the
    import map's hash) blocks, with a violation report the watch would count. So the axe source is evaluated
    through the DevTools protocol (``frame.evaluate``), which CSP does not govern: the page keeps its real policy
    and axe runs on the live page mid-chat (no ``bypass_csp`` context and no second page load needed). Each frame
    is checked on its own (``iframes: false``), so axe never waits on a frame it was not injected into.
    """
    source = AXE.read_text()
    findings: list[AxeFinding] = []
    for frame in page.frames:
        if frame.url in ("", "about:blank") or frame.is_detached():
            continue
        await frame.evaluate(source + "\n;void 0")
        for v in await frame.evaluate(AXE_RUN):
            if v["impact"] in ("serious", "critical"):
                findings.append(AxeFinding(f"{label}: {frame.url}", v["id"], v["impact"], v["help"], v["targets"]))
    return findings


def assert_no_axe(findings: list[AxeFinding]) -> None:
    assert not findings, "axe-core: serious or critical violations:\n" + "\n".join(map(str, findings))

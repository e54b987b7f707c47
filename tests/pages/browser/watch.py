"""The watch over a test's browser contexts: any console error, page error, CSP violation (console message or
``securitypolicyviolation`` event), script dialog or request to a host other than the test's own fails the test at
its teardown (``conftest.browse``); errors a test provokes on purpose are declared with :meth:`Watch.expect_error`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Runs in every frame of every watched page before the page's own scripts: a CSP violation event (also from a
# report-only policy, which logs no error) is handed to the test through a binding. Playwright injects init
# scripts and bindings through the DevTools protocol, which the pages' CSP does not govern.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const report = window.__parleyTestCspViolation;
  if (typeof report === "function") {
    report({ page: String(e.documentURI), directive: String(e.violatedDirective), blocked: String(e.blockedURI),
             source: String(e.sourceFile) + ":" + e.lineNumber, disposition: String(e.disposition) });
  }
}, true);
"""


@dataclass(frozen=True)
class Expected:
    """A console error a test provokes on purpose (e.g. the 403 of a refused start), with why."""

    text: str
    url: str
    why: str

    def matches(self, text: str, url: str) -> bool:
        return self.text in text and self.url in url


@dataclass
class Watch:
    """Everything a test's browser contexts did wrong; :meth:`assert_clean` runs at the test's teardown."""

    hosts: set[str]
    expected: list[Expected] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def allow_origin(self, origin: str) -> None:
        """Another page server of the test (e.g. a website on its own port)."""
        self.hosts.add(urlsplit(origin).netloc)

    def expect_error(self, text: str, url: str, why: str) -> None:
        self.expected.append(Expected(text, url, why))

    async def attach(self, context: Any, name: str) -> None:
        await context.expose_binding("__parleyTestCspViolation",
                                     lambda source, report: self._csp(report, name))
        await context.add_init_script(CSP_LISTENER)
        context.on("page", lambda page: self._page(page, name))
        context.on("request", lambda request: self._request(request.url, name))

    def _page(self, page: Any, name: str) -> None:
        page.on("console", lambda message: self._console(message, name))
        page.on("pageerror", lambda error: self.problems.append(f"[{name} pageerror] {error}"))
        page.on("websocket", lambda socket: self._request(socket.url, name))
        page.on("dialog", lambda dialog: self._dialog(dialog, name))

    def _console(self, message: Any, name: str) -> None:
        url = str((message.location or {}).get("url", ""))
        line = f"[{name} console.{message.type}] {message.text} @ {url}"
        self.lines.append(line)
        if message.type != "error" and "Content Security Policy" not in message.text:
            return
        if any(rule.matches(message.text, url) for rule in self.expected):
            self.accepted.append(line)
        else:
            self.problems.append(line)

    def _csp(self, report: dict[str, Any], name: str) -> None:
        self.problems.append(f"[{name} CSP violation] {json.dumps(report)}")

    async def _dialog(self, dialog: Any, name: str) -> None:
        # A dialog in a chat page means a script ran that no page of Parley opens (e.g. alert() from a message).
        self.dialogs.append(f"[{name} {dialog.type}] {dialog.message}")
        self.problems.append(f"[{name} dialog {dialog.type}] {dialog.message}")
        await dialog.dismiss()

    def _request(self, url: str, name: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return  # data:, blob:, about:
        self.requests.append(url)
        if parts.netloc not in self.hosts:
            self.problems.append(f"[{name}] request to another host: {url}")

    def tail(self, count: int = 60) -> str:
        return "\n".join(line[:400] for line in self.lines[-count:])

    def assert_clean(self) -> None:
        assert not self.problems, ("the browser reported problems:\n" + "\n".join(p[:800] for p in self.problems)
                                   + f"\n\nconsole (tail):\n{self.tail()}")

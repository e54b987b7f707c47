"""The two places real ChatJS runs in these tests: a Node.js process (customer.js, JSON lines over stdio) and a
Chromium page (page.html, served from its own origin so every Parley call is cross-origin)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

from .harness import HERE, POLL, WAIT, Chat, Event, chatjs_bundle, dump, outcome

CHROMIUM = Path("/usr/bin/chromium")
# Flags for Debian's chromium in a container: no sandbox (root), no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# page.evaluate has no timeout of its own: a ChatJS promise that never settles resolves to null instead.
RUN_WITH_TIMEOUT = """([command, args, ms]) => Promise.race([
  window.customer.run(command, args),
  new Promise((resolve) => setTimeout(() => resolve(null), ms)),
])"""


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (Node.js 20+) is not on PATH; the ChatJS e2e tests need it")
    return node


class NodeCustomer:
    """``node customer.js`` for one chat: a reader thread collects its stdout lines (events and replies)."""

    def __init__(self, chat: Chat, version: str) -> None:
        chatjs_bundle(version)
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._replies: dict[Any, dict[str, Any]] = {}
        self._next_id = 0
        self._stderr: deque[str] = deque(maxlen=200)
        self.process = subprocess.Popen(
            [node_executable(), str(HERE / "customer.js"), "--chatjs", version, "--endpoint", chat.server.url],
            cwd=HERE, env={**os.environ, "PARLEY_CHAT_DETAILS": json.dumps(chat.details)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        loaded = self._reply("start", WAIT)
        outcome(self, "connect()", loaded, expect_error=False)
        versions = [e["data"]["version"] for e in self.events() if e["event"] == "loaded"]
        assert versions == [version], f"node loaded ChatJS {versions}, not {version}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            with self._lock:
                if "reply" in message:
                    self._replies[message["reply"]] = message
                else:
                    self._events.append(message)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    def _reply(self, reply_id: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if reply_id in self._replies:
                    return self._replies.pop(reply_id)
            if self.process.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"node exited with {self.process.returncode}\n{dump(self)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to {reply_id} within {timeout}s\n{dump(self)}")
            time.sleep(POLL / 5)

    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = WAIT,
             expect_error: bool = False) -> Any:
        self._next_id += 1
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": self._next_id, "cmd": command, "args": args or {}}) + "\n")
        self.process.stdin.flush()
        return outcome(self, command, self._reply(self._next_id, timeout), expect_error)

    def diagnostics(self) -> str:
        return "node stderr (tail):\n" + "".join(list(self._stderr)[-40:])

    def close(self) -> None:
        if self.process.stdin:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)


class PageServer:
    """Serves page.html, driver.js and each ChatJS dist bundle from ``http://localhost:<own port>``, an origin
    other than Parley's ``http://127.0.0.1:<port>``: every Participant Service call the page makes is CORS."""

    def __init__(self) -> None:
        routes: dict[str, tuple[Path, str]] = {"/driver.js": (HERE / "driver.js", "text/javascript")}
        for version in ("5.0.0", "3.0.3"):
            routes[f"/{version}/"] = (HERE / "page.html", "text/html; charset=utf-8")
            routes[f"/{version}/chatjs.js"] = (chatjs_bundle(version), "text/javascript")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = routes.get(self.path.split("?")[0])
                if found is None:
                    self.send_error(404)
                    return
                body = found[0].read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", found[1])
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, version: str) -> str:
        return f"http://localhost:{self.port}/{version}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class BrowserCustomer:
    """page.html in a fresh Chromium context; ``window.events`` is the event log, ``window.customer`` the driver."""

    def __init__(self, browser: Any, pages: PageServer, chat: Chat, version: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.failed_requests: list[str] = []
        self._events: list[Event] = []
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        self.page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))
        self.page.on("requestfailed", lambda req: self.failed_requests.append(
            f"{req.method} {req.url}: {req.failure}"))
        self.page.goto(pages.url(version))
        self.page.wait_for_function("() => window.customer !== undefined", timeout=WAIT * 1000)
        origin = self.page.evaluate("location.origin")
        assert origin != chat.server.url, "the page must be cross-origin to Parley, so CORS is exercised"
        self.call("start", {"endpoint": chat.server.url, "details": chat.details})

    def events(self) -> list[Event]:
        if not self.page.is_closed():
            self._events.extend(self.page.evaluate("(n) => window.events.slice(n)", len(self._events)))
        return list(self._events)

    def call(self, command: str, args: dict[str, Any] | None = None, *, timeout: float = WAIT,
             expect_error: bool = False) -> Any:
        reply = self.page.evaluate(RUN_WITH_TIMEOUT, [command, args or {}, timeout * 1000])
        if reply is None:
            raise AssertionError(f"ChatJS {command} did not settle within {timeout}s\n{dump(self)}")
        return outcome(self, command, reply, expect_error)

    def errors(self) -> list[str]:
        return [line for line in self.console if line.startswith(("error:", "pageerror:"))]

    def diagnostics(self) -> str:
        return "console:\n  " + "\n  ".join(self.console[-60:]) + "\nfailed requests:\n  " + "\n  ".join(
            self.failed_requests)

    def close(self) -> None:
        self.context.close()

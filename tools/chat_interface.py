"""``python -m tools.chat_interface --bundle PATH``: checks that Amazon's own customer chat UI,
amazon-connect-chat-interface, runs against Parley unmodified.

It starts a demo Parley on a free port, creates a widget whose allowed origin is the host page's, writes a host page
(modelled on the repository's ``local-testing/index.html``) and its configuration file ``backendEndpoints.js`` into
a temporary directory, serves them from ``http://localhost:<free port>``, and drives headless Debian Chromium
through a chat: Jane starts it, a scripted agent (``parley.client.Agent``, agent1) accepts it, messages and typing
go both ways, and Jane ends it. It prints PASS, FAIL or SKIP per step and exits non-zero when a step fails.

The configuration differs from Amazon's only in its values and one added line::

    var apiGatewayEndpoint = "http://127.0.0.1:PORT/widget/WIDGET_ID/start-chat";
    var region = "us-west-2";
    connect.ChatSession.setGlobalConfig({ region: "us-west-2", endpoint: "http://127.0.0.1:PORT" });

The package is not on the npm registry; build the bundle from its repository (needs Node 20 and the npm registry;
about 3 minutes on two cores, most of it the package's own Jest suite, which ``npm run build`` runs first)::

    git clone https://github.com/amazon-connect/amazon-connect-chat-interface.git /tmp/chat-interface
    cd /tmp/chat-interface
    npm_config_yes=true npm install   # its preinstall hook runs `npx npm-force-resolutions`, which needs the yes
    npm run build                     # `npm ci` refuses: the lockfile is out of step with package.json
    python -m tools.chat_interface --bundle /tmp/chat-interface/build/dist/static/js/amazon-connect-chat-interface.js

Checked with commit 40df506 (2026-02-04; it bundles amazon-connect-chatjs 3.0.3) built on Node 20.20 / npm 11.19,
where npm only warns that four install scripts (core-js, core-js-pure, husky, styled-components) were not run:
none is needed for the build.

Run it from the repository root with ``.venv/bin/python`` (Playwright for Python, ``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import ConsoleMessage, Page, Request, async_playwright

from parley.client import CHAT_ENDED, METADATA, Agent, AgentChat, Item, is_typing, message_with
from tools.screenshots import CHROMIUM, FLAGS, ROOT, demo_server, free_port

BUNDLE_NAME = "amazon-connect-chat-interface.js"
PASSWORD = "Parley-demo-1"
REGION = "us-west-2"
WAIT_MS = 15_000
# Nothing the page does may leave this machine (ChatJS's CSM telemetry worker would try).
NO_OUTSIDE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"

CONFIGURATION = """\
// Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.
// SPDX-License-Identifier: MIT-0
// local-testing/backendEndpoints.js, filled in for Parley.

var contactFlowId = ""; // not needed: Parley starts the chat in the widget's contact flow
var instanceId = ""; // not needed: the widget's instance
var apiGatewayEndpoint = {api};
var region = {region};
connect.ChatSession.setGlobalConfig({{ region: {region}, endpoint: {endpoint} }});
"""

HOST_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>amazon-connect-chat-interface on Parley</title>
  <link rel="icon" href="data:,">
  <script src="amazon-connect-chat-interface.js"></script>
  <script src="backendEndpoints.js"></script>
</head>
<body>
  <main>
    <h1>amazon-connect-chat-interface on Parley</h1>
    <form id="contactDetails">
      <label for="firstName">Name</label> <input id="firstName" name="firstName">
      <button type="submit">Start Chat</button>
    </form>
    <section id="section-chat" style="width: 420px; height: 640px;"><div id="root"></div></section>
  </main>
  <script>
    window.run = { started: false, failure: null, disconnected: false };
    connect.ChatInterface.init({ containerId: "root" });
    document.getElementById("contactDetails").addEventListener("submit", function (e) {
      e.preventDefault();
      var customerName = document.getElementById("firstName").value;
      connect.ChatInterface.initiateChat({
        name: customerName,
        region: region,
        apiGatewayEndpoint: apiGatewayEndpoint,
        contactAttributes: JSON.stringify({ customerName: customerName }),
        featurePermissions: { ATTACHMENTS: false },
        supportedMessagingContentTypes: "text/plain,text/markdown",
        contactFlowId: contactFlowId,
        instanceId: instanceId
      }, function (chatSession) {
        window.run.started = true;
        chatSession.onChatDisconnected(function () { window.run.disconnected = true; });
      }, function (error) {
        window.run.failure = error;
      });
    });
  </script>
</body>
</html>
"""


class StepFailed(Exception):
    """A step's check did not hold; the message says what was seen."""


@dataclass
class Run:
    """What the scenario saw: step results and everything the chat page did wrong."""

    page_origin: str
    parley: str
    results: list[tuple[str, str, str]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    blocked: bool = False

    def record(self, name: str, status: str, detail: str = "") -> None:
        detail = detail if len(detail) <= 500 else detail[:500] + " …"
        self.results.append((name, status, detail))
        print(f"{status:4}  {name}" + (f": {detail}" if detail else ""), flush=True)

    async def step(self, name: str, check: Callable[[], Awaitable[str | None]]) -> None:
        """Run one check unless an earlier one failed (then SKIP: the scenario builds on every step)."""
        if self.blocked:
            self.record(name, "SKIP")
            return
        try:
            detail = await check()
        except Exception as exc:  # a step's failure is reported, and the steps after it are skipped
            self.blocked = True
            self.record(name, "FAIL", f"{type(exc).__name__}: {exc}".strip())
        else:
            self.record(name, "PASS", detail or "")

    def watch(self, page: Page) -> None:
        """Record the page's console errors, failed requests and requests to hosts other than page and Parley."""
        allowed = {self.page_origin, self.parley}

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.console_errors.append(message.text[:300])

        def check_host(url: str) -> None:
            parts = urlsplit(url)
            scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
            if scheme in {"http", "https"} and f"{scheme}://{parts.netloc}" not in allowed:
                self.outside_requests.append(url[:200])

        def on_failed(request: Request) -> None:
            self.failed_requests.append(f"{request.method} {request.url[:160]} ({request.failure})")

        page.on("console", on_console)
        page.on("request", lambda request: check_host(request.url))
        page.on("websocket", lambda socket: check_host(socket.url))
        page.on("requestfailed", on_failed)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"[:300]))

    @property
    def failed(self) -> bool:
        return any(status != "PASS" for _, status, _ in self.results)


@contextlib.contextmanager
def static_site(directory: Path, port: int) -> Iterator[None]:
    """Serve ``directory`` on 127.0.0.1:``port`` (the page is opened as http://localhost:port)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def create_widget(data_dir: Path, parley: str, origin: str) -> str:
    """A widget of the demo instance that allows ``origin``; its id (``parley widget create``)."""
    cli = shutil.which("parley", path=str(ROOT / ".venv" / "bin")) or "parley"
    out = subprocess.run([cli, "widget", "create", "--data-dir", str(data_dir), "--instance", "demo",
                          "--name", "amazon-connect-chat-interface", "--origin", origin, "--public-url", parley],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if key == "id":
            return value.strip()
    raise SystemExit(f"parley widget create printed no id:\n{out}")


def write_site(directory: Path, bundle: Path, parley: str, widget_id: str) -> None:
    shutil.copyfile(bundle, directory / BUNDLE_NAME)
    (directory / "backendEndpoints.js").write_text(CONFIGURATION.format(
        api=json.dumps(f"{parley}/widget/{widget_id}/start-chat"), region=json.dumps(REGION),
        endpoint=json.dumps(parley)))
    (directory / "index.html").write_text(HOST_PAGE)


def _receipt_read(message_ids: list[str]) -> Callable[[Item], bool]:
    """A read receipt for one of ``message_ids`` (ChatJS throttles receipts and sends the newest message's)."""
    def matches(item: Item) -> bool:
        metadata = item.get("MessageMetadata") or {}
        return (item.get("ContentType") == METADATA and metadata.get("MessageId") in message_ids
                and any(r.get("ReadTimestamp") for r in metadata.get("Receipts") or []))
    return matches


def _from_customer(predicate: Callable[[Item], bool]) -> Callable[[Item], bool]:
    return lambda item: predicate(item) and item.get("ParticipantRole") == "CUSTOMER"


async def scenario(run: Run, page_url: str, refused_url: str) -> None:
    """The steps, in order; each one needs the ones before it."""
    parley = run.parley
    async with async_playwright() as pw, Agent(parley, "agent1", PASSWORD, poll_seconds=2) as agent:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, NO_OUTSIDE])
        try:
            context = await browser.new_context(viewport={"width": 1000, "height": 800})
            refused = await context.new_page()
            page = await context.new_page()
            run.watch(page)
            state: dict[str, Any] = {}

            async def refused_origin() -> str:
                await refused.goto(refused_url)
                await refused.get_by_label("Name").fill("Mallory")
                await refused.get_by_role("button", name="Start Chat").click()
                await refused.get_by_text("Initialization failed").wait_for(timeout=WAIT_MS)
                failure = await refused.evaluate("window.run.failure")
                body = (failure or {}).get("json") or {}
                if (failure or {}).get("status") != 403 or body.get("Code") != "OriginNotAllowed":
                    raise StepFailed(f"failure handler got {failure!r}")
                await refused.close()
                return f"{urlsplit(refused_url).netloc}: 403 OriginNotAllowed, 'Initialization failed' shown"

            async def bundle_loads() -> str:
                await page.goto(page_url)
                kinds = await page.evaluate(
                    "[typeof connect.ChatInterface.initiateChat, typeof connect.ChatSession.setGlobalConfig]")
                if kinds != ["function", "function"]:
                    raise StepFailed(f"connect.ChatInterface / connect.ChatSession: {kinds}")
                return "connect.ChatInterface and connect.ChatSession defined"

            async def start_chat() -> str:
                await agent.go_available()
                await page.get_by_label("Name").fill("Jane")
                async with page.expect_response(lambda r: r.url.endswith("/start-chat")
                                                and r.request.method == "POST") as answer:
                    await page.get_by_role("button", name="Start Chat").click()
                response = await answer.value
                body = await response.json()
                result = (body.get("data") or {}).get("startChatResult") or {}
                if response.status != 200 or not {"ContactId", "ParticipantId", "ParticipantToken"} <= set(result):
                    raise StepFailed(f"{response.status} {body}")
                await page.wait_for_function("window.run.started || window.run.failure", timeout=WAIT_MS)
                if not await page.evaluate("window.run.started"):
                    raise StepFailed(f"failure handler: {await page.evaluate('window.run.failure')}")
                return f"200 data.startChatResult, contact {result['ContactId']}"

            async def agent_accepts() -> str:
                offer = await agent.wait_for_offer(timeout=WAIT_MS / 1000)
                if offer.customer_name != "Jane":
                    raise StepFailed(f"offered a chat with {offer.customer_name!r}")
                state["offer"], state["chat"] = offer, await agent.accept(offer)
                await page.get_by_text("Agent1 has joined the chat").wait_for(timeout=WAIT_MS)
                return "offer accepted; the window shows 'Agent1 has joined the chat'"

            async def customer_typing() -> str:
                chat: AgentChat = state["chat"]
                editor = page.get_by_test_id("rich-text-editor")
                await editor.click()
                await editor.press_sequentially("My parcel", delay=60)
                await chat.wait_for(_from_customer(is_typing), timeout=WAIT_MS / 1000)
                return "the agent received Jane's typing event"

            async def customer_message() -> str:
                chat: AgentChat = state["chat"]
                editor = page.get_by_test_id("rich-text-editor")
                await editor.press_sequentially(" is late", delay=30)
                await page.get_by_label("Send Message").click()
                item = await chat.wait_for(message_with("My parcel is late"), timeout=WAIT_MS / 1000)
                if (item.get("DisplayName"), item.get("ParticipantRole")) != ("Jane", "CUSTOMER"):
                    raise StepFailed(f"the agent got it from {item.get('DisplayName')} ({item.get('ParticipantRole')})")
                await page.locator(".transcript").get_by_text("My parcel is late").wait_for(timeout=WAIT_MS)
                return "the agent got 'My parcel is late' from Jane (CUSTOMER); the window shows it"

            async def agent_typing() -> str:
                chat: AgentChat = state["chat"]
                dots = page.locator('.transcript [direction="Incoming"] span > span')
                if await dots.count():
                    raise StepFailed("typing dots were shown before the agent typed")
                await chat.typing()
                await dots.first.wait_for(timeout=WAIT_MS)
                return "the window shows the agent's typing dots"

            async def agent_message() -> str:
                chat: AgentChat = state["chat"]
                state["sent"] = [await chat.send("Let me check that for you.")]
                await page.locator(".transcript").get_by_text("Let me check that for you.").wait_for(timeout=WAIT_MS)
                return "the window shows 'Let me check that for you.'"

            async def agent_markdown() -> str:
                chat: AgentChat = state["chat"]
                state["sent"].append(await chat.send("Your parcel is **on its way**.", content_type="text/markdown"))
                await page.locator(".transcript strong", has_text="on its way").wait_for(timeout=WAIT_MS)
                return "text/markdown rendered with <strong>"

            async def read_receipt() -> str:
                chat: AgentChat = state["chat"]
                item = await chat.wait_for(_receipt_read(state["sent"]), timeout=WAIT_MS / 1000)
                which = state["sent"].index(item["MessageMetadata"]["MessageId"]) + 1
                return f"MESSAGEMETADATA with ReadTimestamp for the agent's message {which} of {len(state['sent'])}"

            async def customer_ends() -> str:
                chat: AgentChat = state["chat"]
                await page.get_by_role("button", name="End chat").click()
                await chat.wait_for(lambda item: item.get("ContentType") == CHAT_ENDED, timeout=WAIT_MS / 1000)
                await agent.wait_for_contact_state(state["offer"], "ended", timeout=WAIT_MS / 1000)
                await page.wait_for_function("window.run.disconnected", timeout=WAIT_MS)
                await agent.clear(state["offer"])
                return "chat.ended reached the agent, the contact ended, the page got onChatDisconnected"

            await run.step("an origin the widget does not allow is refused", refused_origin)
            await run.step("the bundle loads and the configuration line runs", bundle_loads)
            await run.step("Jane starts a chat through POST /widget/<id>/start-chat", start_chat)
            await run.step("agent1 is offered the chat and accepts it", agent_accepts)
            await run.step("Jane's typing reaches the agent", customer_typing)
            await run.step("Jane's message reaches the agent", customer_message)
            await run.step("the agent's typing shows in the chat window", agent_typing)
            await run.step("the agent's message shows in the chat window", agent_message)
            await run.step("the agent's markdown message is rendered", agent_markdown)
            await run.step("Jane's read receipt reaches the agent", read_receipt)
            await run.step("Jane ends the chat and the agent sees it end", customer_ends)
            await page.wait_for_timeout(500)  # anything the page still does after the chat ended is recorded too
        finally:
            await browser.close()
    for name, problems in (("no console errors", run.console_errors), ("no failed requests", run.failed_requests),
                           ("no request to another host", run.outside_requests)):
        run.record(name, "FAIL" if problems else "PASS", "; ".join(problems[:5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True,
                        help="the built amazon-connect-chat-interface.js (build/dist/static/js/ after npm run build)")
    args = parser.parse_args()
    if not args.bundle.is_file():
        raise SystemExit(f"no bundle at {args.bundle}; see `python -m tools.chat_interface --help` and this "
                         "module's docstring for how to build it")
    page_port = free_port()
    page_origin = f"http://localhost:{page_port}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="parley-chat-interface-") as tmp, demo_server(Path(tmp)) as parley:
        site = Path(tmp) / "site"
        site.mkdir()
        widget_id = create_widget(Path(tmp), parley, page_origin)
        write_site(site, args.bundle, parley, widget_id)
        print(f"Parley {parley}, widget {widget_id}, host page {page_origin}/", flush=True)
        run = Run(page_origin, parley)
        with static_site(site, page_port):
            asyncio.run(scenario(run, f"{page_origin}/", f"http://127.0.0.1:{page_port}/"))
    passed = sum(status == "PASS" for _, status, _ in run.results)
    print(f"{passed}/{len(run.results)} steps passed in {time.monotonic() - started:.0f} s")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()

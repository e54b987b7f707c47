"""Playwright helpers the StreamsJS e2e tests share: a console/request watch over a whole browser context
(pages, popups and their frames), the agent's sign-in through StreamsJS's login popup and the CCP iframe's
status selector, StreamsJS state read from the agent page, and a ChatJS customer page."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import Server

from .pages import PageServer

CHATJS_DRIVER = Path(__file__).resolve().parents[1] / "chatjs" / "driver.js"
PASSWORD = "Parley-demo-1"
# Generous for a loaded CI machine; every wait polls a condition, none sleeps blindly.
WAIT = 20.0
# StreamsJS opens the login popup only after its CCP ACK timeout (5 s) and re-creates the iframe every 5 s.
SIGN_IN_WAIT = 40.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass(frozen=True)
class Allowed:
    """A console error the tests accept, with the reason it cannot be avoided."""

    text: str
    url: str
    why: str

    def matches(self, text: str, url: str) -> bool:
        return self.text in text and self.url in url


@dataclass
class Watch:
    """Every console error, uncaught exception and off-machine request of the contexts it watches."""

    allowed: list[Allowed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)

    def attach(self, context: Any, name: str) -> None:
        context.on("page", lambda page: self.attach_page(page, name))
        context.on("request", lambda request: self._request(request.url, name))

    def attach_page(self, page: Any, name: str) -> None:
        page.on("console", lambda message: self._console(message, name))
        page.on("pageerror", lambda error: self._error(f"[{name} pageerror] {error}", "", ""))

    def _console(self, message: Any, name: str) -> None:
        url = str((message.location or {}).get("url", ""))
        line = f"[{name} {message.type}] {message.text} @ {url}"
        self.lines.append(line)
        if message.type == "error":
            self._error(line, message.text, url)

    def _error(self, line: str, text: str, url: str) -> None:
        if any(rule.matches(text, url) for rule in self.allowed):
            self.accepted.append(line)
        else:
            self.errors.append(line)

    def _request(self, url: str, name: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.remote.append(f"[{name}] {url}")

    def tail(self, count: int = 80) -> str:
        return "\n".join(line[:500] for line in self.lines[-count:])

    def assert_clean(self) -> None:
        assert not self.remote, "requests left the machine:\n" + "\n".join(self.remote)
        assert not self.errors, "browser console errors:\n" + "\n".join(e[:800] for e in self.errors)


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT,
                diagnostics: Callable[[], str] = lambda: "") -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` and diagnostics otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{diagnostics()}")
        await asyncio.sleep(0.1)


# StreamsJS state, read in the agent page (``connect`` is the page's global). Connections come from the contact's
# data, not from getConnections(): building a chat Connection object makes StreamsJS start its media controller
# (ChatJS connect) at once, which would race the page's own getMediaController() and onConnectionEstablished.
CONTACTS_JS = """() => {
  try {
    return new connect.Agent().getContacts().map((c) => ({
      id: c.getContactId(), initial: c.getInitialContactId(), type: c.getType(), state: c.getStatus().type,
      connections: (c._getData().connections || []).map((k) => ({ type: k.type, state: k.state.type })),
    }));
  } catch (e) { return null; }
}"""
AGENT_NAME_JS = "() => { try { return new connect.Agent().getName(); } catch (e) { return null; } }"
# connection.destroy() on the agent's own connection of its (only) chat: how a page makes its agent leave.
LEAVE_JS = """() => new Promise((resolve, reject) => {
  const contact = new connect.Agent().getContacts(connect.ContactType.CHAT)[0];
  contact.getAgentConnection().destroy({
    success: () => resolve(contact.getContactId()),
    failure: (err) => reject(new Error("destroy failed: " + err)),
  });
})"""


@dataclass
class AgentPage:
    """One agent: a browser context with the custom agent page and the CCP iframe it framed."""

    username: str
    context: Any
    page: Any
    frame: Any
    watch: Watch

    async def contacts(self) -> list[dict[str, Any]]:
        return list(await self.page.evaluate(CONTACTS_JS) or [])

    async def wait_contact(self, state: str, what: str, timeout: float = WAIT) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            return next((c for c in await self.contacts() if c["state"] == state), None)
        found: dict[str, Any] = await until(check, f"{self.username}: {what}", timeout, self.diagnostics)
        return found

    async def wait_text(self, selector: str, text: str, timeout: float = WAIT) -> None:
        locator = self.page.locator(selector, has_text=text).first
        try:
            await locator.wait_for(timeout=timeout * 1000)
        except Exception as err:
            shown = await self.page.locator(selector).all_inner_texts()
            raise AssertionError(f"{self.username}: {text!r} never appeared in {selector}; shown: {shown}\n"
                                 f"{self.diagnostics()}") from err

    async def set_state(self, name: str) -> None:
        await self.frame.locator("select.state").select_option(name)
        await until(lambda: self.page.evaluate(
            "(n) => { try { return new connect.Agent().getState().name === n; } catch (e) { return false; } }", name),
            f"{self.username} to be {name}", diagnostics=self.diagnostics)

    async def close_contact(self, contact_id: str) -> None:
        """The CCP iframe's "Close" button on the ended contact (StreamsJS ``contact.clear()``)."""
        card = self.frame.locator(f'section.contact[data-contact-id="{contact_id}"]')
        await card.locator("button", has_text="Close").click()
        await until(lambda: self._gone(contact_id), f"{self.username}: contact {contact_id} cleared",
                    diagnostics=self.diagnostics)

    async def _gone(self, contact_id: str) -> bool:
        return all(c["id"] != contact_id for c in await self.contacts())

    def diagnostics(self) -> str:
        return f"console (tail):\n{self.watch.tail()}"


async def sign_in(browser: Any, watch: Watch, url: str, username: str, container: str,
                  *, available: bool = True) -> AgentPage:
    """Open the agent page in a fresh context, sign in through StreamsJS's login popup, wait for the CCP
    iframe's agent UI and for ``connect.agent``, then pick Available in the iframe's status selector."""
    context = await browser.new_context()
    watch.attach(context, username)
    page = await context.new_page()
    async with context.expect_page(timeout=SIGN_IN_WAIT * 1000) as popup_info:
        await page.goto(url)
    popup = await popup_info.value
    await popup.wait_for_load_state()
    await popup.locator("input[name=username]").fill(username)
    await popup.locator("input[name=password]").fill(PASSWORD)
    await popup.locator("button[type=submit]").click()
    frame = page.frame_locator(f"{container} iframe")
    agent = AgentPage(username, context, page, frame, watch)
    await until(lambda: page.evaluate(AGENT_NAME_JS), f"{username}: connect.agent after sign-in", SIGN_IN_WAIT,
                agent.diagnostics)
    await frame.locator("select.state").wait_for(timeout=WAIT * 1000)
    if available:
        await agent.set_state("Available")
    return agent


# ------------------------------------------------------------------------------------------- the customer
CUSTOMER_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Parley e2e: ChatJS customer</title><link rel="icon" href="data:,"></head>
<body>
<script src="{chatjs}"></script>
<script src="/customer/driver.js"></script>
<script>
  window.events = [];
  window.customer = window.ParleyCustomer.createCustomer(window.connect, function (event) {{
    window.events.push(event);
  }});
</script>
</body>
</html>
"""


@dataclass
class Customer:
    """A ChatJS CUSTOMER in its own context and page, on the ChatJS bundle Parley serves."""

    context: Any
    page: Any
    details: dict[str, str]

    @classmethod
    async def start(cls, browser: Any, watch: Watch, pages: PageServer, server: Server, chatjs: str,
                    details: dict[str, str]) -> Customer:
        pages.add("/customer/driver.js", CHATJS_DRIVER.read_bytes(), "text/javascript; charset=utf-8")
        url = pages.add(f"/customer/{chatjs}.html", CUSTOMER_PAGE.format(
            chatjs=f"{server.url}/lib/chatjs/{chatjs}/amazon-connect-chat.js"))
        context = await browser.new_context()
        watch.attach(context, "customer")
        page = await context.new_page()
        await page.goto(url)
        customer = cls(context, page, details)
        assert await page.evaluate("() => Boolean(window.connect && window.connect.ChatSession)"), \
            "ChatJS did not load in the customer page"
        await customer.call("start", {"endpoint": server.url, "details": details})
        return customer

    async def call(self, command: str, args: dict[str, Any] | None = None) -> Any:
        reply = await self.page.evaluate(
            """([command, args, ms]) => Promise.race([window.customer.run(command, args),
                 new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), ms))])""",
            [command, args or {}, WAIT * 1000])
        assert reply and not reply.get("timedOut"), f"customer {command} did not settle: {reply}"
        assert reply.get("ok"), f"customer {command} failed: {json.dumps(reply)[:1000]}"
        return reply.get("result")

    async def events(self) -> list[dict[str, Any]]:
        return list(await self.page.evaluate("() => window.events"))

    async def wait_message(self, text: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            return next((e["data"] for e in await self.events() if e["event"] == "onMessage"
                         and (e["data"] or {}).get("Content") == text), None)
        found: dict[str, Any] = await until(check, f"the customer to see {text!r}")
        return found

    async def copies(self) -> dict[str, int]:
        """How many distinct agent messages (by Id) the customer received for each text."""
        ids: dict[str, set[str]] = {}
        for event in await self.events():
            data = event["data"] or {}
            agent_message = data.get("ParticipantRole") == "AGENT" and data.get("Type") == "MESSAGE"
            if event["event"] == "onMessage" and agent_message:
                ids.setdefault(str(data.get("Content")), set()).add(str(data["Id"]))
        return {text: len(found) for text, found in ids.items()}

    async def wait_event(self, name: str) -> None:
        await until(lambda: self._has(name), f"the customer's {name}")

    async def _has(self, name: str) -> bool:
        return any(e["event"] == name for e in await self.events())

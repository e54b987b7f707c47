"""What the browser tests of the customer pages share: the chat as the customer sees it, driven only by the
accessible names of notes/widget-contract.md; the scripted agents (``parley.client.Agent``); the widget's JSON web
tokens; and the contacts Parley holds. (The console/request watch is in ``watch.py``, axe-core in ``axe.py``.)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.client import Agent, AgentContact, ParleyError

PASSWORD = "Parley-demo-1"
# Every wait polls a condition; none sleeps blindly. Generous for a 2-core machine running other suites.
WAIT = 15.0
WAIT_MS = WAIT * 1000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"

async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy; fail saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


# ---------------------------------------------------------------------------------------- the customer's chat
@dataclass
class ChatView:
    """The conversation as the customer sees it, in the frame that holds the log named "Conversation"."""

    frame: Any

    def by_role(self, role: str, name: str | None = None, *, exact: bool = True) -> Any:
        if name is None:
            return self.frame.get_by_role(role)
        return self.frame.get_by_role(role, name=name, exact=exact)

    @property
    def log(self) -> Any:
        return self.frame.get_by_role("log", name="Conversation")

    def text(self, text: str) -> Any:
        """Elements of the log whose whole text is ``text``."""
        return self.log.get_by_text(text, exact=True)

    async def see(self, text: str, timeout: float = WAIT) -> None:
        try:
            await self.text(text).first.wait_for(timeout=timeout * 1000)
        except Exception as err:
            raise AssertionError(f"the customer never saw {text!r}; the log shows:\n{await self.shown()}") from err

    async def see_in_page(self, text: str, timeout: float = WAIT) -> None:
        """``text`` anywhere in the chat's frame (a status line, a banner), not only in the log."""
        try:
            await self.frame.get_by_text(text, exact=True).first.wait_for(timeout=timeout * 1000)
        except Exception as err:
            body = await self.frame.locator("body").inner_text()
            raise AssertionError(f"the customer never saw {text!r}; the frame shows:\n{body[:3000]}") from err

    async def count(self, text: str) -> int:
        return int(await self.text(text).count())

    async def shown(self) -> str:
        try:
            return str(await self.log.inner_text(timeout=2000))
        except Exception as err:  # the log is not there at all
            return f"(no log: {err})"

    def item(self, text: str) -> Any:
        """The message item that holds ``text``: the innermost list item or article of the log around it."""
        inner = self.frame.get_by_text(text, exact=True)  # relative to each candidate item
        return self.log.locator("li, article, [role=listitem], [role=article]").filter(has=inner).last

    async def send(self, text: str) -> None:
        box = self.by_role("textbox", "Message")
        await box.fill(text)
        await self.by_role("button", "Send").click()

    async def end(self) -> None:
        """"End chat", then "Yes, end chat" in the confirmation."""
        await self.by_role("button", "End chat").click(timeout=WAIT_MS)
        confirm = self.by_role("button", "Yes, end chat")
        try:
            await confirm.wait_for(timeout=WAIT_MS)
        except Exception as err:
            body = await self.frame.locator("body").inner_text()
            raise AssertionError("no 'Yes, end chat' after pressing 'End chat'; the frame shows:\n"
                                 + body[:3000]) from err
        await confirm.click(timeout=WAIT_MS)


async def find_chat(page: Any, timeout: float = WAIT) -> ChatView:
    """The frame of ``page`` (the page itself or an iframe: the test chat page may embed the widget window) that
    shows the conversation log."""

    async def check() -> Any:
        for frame in page.frames:
            with contextlib.suppress(Exception):
                log = frame.get_by_role("log", name="Conversation")
                if await log.count() and await log.first.is_visible():
                    return frame
        return None

    try:
        frame = await until(check, "the conversation log (role=log, name Conversation)", timeout)
    except AssertionError as err:
        bodies = []
        for frame in page.frames:
            with contextlib.suppress(Exception):
                bodies.append(f"--- {frame.url}\n{(await frame.locator('body').inner_text())[:1500]}")
        raise AssertionError(f"{err}\n" + "\n".join(bodies)) from err
    return ChatView(frame)


@dataclass(frozen=True)
class Started:
    """A chat the customer started from a page: what it shows and what the start endpoint answered."""

    chat: ChatView
    contact_id: str
    participant_id: str


async def open_test_chat(page: Any, url: str) -> None:
    """``/test-chat`` with its defaults picked: the demo instance and its default contact flow."""
    await page.goto(url + "/test-chat")
    instance = page.get_by_role("combobox", name="Instance", exact=True)
    flow = page.get_by_role("combobox", name="Contact flow", exact=True)
    await instance.wait_for(timeout=WAIT_MS)
    await until(lambda: instance.input_value(), "the Instance combobox to have a default")
    await until(lambda: flow.input_value(), "the Contact flow combobox to have a default")


async def start_test_chat(page: Any, url: str, name: str = "Jane", attributes: str | None = None) -> Started:
    """Open ``/test-chat``, keep the defaults, type the name (and attributes), press "Start chat"."""
    await open_test_chat(page, url)
    await page.get_by_role("textbox", name="Your name", exact=True).fill(name)
    if attributes is not None:
        await page.get_by_role("textbox", name="Contact attributes", exact=True).fill(attributes)
    async with page.expect_response(lambda r: r.url.endswith("/test-chat/start"), timeout=WAIT_MS) as answer:
        await page.get_by_role("button", name="Start chat", exact=True).click()
    response = await answer.value
    body = await response.json()
    assert response.status == 200, f"/test-chat/start answered {response.status}: {body}"
    return Started(await find_chat(page), str(body["ContactId"]), str(body["ParticipantId"]))


async def find_in_frames(page: Any, make: Callable[[Any], Any], what: str, timeout: float = WAIT) -> Any:
    """The first visible locator ``make(frame)`` in any frame of ``page``."""

    async def check() -> Any:
        for frame in page.frames:
            with contextlib.suppress(Exception):
                locator = make(frame)
                if await locator.count() and await locator.first.is_visible():
                    return locator.first
        return None

    return await until(check, what, timeout)


# ------------------------------------------------------------------------------------------------- the agents
@asynccontextmanager
async def agents(url: str, *usernames: str) -> AsyncIterator[dict[str, Agent]]:
    """The demo agents signed in (Offline until a test makes them Available); at the end every contact they still
    hold is completed (left and cleared), so the next test of the module finds them routable."""
    async with AsyncExitStack() as stack:
        signed: dict[str, Agent] = {}
        for name in usernames:
            signed[name] = await stack.enter_async_context(Agent(url, name, PASSWORD, poll_seconds=2))
        try:
            yield signed
        finally:
            for agent in signed.values():
                await settle(agent)


async def settle(agent: Agent) -> None:
    with contextlib.suppress(Exception):  # a test that failed may leave the agent in any state
        for contact in await agent.contacts():
            with contextlib.suppress(ParleyError):
                if contact.state == "connecting":
                    await agent.reject(contact)
                else:
                    await agent.complete(contact)


async def offer_for(agent: Agent, customer: str, timeout: float = WAIT) -> AgentContact:
    offer = await agent.wait_for_offer(timeout=timeout)
    assert offer.customer_name == customer, f"{agent.username} was offered {offer.customer_name}'s chat"
    return offer


def message_ids(items: list[dict[str, Any]], text: str) -> set[str]:
    """Distinct Ids of the messages with content ``text`` among a participant's received items."""
    return {str(i["Id"]) for i in items if i.get("Type") == "MESSAGE" and i.get("Content") == text}


# ----------------------------------------------------------------------------------------------- widget tokens
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def widget_token(key: str, widget_id: str, *, issued: float | None = None, lifetime: float = 300,
                 attributes: dict[str, str] | None = None) -> str:
    """An HS256 JSON web token as a website's server signs one for a widget with a security key."""
    iat = int(time.time() if issued is None else issued)
    claims: dict[str, Any] = {"sub": widget_id, "iat": iat, "exp": iat + int(lifetime)}
    if attributes is not None:
        claims["attributes"] = attributes
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


# ---------------------------------------------------------------------------------------------- the contacts
def count_contacts(data_dir: Path) -> int:
    """How many contacts Parley's database holds. The Connect API of Parley has no ListContacts or SearchContacts
    to count them with, so the server's own SQLite file is read (read-only)."""
    db = data_dir / "parley.db"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])


def tag() -> str:
    """A short marker that makes each test's message texts unique."""
    return hashlib.sha256(str(time.monotonic_ns()).encode()).hexdigest()[:6]


"""Driving the agent workspace as an agent does, through its accessible names (notes on UI.md): sign in through
the CCP's sign-in page, set the Status, read the conversation log, and count what it shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.pages.browser.axe import assert_no_axe, axe_check
from tests.pages.browser.support import DESKTOP, PHONE

PASSWORD = "Parley-demo-1"
WAIT = 20.0
WAIT_MS = WAIT * 1000


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


async def sign_in(page: Any, url: str, username: str, *, available: bool = True) -> None:
    """Open ``/agent`` signed out, follow "Sign in" to the CCP's sign-in page, come back signed in."""
    await page.goto(f"{url}/agent")
    await page.get_by_role("link", name="Sign in").click()
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("button[type=submit]").click()
    await page.get_by_label("Status").wait_for(timeout=WAIT_MS)
    if available:
        await set_status(page, "Available")


async def set_status(page: Any, name: str) -> None:
    await page.get_by_label("Status").select_option(name)
    await until(lambda: page.evaluate(
        "(n) => { try { return new connect.Agent().getState().name === n; } catch (e) { return false; } }", name),
        f"the agent's status to be {name}")


def log(page: Any) -> Any:
    return page.get_by_role("log", name="Conversation")


async def wait_in_log(page: Any, text: str) -> None:
    await log(page).get_by_text(text, exact=True).first.wait_for(timeout=WAIT_MS)


async def shown_messages(page: Any) -> dict[str, int]:
    """How many times each message text is shown in the conversation log."""
    texts: list[str] = await log(page).locator(".message .text").all_inner_texts()
    counts: dict[str, int] = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    return counts


async def shown_ids(page: Any) -> list[str]:
    return list(await log(page).locator("[data-id]").evaluate_all("(els) => els.map((e) => e.dataset.id)"))


async def check_page(page: Any, label: str, shots: Path, name: str, *, phone: bool = True) -> None:
    """axe-core on the page as it is, and screenshots at desktop and phone width."""
    assert_no_axe(await axe_check(page, label))
    await page.screenshot(path=str(shots / f"workspace-{name}.png"))
    if phone:
        await page.set_viewport_size(PHONE)
        await page.wait_for_timeout(150)
        await page.screenshot(path=str(shots / f"workspace-{name}-phone.png"))
        await page.set_viewport_size(DESKTOP)
        await page.wait_for_timeout(150)


async def accept_offer(page: Any, customer: str, region: str = "Incoming chat") -> None:
    """Accept the offer named ``region`` for ``customer``'s chat and wait for the conversation to open."""
    offer = page.get_by_role("region", name=region).filter(has_text=customer)
    await offer.get_by_role("button", name="Accept").click(timeout=WAIT_MS)
    await page.get_by_role("heading", name=customer, exact=True).wait_for(timeout=WAIT_MS)


async def pick(page: Any, mode: str, quick_connect: str) -> None:
    """Open the picker ("Add participant" or "Transfer"), search, and choose ``quick_connect``."""
    await page.get_by_role("button", name=mode, exact=True).click()
    picker = page.get_by_role("dialog", name=mode)
    await picker.get_by_label("Search quick connects").fill(quick_connect)
    await picker.get_by_role("button", name=quick_connect).click()
    await picker.wait_for(state="hidden")


async def roster_text(page: Any) -> str:
    return str(await page.locator(".roster").inner_text())


async def wait_roster(page: Any, line: str) -> None:
    """Wait until the roster shows ``line`` (e.g. "Agent2\\nAgent · Left")."""
    async def shows() -> bool:
        return line in await roster_text(page)
    try:
        await until(shows, f"{line!r} in the roster")
    except AssertionError as err:
        raise AssertionError(f"{err}; the roster shows:\n{await roster_text(page)}") from err

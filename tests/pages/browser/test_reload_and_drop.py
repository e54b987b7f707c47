"""Reloading the customer page and cutting its websocket mid-chat lose nothing and show nothing twice.

The websocket is cut with Playwright's websocket routing (``context.route_web_socket``): every participant socket
of the customer's context goes through a route connected to Parley (``connect_to_server``), so the test can close
both ends at once, as a dropped network would, and refuse every new socket until the network is back (each new
socket is closed as soon as the page opens it). The page's HTTP calls keep working meanwhile, so what is tested is
the widget's own recovery: a fresh connection and the transcript fetched again, not a retried HTTP request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from parley.client import message_with
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT, agents, find_chat, message_ids, offer_for, start_test_chat, tag

pytestmark = pytest.mark.e2e


async def test_reload_mid_chat_restores_the_conversation_once(parley: Server, browse: Browse) -> None:
    t = tag()
    page = await browse.page()
    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        started = await start_test_chat(page, parley.url, "Jane")
        chat = started.chat
        line = await agent1.accept(await offer_for(agent1, "Jane"))

        said: list[str] = []
        for n in range(1, 4):
            mine, theirs = f"customer says {n} ({t})", f"agent says {n} ({t})"
            await chat.send(mine)
            await line.wait_for(message_with(mine), timeout=WAIT)
            await line.send(theirs)
            await chat.see(theirs)
            said += [mine, theirs]

        await page.reload()
        chat = await find_chat(page)
        for text in said:
            await chat.see(text)
        for text in said:
            assert await chat.count(text) == 1, f"{text!r} is shown {await chat.count(text)} times after the reload"

        # The chat goes on both ways, on the same contact.
        after_mine, after_theirs = f"customer after reload ({t})", f"agent after reload ({t})"
        await chat.send(after_mine)
        got = await line.wait_for(message_with(after_mine), timeout=WAIT)
        assert got["DisplayName"] == "Jane"
        await line.send(after_theirs)
        await chat.see(after_theirs)
        assert await chat.count(after_theirs) == 1
        for text in [*said[::2], after_mine]:
            assert len(message_ids(line.received, text)) == 1, f"the agent got {text!r} more than once"
        for text in said:
            assert await chat.count(text) == 1

        await chat.end()
        await chat.see_in_page("Chat ended")


@dataclass
class SocketCutter:
    """Routes every websocket of a context through Playwright so a test can drop them all at once."""

    down: bool = False
    live: list[Any] = field(default_factory=list)
    refused: int = 0
    opened: int = 0

    async def install(self, context: Any) -> None:
        await context.route_web_socket("**/*", self._route)

    async def _route(self, ws: Any) -> None:
        self.opened += 1
        if self.down:
            self.refused += 1
            await ws.close(code=1011, reason="network down (test)")
            return
        server = ws.connect_to_server()
        self.live.append((ws, server))

    async def drop(self) -> None:
        self.down = True
        for page_side, server_side in self.live:
            await server_side.close(code=1011, reason="network down (test)")
            await page_side.close(code=1011, reason="network down (test)")
        self.live.clear()

    def restore(self) -> None:
        self.down = False


async def test_websocket_drop_mid_chat_loses_and_repeats_nothing(parley: Server, browse: Browse) -> None:
    t = tag()
    context = await browse.context()
    cutter = SocketCutter()
    await cutter.install(context)
    page = await context.new_page()
    async with agents(parley.url, "agent1") as desk:
        agent1 = desk["agent1"]
        await agent1.go_available()
        started = await start_test_chat(page, parley.url, "Jane")
        chat = started.chat
        line = await agent1.accept(await offer_for(agent1, "Jane"))
        before = f"before the drop ({t})"
        await line.send(before)
        await chat.see(before)
        assert cutter.live, "the customer's websocket did not go through the route"

        await cutter.drop()
        await chat.by_role("status").filter(has_text="Reconnecting…").first.wait_for(timeout=WAIT * 1000)
        during = [f"said during the drop {n} ({t})" for n in range(1, 4)]
        for text in during:
            await line.send(text)
        cutter.restore()

        for text in during:
            await chat.see(text, timeout=2 * WAIT)
        await chat.frame.get_by_text("Reconnecting…", exact=True).wait_for(state="hidden", timeout=WAIT * 1000)
        for text in [before, *during]:
            assert await chat.count(text) == 1, f"{text!r} is shown {await chat.count(text)} times after the drop"

        # Both ways still work after the reconnect.
        mine, theirs = f"customer after the drop ({t})", f"agent after the drop ({t})"
        await chat.send(mine)
        await line.wait_for(message_with(mine), timeout=WAIT)
        await line.send(theirs)
        await chat.see(theirs)
        assert len(message_ids(line.received, mine)) == 1
        for text in [before, *during, theirs]:
            assert await chat.count(text) == 1
        print(f"websockets routed: {cutter.opened}, refused while down: {cutter.refused}")

        await chat.end()
        await chat.see_in_page("Chat ended")

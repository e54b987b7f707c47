"""A six-party chat as the customer sees it on ``/test-chat``: agent1 adds agent2 … agent5 through its USER quick
connects; the customer sees each join, tells the agents apart by name, sees no receipts and no error while more
than two are in the chat, and sees an agent leave."""

from __future__ import annotations

import pytest

from parley.client import Agent, AgentChat, message_with
from tests.conftest import Server

from .conftest import Browse
from .support import WAIT, agents, message_ids, offer_for, start_test_chat, tag, until

pytestmark = pytest.mark.e2e

NAMES = [f"Agent{n}" for n in range(1, 6)]


async def test_six_party_chat_as_the_customer_sees_it(parley: Server, browse: Browse) -> None:
    t = tag()
    page = await browse.page()
    async with agents(parley.url, *(f"agent{n}" for n in range(1, 6))) as desk:
        await desk["agent1"].go_available()  # only agent1 is routable when the chat starts
        started = await start_test_chat(page, parley.url, "Jane")
        chat = started.chat
        offer = await offer_for(desk["agent1"], "Jane")
        lines: dict[int, AgentChat] = {1: await desk["agent1"].accept(offer)}

        for n in range(2, 6):
            agent = desk[f"agent{n}"]
            await agent.go_available()
            await desk["agent1"].invite(offer, f"Transfer-to-agent-{n}")
            invited = await agent.wait_for_offer(timeout=WAIT)
            assert invited.initial_contact_id == started.contact_id
            lines[n] = await agent.accept(invited)
            await chat.see(f"Agent{n} joined")

        # Each agent's message shows under that agent's name, and no other agent's.
        said = {n: f"Hello from agent {n} ({t})" for n in range(1, 6)}
        for n, line in lines.items():
            await line.send(said[n])
        for n in range(1, 6):
            await chat.see(said[n])
            assert await chat.count(said[n]) == 1
            item = chat.item(said[n])
            await item.get_by_text(f"Agent{n}", exact=True).first.wait_for(timeout=WAIT * 1000)
            others = [name for name in NAMES if name != f"Agent{n}"]
            shown = await item.inner_text()
            assert not any(name in shown for name in others), f"agent {n}'s message names another agent: {shown}"

        # The customer talks to all of them. Receipts are not shown with six in the chat (Parley, like Connect,
        # refuses them with more than two participants), and the page shows no error for it.
        question = f"Who handles my parcel? ({t})"
        await chat.send(question)
        for line in lines.values():
            got = await line.wait_for(message_with(question), timeout=WAIT)
            assert got["DisplayName"] == "Jane"
            assert len(message_ids(line.received, question)) == 1
        marker = f"Agent1 answers ({t})"
        await lines[1].send(marker)
        await chat.see(marker)
        mine = chat.item(question)
        assert await mine.get_by_text("Read", exact=True).count() == 0
        assert await mine.get_by_text("Delivered", exact=True).count() == 0
        alerts = chat.frame.get_by_role("alert")
        assert await alerts.count() == 0, await alerts.all_inner_texts()

        # An agent leaves: the customer is told, and the chat goes on with the others.
        await lines[3].leave()
        await chat.see("Agent3 left")
        after = f"Agent2 is still here ({t})"
        await lines[2].send(after)
        await chat.see(after)

        await chat.end()
        for n in (1, 2, 4, 5):
            await until(lambda n=n: _ended(desk[f"agent{n}"]), f"agent{n}'s contact to end")
        await chat.see_in_page("Chat ended")


async def _ended(agent: Agent) -> bool:
    return all(c.state == "ended" for c in await agent.contacts())

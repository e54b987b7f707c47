"""parley.client.Agent against a dedicated demo server: sign-in through the form, agent states, offers, a
three-way conference through a quick connect, refusals, leaving, after-contact work, reject and transfer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from parley.client import (
    CHAT_ENDED,
    LEFT,
    Agent,
    AgentChat,
    ChatParticipant,
    Item,
    ItemPredicate,
    ParleyError,
    RosterEntry,
    customer,
    is_message,
    message_with,
)
from tests.conftest import Server, serving

PASSWORD = "Parley-demo-1"


@pytest.fixture(scope="module")
def srv() -> Iterator[Server]:
    """A server of its own: these tests change agent states, which would route other modules' chats."""
    with serving(["--demo"]) as server:
        yield server


def demo_agent(srv: Server, username: str, **options: Any) -> Agent:
    """A demo agent with short snapshot polls: the server answers a poll it holds only when the snapshot changes
    or the poll times out, and it finishes held polls before it stops."""
    return Agent(srv.url, username, PASSWORD, poll_seconds=2, **options)


def left(name: str) -> ItemPredicate:
    return lambda i: i["ContentType"] == LEFT and i.get("DisplayName") == name


def texts(items: list[Item]) -> list[str]:
    return [i["Content"] for i in items if is_message(i)]


async def drain(chat: ChatParticipant, timeout: float = 10.0) -> list[Item]:
    async with asyncio.timeout(timeout):
        return [item async for item in chat.items()]


async def test_sign_in_states_and_tokens(srv: Server) -> None:
    with pytest.raises(ParleyError) as refused:
        async with Agent(srv.url, "agent1", "not-the-password", poll_seconds=2):
            pass
    assert refused.value.code == "UnauthorizedException" and refused.value.status == 401
    assert refused.value.message  # the form's message, not HTML

    async with demo_agent(srv, "agent1") as agent:
        assert agent.name == "Agent1 Demo" and agent.state == "Offline"
        await agent.go_available()
        assert agent.state == "Available"
        await agent.wait_for_contact_gone("no-such-contact")  # the poll is running and the agent has no contacts
        with pytest.raises(ParleyError) as bad_state:
            await agent.set_state("Napping")
        assert bad_state.value.code == "InvalidParameterException"
        names = [e.name for e in await agent.quick_connects()]
        assert names == [*(f"Transfer-to-agent-{n}" for n in range(1, 6)), "Transfer-to-BasicQueue"]

        first = agent.access_token
        assert first and await agent.refresh_token() != first
        await agent.sign_out()  # the session ends; the next call signs in again
        assert (await agent._http.get(srv.url + "/auth/authorize")).status_code == 401  # really signed out
        assert await agent.contacts() == []
        assert agent.access_token not in (None, first)
        await agent.go_offline()
        assert agent.state == "Offline"

    # With refresh_before longer than the token's life, every call renews it first.
    async with demo_agent(srv, "agent2", refresh_before=48 * 3600) as eager:
        before = eager.access_token
        await eager.contacts()
        assert eager.access_token != before


async def test_three_way_conference(srv: Server) -> None:
    async with demo_agent(srv, "agent1") as agent1, demo_agent(srv, "agent2") as agent2:
        await agent1.go_available()
        async with await customer(srv.url, "Jane") as jane:
            offer = await agent1.wait_for_offer(10)
            assert offer.initial_contact_id == jane.contact_id == offer.contact_id
            assert offer.customer_name == "Jane" and offer.is_offer
            chat1 = await agent1.accept(offer)
            assert offer.own is not None and offer.own.type == "agent" and offer.own.state == "connecting"
            assert isinstance(chat1, AgentChat) and chat1.participant_id == offer.own.connection_id
            await agent1.wait_for_contact_state(offer, "connected")

            # Two-way.
            await jane.send("Hello, my parcel is late")
            got = await chat1.wait_for(message_with("Hello, my parcel is late"))
            assert got["ParticipantRole"] == "CUSTOMER" and got["DisplayName"] == "Jane"
            await chat1.send("Let me check")
            reply = await jane.wait_for(message_with("Let me check"))
            assert reply["ParticipantRole"] == "AGENT" and reply["DisplayName"] == "Agent1"

            # agent1 invites agent2 through the USER quick connect; agent2 is offered a segment of the same chat.
            await agent2.go_available()
            await agent1.invite(offer, "Transfer-to-agent-2")
            assert RosterEntry("Agent2", "outbound", "connecting") in await agent1.roster(offer)
            invitation = await agent2.wait_for_offer(10)
            assert invitation.initiation_method == "transfer" and invitation.contact_id != offer.contact_id
            assert invitation.initial_contact_id == jane.contact_id
            chat2 = await agent2.accept(invitation, history=True)
            assert texts(chat2.received)[:2] == ["Hello, my parcel is late", "Let me check"]  # the earlier transcript

            # Three-way: each sees the others' messages.
            for sender, text in ((jane, "jane says hi"), (chat1, "agent1 says hi"), (chat2, "agent2 says hi")):
                await sender.send(text)
                for reader in (jane, chat1, chat2):
                    await reader.wait_for(message_with(text))

            # Every party's snapshot lists everyone with their names.
            connected = await agent1.wait_for_contact(offer, lambda c: all(x.state == "connected"
                                                                          for x in c.connections))
            assert sorted(connected.roster()) == sorted([
                RosterEntry("Jane", "inbound", "connected"), RosterEntry("Agent1", "agent", "connected"),
                RosterEntry("Agent2", "outbound", "connected")])
            assert sorted(await agent2.roster(invitation)) == sorted([
                RosterEntry("Jane", "inbound", "connected"), RosterEntry("Agent2", "agent", "connected"),
                RosterEntry("Agent1", "outbound", "connected")])

            # Refusals carry the CTI error code and leave the chat unchanged.
            with pytest.raises(ParleyError) as again:
                await agent1.invite(offer, "Transfer-to-agent-2")
            assert again.value.code == "InvalidStateException" and "already in this chat" in again.value.message
            for n in (3, 4, 5):  # pending invitations take seats: 3 present + 3 invited = 6
                await agent1.invite(offer, f"Transfer-to-agent-{n}")
            with pytest.raises(ParleyError) as full:
                await agent1.invite(offer, "Transfer-to-BasicQueue")
            assert (full.value.code, full.value.status) == ("LimitExceededException", 400)
            with pytest.raises(ParleyError) as unknown:
                await agent1.invite(offer, "Transfer-to-nobody")
            assert unknown.value.code == "ResourceNotFoundException"
            for name in ("Agent3", "Agent4", "Agent5"):  # cancel the invitations by display name
                await agent2.remove(invitation, name)
            assert [e.state for e in await agent1.roster(offer) if e.name in ("Agent3", "Agent4", "Agent5")] == \
                ["disconnected"] * 3

            # agent1 leaves: the chat goes on between Jane and agent2; agent1 is in after-contact work.
            await chat1.leave()
            await jane.wait_for(left("Agent1"))
            assert (await drain(chat1))[-1]["ContentType"] == LEFT  # agent1's stream ends with its own leaving
            await agent1.wait_for_contact_state(offer, "ended")
            await agent1.clear(offer)
            await agent1.wait_for_contact_gone(offer)
            await jane.send("still there?")
            await chat2.wait_for(message_with("still there?"))
            await chat2.send("yes")
            await jane.wait_for(message_with("yes"))
            assert "yes" not in texts(chat1.received)

            # The customer leaves: the chat ends and agent2's contact enters after-contact work until cleared.
            await jane.disconnect()
            assert (await drain(chat2))[-1]["ContentType"] == CHAT_ENDED
            ended = await agent2.wait_for_contact_state(invitation, "ended")
            assert {e.state for e in ended.roster()} == {"disconnected"}
            with pytest.raises(ParleyError) as still:
                await agent2.leave(invitation)
            assert still.value.code == "InvalidStateException"
            await agent2.clear(invitation)
            assert await agent2.contacts() == []


async def test_reject_transfer_and_remove_the_customer(srv: Server) -> None:
    async with (demo_agent(srv, "agent3") as agent3, demo_agent(srv, "agent4") as agent4,
                demo_agent(srv, "agent5") as agent5):
        await agent3.go_available()
        async with await customer(srv.url, "Ann") as ann:
            offer = await agent3.wait_for_offer(10)
            await agent3.reject(offer)  # the contact waits for another agent
            await agent3.wait_for_contact_gone(offer)
            await agent4.go_available()
            async for offered in agent4.offers():
                assert offered.contact_id == ann.contact_id
                break
            chat4 = await agent4.accept(offered)
            await ann.send("can you transfer me?")
            await chat4.wait_for(message_with("can you transfer me?"))

            # A transfer disconnects the transferring agent and offers a new segment to the target.
            await agent5.go_available()
            await agent4.transfer(offered, "Transfer-to-agent-5")
            await drain(chat4)
            await agent4.wait_for_contact_state(offered, "ended")
            await agent4.complete(offered)
            segment = await agent5.wait_for_offer(10)
            assert segment.initiation_method == "transfer" and segment.initial_contact_id == ann.contact_id
            chat5 = await agent5.accept(segment)
            await chat5.send("Agent5 here")
            await ann.wait_for(message_with("Agent5 here"))
            assert [e.name for e in await agent5.roster(segment) if e.state == "connected"] == ["Ann", "Agent5"]

            # Removing the customer ends the chat for everyone.
            await agent5.remove(segment, "Ann")
            assert (await drain(ann))[-1]["ContentType"] == CHAT_ENDED
            await agent5.wait_for_contact_state(segment, "ended")
            await agent5.clear(segment)

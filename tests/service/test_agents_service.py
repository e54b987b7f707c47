"""The agent use cases (``parley.service.agents.AgentService``) in process, on a real storage: states (Offline
until set, Available, custom statuses that take no chats, unknown ones refused), accepting and rejecting offers,
after-contact work that holds a chat slot until it is cleared, invitations through quick connects counted against
the conference cap of 6 seats (pending ones included), and a transfer that disconnects every agent of the chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.domain.agents import NOT_ROUTABLE, OFFLINE, ROUTABLE
from parley.domain.callers import SYSTEM
from parley.domain.contact import AGENT, CLOSED, CONNECTED, ENDED, INVITE_SEGMENT, QUEUED, TRANSFER_SEGMENT
from parley.domain.errors import InvalidParameter, InvalidRequest, LimitExceeded, NotFound
from parley.domain.transcript import INVITED, JOINED, LEFT, TRANSFER_SUCCEEDED
from parley.service.agents import ContactStateError
from parley.service.contacts import StartedChat
from tests.service.agent_world import Staff, World, open_world, says


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    made = await open_world(f"sqlite:///{tmp_path / 'parley.db'}", monkeypatch)
    try:
        yield made
    finally:
        await made.close()


async def connected_chat(world: World, staff: Staff, name: str = "Jane") -> StartedChat:
    chat = await world.customer(name)
    await world.offer_and_accept(staff, chat)
    return chat


async def agent_participant(world: World, contact_id: str) -> str:
    participant = (await world.contact(contact_id)).agent_participant_id
    assert participant is not None
    return participant


# states -------------------------------------------------------------------------------------------------
async def test_an_agent_is_offline_until_it_sets_a_state(world: World) -> None:
    ann = await world.agent("ann", available=False)
    presence = await world.presence(ann)
    assert (presence.state_name, presence.state_type, presence.routable) == ("Offline", OFFLINE, False)

    available = await world.set_state(ann, "Available")
    assert (available.state_name, available.state_type, available.routable) == ("Available", ROUTABLE, True)
    assert (await world.presence(ann)) == available
    offline = await world.set_state(ann, "Offline")
    assert (offline.state_type, offline.routable) == (OFFLINE, False)


async def test_states_are_the_enabled_statuses_in_display_order(world: World) -> None:
    ann = await world.agent("ann")
    await world.custom_status("Lunch")
    assert [s.name for s in await world.agents.states(ann.who)] == ["Available", "Offline", "Lunch"]


async def test_a_custom_state_is_not_routable_and_gets_no_offers(world: World) -> None:
    ann = await world.agent("ann")
    lunch = await world.custom_status("Lunch")
    presence = await world.agents.set_state(ann.who, lunch.id, None)  # by id, as StreamsJS sends it
    assert (presence.state_name, presence.state_type, presence.state_id) == ("Lunch", NOT_ROUTABLE, lunch.id)

    chat = await world.customer()
    assert await world.route() == 0
    assert (await world.contact(chat.contact_id)).state == QUEUED


async def test_an_unknown_state_is_refused_and_changes_nothing(world: World) -> None:
    ann = await world.agent("ann")
    before = await world.presence(ann)
    with pytest.raises(InvalidParameter, match=says("There is no agent status 'Nap' in this instance.")):
        await world.set_state(ann, "Nap")
    with pytest.raises(InvalidParameter, match="no agent status 'not-an-id'"):
        await world.agents.set_state(ann.who, "not-an-id", None)
    assert await world.presence(ann) == before


# offers -------------------------------------------------------------------------------------------------
async def test_accepting_an_offer_joins_the_agent_to_the_chat(world: World) -> None:
    ann = await world.agent("ann")
    chat = await connected_chat(world, ann)

    segment = await world.contact(chat.contact_id)
    assert (segment.state, segment.agent_user_id, segment.offer_expires) == (CONNECTED, ann.id, None)
    joined = [p for p in await world.participants(chat.contact_id) if p.role == AGENT]
    assert [(p.id, p.user_id, p.display_name, p.active) for p in joined] == [
        (segment.agent_participant_id, ann.id, "Ann", True)]
    events = [i for i in await world.transcript(chat.contact_id) if i.content_type == JOINED]
    assert [e.participant_id for e in events][-1] == segment.agent_participant_id
    assert await world.agents.chats_of(ann.who) == {chat.contact_id: segment.agent_participant_id}

    await world.agents.accept(ann.who, chat.contact_id)  # again (another tab): nothing changes
    assert len([p for p in await world.participants(chat.contact_id) if p.role == AGENT]) == 1


async def test_only_the_agent_offered_can_accept(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    chat = await world.customer()
    await world.route()
    with pytest.raises(NotFound, match=f"^Contact {chat.contact_id} is not offered to you.$"):
        await world.agents.accept(bob.who, chat.contact_id)
    with pytest.raises(ContactStateError, match="is not offered to you"):
        await world.agents.reject(bob.who, chat.contact_id)
    assert await world.offered_to(ann) == [chat.contact_id]


async def test_an_offer_of_a_chat_the_customer_left_cannot_be_accepted(world: World) -> None:
    ann = await world.agent("ann")
    chat = await world.customer()
    await world.route()
    await world.contacts.stop(SYSTEM, world.instance_id, chat.contact_id)
    with pytest.raises(ContactStateError):
        await world.agents.accept(ann.who, chat.contact_id)
    assert not [p for p in await world.participants(chat.contact_id) if p.role == AGENT]


async def test_a_rejected_offer_goes_to_another_agent(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    chat = await world.customer()
    await world.route()
    await world.agents.reject(ann.who, chat.contact_id)

    waiting = await world.contact(chat.contact_id)
    assert (waiting.state, waiting.agent_user_id, waiting.skip_user_ids) == (QUEUED, None, (ann.id,))
    assert await world.route() == 1
    assert await world.offered_to(bob) == [chat.contact_id]
    assert await world.offered_to(ann) == []
    with pytest.raises(ContactStateError):
        await world.agents.reject(ann.who, chat.contact_id)


# after-contact work -------------------------------------------------------------------------------------
async def test_after_contact_work_holds_a_slot_until_it_is_cleared(world: World) -> None:
    one_chat = await world.routing_profile("One chat", 1, [world.basic_queue])
    ann = await world.agent("ann", profile_id=one_chat.id)
    first = await connected_chat(world, ann, "First")
    second = await world.customer("Second")

    with pytest.raises(ContactStateError, match="is still active"):
        await world.agents.clear(ann.who, first.contact_id)
    await world.agents.destroy_connection(ann.who, first.contact_id, await agent_participant(world, first.contact_id))
    acw = await world.contact(first.contact_id)
    assert (acw.state, acw.disconnect_reason) == (ENDED, "AGENT_DISCONNECT")
    assert acw.after_contact_work_start is not None and acw.after_contact_work_end is None
    assert await world.route() == 0  # the slot is still taken
    assert (await world.contact(second.contact_id)).state == QUEUED

    await world.agents.clear(ann.who, first.contact_id)
    cleared = await world.contact(first.contact_id)
    assert cleared.state == CLOSED and cleared.after_contact_work_end is not None
    assert await world.route() == 1
    assert await world.offered_to(ann) == [second.contact_id]


async def test_only_the_agent_of_a_contact_can_clear_it(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    chat = await connected_chat(world, ann)
    await world.agents.destroy_connection(ann.who, chat.contact_id, await agent_participant(world, chat.contact_id))
    with pytest.raises(NotFound, match="is not one of yours"):
        await world.agents.clear(bob.who, chat.contact_id)
    assert (await world.contact(chat.contact_id)).state == ENDED


async def test_complete_leaves_and_clears_at_once(world: World) -> None:
    ann = await world.agent("ann")
    chat = await connected_chat(world, ann)
    await world.agents.complete(ann.who, chat.contact_id)
    assert (await world.contact(chat.contact_id)).state == CLOSED
    assert await world.agents.chats_of(ann.who) == {}


# invitations ----------------------------------------------------------------------------------------------
async def test_invitations_count_against_the_six_seats(world: World) -> None:
    ann = await world.agent("ann")
    others = [await world.agent(name) for name in ("bob", "cy", "dee", "eve")]
    extra = await world.agent("fay")
    arns = {s.id: await world.user_quick_connect(s) for s in [*others, extra]}
    to_queue = await world.queue_quick_connect()
    chat = await connected_chat(world, ann)  # the customer and Ann: 2 seats

    invitations = [await world.agents.invite(ann.who, chat.contact_id, arns[s.id], "agent") for s in others]
    segments = await world.segments(chat.contact_id)
    assert sorted(s.id for s in segments if s.segment_kind == INVITE_SEGMENT) == sorted(invitations)
    invited = [i for i in await world.transcript(chat.contact_id) if i.content_type == INVITED]
    assert len(invited) == 4

    for endpoint in (arns[extra.id], to_queue):  # 2 seated + 4 pending = 6: full, whatever the quick connect
        with pytest.raises(LimitExceeded, match=says("This chat already has 6 of its 6 participants", whole=False)):
            await world.agents.invite(ann.who, chat.contact_id, endpoint, "agent")
    assert len(await world.segments(chat.contact_id)) == len(segments)  # nothing was added

    # An accepted invitation still takes its seat; a cancelled one frees it.
    await world.route()
    await world.agents.accept(others[0].who, invitations[0])
    with pytest.raises(LimitExceeded):
        await world.agents.invite(ann.who, chat.contact_id, to_queue, "queue")
    cancelled = await agent_participant(world, invitations[1])
    await world.agents.destroy_connection(ann.who, chat.contact_id, cancelled)
    assert (await world.contact(invitations[1])).state == CLOSED
    fresh = await world.agents.invite(ann.who, chat.contact_id, to_queue, "queue")
    assert (await world.contact(fresh)).queue_id == world.basic_queue


async def test_an_agent_cannot_be_invited_twice(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    to_bob = await world.user_quick_connect(bob)
    chat = await connected_chat(world, ann)
    await world.agents.invite(ann.who, chat.contact_id, to_bob, "agent")
    with pytest.raises(InvalidRequest, match=says("Bob has already been invited to this chat.")):
        await world.agents.invite(ann.who, chat.contact_id, to_bob, "agent")
    to_ann = await world.user_quick_connect(ann)
    with pytest.raises(InvalidRequest, match=says("Ann is already in this chat.")):
        await world.agents.invite(ann.who, chat.contact_id, to_ann, "agent")


async def test_invitations_need_multi_party_chat_and_a_quick_connect_of_the_instance(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    to_bob = await world.user_quick_connect(bob)
    chat = await connected_chat(world, ann)
    with pytest.raises(InvalidParameter, match="phone number cannot join a chat"):
        await world.agents.invite(ann.who, chat.contact_id, to_bob, "phone_number")
    elsewhere = to_bob.replace(world.instance_id, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidParameter, match="is not a quick connect of this instance"):
        await world.agents.invite(ann.who, chat.contact_id, elsewhere, "agent")
    await world.instances.set_attribute(SYSTEM, world.instance_id, "MULTI_PARTY_CHAT_CONFERENCE", "false")
    with pytest.raises(InvalidRequest, match=says("Multi-party chat is not enabled on this instance", whole=False)):
        await world.agents.invite(ann.who, chat.contact_id, to_bob, "agent")
    assert [s.id for s in await world.segments(chat.contact_id)] == [chat.contact_id]


# transfer -------------------------------------------------------------------------------------------------
async def test_a_transfer_disconnects_every_agent_of_the_chat(world: World) -> None:
    ann, bob, cy, dee = [await world.agent(name) for name in ("ann", "bob", "cy", "dee")]
    to_bob, to_cy, to_dee = [await world.user_quick_connect(s) for s in (bob, cy, dee)]
    chat = await connected_chat(world, ann)
    bob_leg = await world.agents.invite(ann.who, chat.contact_id, to_bob, "agent")
    await world.route()
    await world.agents.accept(bob.who, bob_leg)
    cy_leg = await world.agents.invite(ann.who, chat.contact_id, to_cy, "agent")  # still pending

    transfer = await world.agents.transfer(ann.who, chat.contact_id, to_dee, "agent")

    agents = [p for p in await world.participants(chat.contact_id) if p.role == AGENT]
    assert sorted(p.user_id or "" for p in agents) == sorted([ann.id, bob.id])
    assert not [p for p in agents if p.active]
    assert any(p.active and p.role == "CUSTOMER" for p in await world.participants(chat.contact_id))
    for leg in (chat.contact_id, bob_leg):
        ended = await world.contact(leg)
        assert (ended.state, ended.disconnect_reason) == (ENDED, "TRANSFERRED")  # into after-contact work
    cancelled = await world.contact(cy_leg)
    assert (cancelled.state, cancelled.disconnect_reason) == (CLOSED, "TRANSFERRED")
    new = await world.contact(transfer)
    assert (new.state, new.segment_kind, new.queue_id) == (QUEUED, TRANSFER_SEGMENT, dee.user.agent_queue_id)
    assert new.previous_contact_id == chat.contact_id
    kinds = [i.content_type for i in await world.transcript(chat.contact_id)]
    assert kinds.count(TRANSFER_SUCCEEDED) == 1 and kinds.count(LEFT) == 2

    assert await world.route() == 1
    assert await world.offered_to(dee) == [transfer]
    await world.agents.accept(dee.who, transfer)
    assert [p.user_id for p in await world.participants(chat.contact_id) if p.role == AGENT and p.active] == [dee.id]
    with pytest.raises(ContactStateError, match="not connected"):
        await world.agents.transfer(ann.who, chat.contact_id, to_bob, "agent")

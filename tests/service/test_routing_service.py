"""Routing (``parley.service.routing.Router``) in process, on a real storage: the longest-waiting contact goes to
the longest-idle available agent with a free chat slot of a routing profile that serves the contact's queue; an
agent queue's contact goes to its owner only; an offer nobody accepts in 20 s is missed (the agent goes to
MissedCallAgent, the contact to the next agent); and two routers routing the same storage at once never offer a
contact twice nor an agent more than its slots.

The router never runs on its own here: the tests call its passes, and time is a fake clock they move.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from parley.domain.agents import ERROR, MISSED, OFFER_SECONDS, ROUTABLE
from parley.domain.contact import CLOSED, CONNECTING, QUEUED
from parley.domain.errors import NotFound
from parley.service.routing import Router
from tests.helpers.scratch_db import scratch_url
from tests.service.agent_world import World, open_world

# Rounds of simultaneous offers in the race test.
ROUNDS = 5


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    made = await open_world(f"sqlite:///{tmp_path / 'parley.db'}", monkeypatch)
    try:
        yield made
    finally:
        await made.close()


async def test_the_longest_waiting_contact_is_offered_first(world: World) -> None:
    one_chat = await world.routing_profile("One chat", 1, [world.basic_queue])
    agent = await world.agent("ann", profile_id=one_chat.id)
    first, second = await world.customer("First"), await world.customer("Second")

    assert await world.route() == 1
    assert await world.offered_to(agent) == [first.contact_id]
    assert (await world.contact(second.contact_id)).state == QUEUED


async def test_the_longest_idle_available_agent_gets_the_offer(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")  # Ann has been idle longer

    chats = [await world.customer(f"C{n}") for n in range(3)]
    assert [(await world.contact(c.contact_id)).state for c in chats] == [QUEUED] * 3  # no pass yet
    assert await world.route() == 3
    # An offer is activity: Ann goes to the back of the line, so Bob gets the second chat, Ann the third.
    assert [(await world.contact(c.contact_id)).agent_user_id for c in chats] == [ann.id, bob.id, ann.id]


async def test_becoming_available_again_puts_an_agent_at_the_back_of_the_line(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    await world.set_state(ann, "Offline")
    await world.set_state(ann, "Available")

    chat = await world.customer()
    await world.route()
    assert await world.offered_to(bob) == [chat.contact_id]
    assert await world.offered_to(ann) == []


async def test_agents_get_only_the_queues_of_their_routing_profile(world: World) -> None:
    vip, to_vip = await world.queue_with_flow("VIP")
    vip_only = await world.routing_profile("VIP only", 3, [vip.id])
    basic = await world.agent("basic")  # longest idle, but BasicQueue only
    special = await world.agent("special", profile_id=vip_only.id)

    vip_chat = await world.customer("Vip", to_vip)
    plain_chat = await world.customer("Plain")
    assert await world.route() == 2
    assert await world.offered_to(special) == [vip_chat.contact_id]
    assert await world.offered_to(basic) == [plain_chat.contact_id]


async def test_a_queue_nobody_serves_keeps_its_contact_waiting(world: World) -> None:
    _vip, to_vip = await world.queue_with_flow("VIP")
    basic = await world.agent("basic")

    chat = await world.customer("Vip", to_vip)
    assert await world.route() == 0
    assert (await world.contact(chat.contact_id)).state == QUEUED
    assert await world.offered_to(basic) == []


async def test_a_contact_in_an_agent_queue_goes_to_its_owner_only(world: World) -> None:
    ann = await world.agent("ann")
    idle = await world.agent("idle")  # longer idle than Cy, and serving BasicQueue
    cy = await world.agent("cy")
    to_cy = await world.user_quick_connect(cy)
    chat = await world.customer()
    await world.route()
    assert await world.offered_to(ann) == [chat.contact_id]
    await world.agents.accept(ann.who, chat.contact_id)

    invitation = await world.agents.invite(ann.who, chat.contact_id, to_cy, "agent")
    assert (await world.contact(invitation)).queue_id == cy.user.agent_queue_id
    assert await world.route() == 1
    assert await world.offered_to(cy) == [invitation]
    assert await world.offered_to(idle) == []


async def test_an_agent_queue_contact_waits_while_its_owner_is_away(world: World) -> None:
    ann = await world.agent("ann")
    cy = await world.agent("cy", available=False)
    await world.agent("idle")
    to_cy = await world.user_quick_connect(cy)
    chat = await world.customer()
    await world.offer_and_accept(ann, chat)

    invitation = await world.agents.invite(ann.who, chat.contact_id, to_cy, "agent")
    assert await world.route() == 0
    assert (await world.contact(invitation)).state == QUEUED
    await world.set_state(cy, "Available")
    assert await world.route() == 1
    assert await world.offered_to(cy) == [invitation]


async def test_chat_concurrency_of_the_routing_profile_caps_the_offers(world: World) -> None:
    two_chats = await world.routing_profile("Two chats", 2, [world.basic_queue])
    ann = await world.agent("ann", profile_id=two_chats.id)
    chats = [await world.customer(f"C{n}") for n in range(3)]

    assert await world.route() == 2
    assert await world.offered_to(ann) == [chats[0].contact_id, chats[1].contact_id]
    assert (await world.contact(chats[2].contact_id)).state == QUEUED
    # Accepting does not free a slot; leaving does not either (after-contact work holds it) until it is cleared.
    await world.agents.accept(ann.who, chats[0].contact_id)
    participant = (await world.contact(chats[0].contact_id)).agent_participant_id
    assert participant is not None
    await world.agents.destroy_connection(ann.who, chats[0].contact_id, participant)
    assert await world.route() == 0
    await world.agents.clear(ann.who, chats[0].contact_id)
    assert await world.route() == 1
    assert chats[2].contact_id in await world.offered_to(ann)


async def test_an_offer_is_missed_after_its_timeout_and_goes_to_the_next_agent(world: World) -> None:
    ann, bob = await world.agent("ann"), await world.agent("bob")
    chat = await world.customer()
    await world.route()
    offer = await world.contact(chat.contact_id)
    assert offer.state == CONNECTING and offer.agent_user_id == ann.id
    assert offer.offer_expires == offer.last_update_time + timedelta(seconds=OFFER_SECONDS)

    world.clock.skip(OFFER_SECONDS - 1)
    assert await world.router.expire_offers() == 0
    assert await world.offered_to(ann) == [chat.contact_id]

    world.clock.skip(2)
    assert await world.router.expire_offers() == 1
    presence = await world.presence(ann)
    assert (presence.state_name, presence.state_type) == (MISSED, ERROR)
    waiting = await world.contact(chat.contact_id)
    assert (waiting.state, waiting.agent_user_id, waiting.skip_user_ids) == (QUEUED, None, (ann.id,))
    with pytest.raises(NotFound, match="is not offered to you"):
        await world.agents.accept(ann.who, chat.contact_id)

    assert await world.route() == 1
    assert await world.offered_to(bob) == [chat.contact_id]


async def test_a_missed_offer_is_not_offered_again_to_the_agent_who_missed_it(world: World) -> None:
    ann = await world.agent("ann")
    chat = await world.customer()
    await world.route()
    world.clock.skip(OFFER_SECONDS + 1)
    assert await world.router.expire_offers() == 1
    await world.set_state(ann, "Available")  # back from MissedCallAgent, alone in the instance

    assert (await world.presence(ann)).state_type == ROUTABLE
    assert await world.route() == 0
    assert (await world.contact(chat.contact_id)).state == QUEUED


async def test_a_missed_invitation_is_over_and_frees_its_seat(world: World) -> None:
    ann, cy = await world.agent("ann"), await world.agent("cy")
    to_cy = await world.user_quick_connect(cy)
    chat = await world.customer()
    await world.offer_and_accept(ann, chat)
    invitation = await world.agents.invite(ann.who, chat.contact_id, to_cy, "agent")
    await world.route()
    assert await world.offered_to(cy) == [invitation]

    world.clock.skip(OFFER_SECONDS + 1)
    assert await world.router.expire_offers() == 1
    missed = await world.contact(invitation)
    assert (missed.state, missed.disconnect_reason) == (CLOSED, "MISSED")
    await world.set_state(cy, "Available")
    assert await world.route() == 0  # not offered again: the invitation is over
    # The seat is free: Cy can be invited again.
    again = await world.agents.invite(ann.who, chat.contact_id, to_cy, "agent")
    assert (await world.contact(again)).state == QUEUED


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_two_routers_at_once_never_offer_twice(backend: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async with scratch_url(backend, tmp_path, "parley_routing") as url:
        world = await open_world(url, monkeypatch)
        try:
            one_chat = await world.routing_profile("One chat", 1, [world.basic_queue])
            agents = [await world.agent(f"agent{n}", profile_id=one_chat.id) for n in range(3)]
            chats = [await world.customer(f"C{n}") for n in range(5)]
            other = Router(world.storage, world.router.notifier)
            for _ in range(3):
                await asyncio.gather(world.router.route_pass(), other.route_pass(), world.router.route_pass(),
                                     other.route_pass())

            segments = [await world.contact(c.contact_id) for c in chats]
            offered = [s for s in segments if s.state == CONNECTING]
            assert len(offered) == 3
            assert Counter(s.agent_user_id for s in offered) == Counter(a.id for a in agents)
            assert sorted(s.id for s in segments if s.state == QUEUED) == sorted(
                c.contact_id for c in chats[3:])  # the longest waiting were offered
            for staff in agents:
                assert len(await world.offered_to(staff)) == 1
        finally:
            await world.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_one_contact_offered_by_two_routers_at_once_is_offered_once(backend: str, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Both routers lock the contact; the one that comes second finds it offered already (several rounds)."""
    async with scratch_url(backend, tmp_path, "parley_routing") as url:
        world = await open_world(url, monkeypatch)
        try:
            staff = [await world.agent(f"agent{n}") for n in range(2)]
            other = Router(world.storage, world.router.notifier)
            for round_ in range(ROUNDS):
                chat = await world.customer(f"C{round_}")
                made = await asyncio.gather(*(r.offer(world.instance_id, chat.contact_id)
                                              for r in (world.router, other, world.router, other)))
                assert made.count(True) == 1, f"round {round_}: {made}"
                offered = [s for s in staff if chat.contact_id in await world.offered_to(s)]
                assert len(offered) == 1, f"round {round_}"
        finally:
            await world.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_offers_of_different_contacts_at_once_never_overfill_an_agent(backend: str, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Two routers offering different contacts at the same moment all pick the one agent with a free slot; the
    agent's row lock and the re-count under it let only one offer through (several rounds: a race may not show in
    every one)."""
    async with scratch_url(backend, tmp_path, "parley_routing") as url:
        world = await open_world(url, monkeypatch)
        try:
            one_chat = await world.routing_profile("One chat", 1, [world.basic_queue])
            other = Router(world.storage, world.router.notifier)
            for round_ in range(ROUNDS):
                staff = await world.agent(f"agent{round_}", profile_id=one_chat.id)  # the others are full
                chats = [await world.customer(f"C{round_}.{n}") for n in range(6)]
                made = await asyncio.gather(*(
                    (world.router if n % 2 else other).offer(world.instance_id, c.contact_id)
                    for n, c in enumerate(chats)
                ))
                assert made.count(True) == 1, f"round {round_}: {made}"
                assert len(await world.offered_to(staff)) == 1
        finally:
            await world.close()

"""One-call helpers: start a chat as a customer, or add a bot to one, and get a connected participant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from parley.client.connect import DEMO_ALIAS, DEMO_FLOW, ConnectClient
from parley.client.participant import ChatParticipant


async def customer(url: str, display_name: str = "Customer", *, initial_message: str | None = None,
                   attributes: Mapping[str, str] | None = None,
                   supported_content_types: Sequence[str] | None = None, alias: str = DEMO_ALIAS, flow: str = DEMO_FLOW,
                   access_key: str = "test", secret_key: str = "test", region: str = "us-west-2",
                   **options: Any) -> ChatParticipant:
    """Start a chat on the instance ``alias`` through the flow ``flow`` and return the connected customer.

    ``options`` go to :class:`ChatParticipant` (e.g. ``history=True``). The participant knows its
    ``contact_id`` and ``participant_id``; close it (or use ``async with``) when done.
    """
    async with ConnectClient(url, access_key, secret_key, region) as connect:
        instance_id = await connect.instance_id(alias)
        started = await connect.start_chat(instance_id, await connect.flow_id(instance_id, flow), display_name,
                                           initial_message, attributes,
                                           supported_content_types=supported_content_types)
    participant = ChatParticipant(url, started.participant_token, participant_id=started.participant_id,
                                  contact_id=started.contact_id, **options)
    await participant.connect()
    return participant


async def bot(url: str, contact_id: str, display_name: str = "Bot", *, alias: str = DEMO_ALIAS,
              access_key: str = "test", secret_key: str = "test", region: str = "us-west-2",
              **options: Any) -> ChatParticipant:
    """Add a ``CUSTOM_BOT`` participant to the chat ``contact_id`` on the instance ``alias`` and connect it."""
    async with ConnectClient(url, access_key, secret_key, region) as connect:
        joined = await connect.add_bot(await connect.instance_id(alias), contact_id, display_name)
    participant = ChatParticipant(url, joined.participant_token, participant_id=joined.participant_id,
                                  contact_id=contact_id, **options)
    await participant.connect()
    return participant

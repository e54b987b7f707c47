"""A Parley "node" for service tests: storage on a SQLite file, an in-process bus and the chat services,
wired like ``parley.app.build`` does, plus an instance with its built-in flows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from parley.aws.participant.items import chat_frame
from parley.domain.callers import SYSTEM
from parley.domain.resources import ContactFlow
from parley.fanout.local import LocalBus
from parley.service.chat import ChatService
from parley.service.contacts import ChatRequest, ContactService, StartedChat
from parley.service.instances import SAMPLE_INBOUND_FLOW, InstanceService
from parley.service.notify import Notifier
from parley.storage import open_storage
from parley.storage.database import SqlStorage
from tests.helpers.scratch_db import scratch_url


@dataclass
class Node:
    storage: SqlStorage
    bus: LocalBus
    chat: ChatService
    contacts: ContactService

    async def close(self) -> None:
        await self.bus.close()
        await self.storage.close()


async def open_node(db: Path | str) -> Node:
    """One node on the SQLite file ``db`` or the database URL ``db``; several nodes may share a database."""
    storage = await open_storage(db if isinstance(db, str) else f"sqlite:///{db}")
    bus = LocalBus()
    notifier = Notifier(bus, chat_frame)
    return Node(storage, bus, ChatService(storage, notifier), ContactService(storage, notifier))


async def connection_token(chat: ChatService, participant_token: str) -> str:
    """A connection token for the participant (CreateParticipantConnection with ConnectParticipant)."""
    grant = await chat.create_connection(participant_token, ["CONNECTION_CREDENTIALS"], True)
    assert grant.connection_token is not None
    return grant.connection_token


async def new_instance(node: Node, alias: str = "svc") -> tuple[str, str]:
    """(instance id, id of its "Sample inbound flow")."""
    instance = await InstanceService(node.storage).create_instance(SYSTEM, alias, "CONNECT_MANAGED", True, True)
    async with node.storage.transaction() as uow:
        flow = await uow.resources.find_by_name(ContactFlow, instance.id, SAMPLE_INBOUND_FLOW)
    assert flow is not None
    return instance.id, flow.id


async def start_chat(node: Node, instance_id: str, flow_id: str, name: str = "Jane") -> StartedChat:
    return await node.contacts.start_chat(SYSTEM, ChatRequest(instance_id, flow_id, name, {}))


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of ``backend`` ("sqlite" or "postgresql"), dropped afterwards."""
    async with scratch_url(backend, tmp_path, "parley_svc") as url:
        yield url

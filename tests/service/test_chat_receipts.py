"""Message receipts and the participant count: with more than two active participants ``SendEvent``
receipts are refused (Connect's 409 ConflictException) and nothing is stored; back at two they work again.

Through the public APIs a chat holds at most a customer and one bot today, so the third participant (an
agent) is written to storage directly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from parley.aws.errors import from_domain
from parley.aws.model import Service
from parley.domain.callers import SYSTEM
from parley.domain.clock import utcnow
from parley.domain.contact import AGENT, Participant
from parley.domain.errors import AT_CAPACITY, Conflict, Overloaded
from parley.domain.ids import hash_token, new_id, new_token
from parley.domain.transcript import DELIVERED, READ, TYPING
from tests.service.chat_world import Node, connection_token, new_instance, open_node, start_chat


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    node = await open_node(tmp_path / "parley.db")
    yield node
    await node.close()



async def test_receipts_refused_while_more_than_two_are_active(node: Node) -> None:
    instance_id, flow_id = await new_instance(node)
    started = await start_chat(node, instance_id, flow_id)
    chat_id = started.contact_id
    customer = await connection_token(node.chat, started.participant_token)
    bot, bot_token = await node.chat.add_bot(SYSTEM, instance_id, chat_id, "Bot", None)
    bot_conn = await connection_token(node.chat, bot_token)
    message = await node.chat.send_message(customer, "text/plain", "hi", None)
    receipt = json.dumps({"messageId": message.id})

    first = await node.chat.send_event(bot_conn, READ, receipt, "INCOMING_READ_RECEIPT")
    assert first.type == "MESSAGEMETADATA" and first.message_id == message.id

    now = utcnow()
    agent = Participant(id=new_id(), chat_id=chat_id, contact_id=chat_id, role=AGENT, display_name="Agent",
                        token_hash=hash_token(new_token()), token_expiry=now.replace(year=now.year + 1), created=now)
    async with node.storage.transaction() as uow:
        await uow.participants.add(agent)
        before = (await uow.chats.find(chat_id))
    assert before is not None

    second = await node.chat.send_message(customer, "text/plain", "now three of us", None)
    with pytest.raises(Conflict, match="more than two participants"):
        await node.chat.send_event(bot_conn, READ, json.dumps({"messageId": second.id}), "INCOMING_READ_RECEIPT")
    with pytest.raises(Conflict):
        await node.chat.send_event(customer, DELIVERED, receipt, None)
    await node.chat.send_event(customer, TYPING, None, None)  # other events still go through
    async with node.storage.transaction() as uow:
        after = await uow.chats.find(chat_id)
    assert after is not None and after.last_seq == before.last_seq + 1  # only the message was stored

    async with node.storage.transaction() as uow:
        await uow.participants.update(replace(agent, left=utcnow()))
    again = await node.chat.send_event(bot_conn, READ, json.dumps({"messageId": second.id}), "INCOMING_READ_RECEIPT")
    assert again.message_id == second.id and again.id != first.id
    assert again.receipts[0].recipient_participant_id == bot.id


@pytest.mark.parametrize("operation", ["SendMessage", "SendEvent"])
def test_overloaded_is_the_participant_services_429_throttling(operation: str) -> None:
    op = Service.load("connectparticipant", "2018-09-07").model.operation_model(operation)
    error = from_domain(op, Overloaded(), "ValidationException")
    assert (error.code, error.status, error.message) == ("ThrottlingException", 429, AT_CAPACITY)


def test_conflict_is_a_409_conflict_exception_on_send_event() -> None:
    op = Service.load("connectparticipant", "2018-09-07").model.operation_model("SendEvent")
    error = from_domain(op, Conflict("Message receipts are not supported …"), "ValidationException")
    assert (error.code, error.status) == ("ConflictException", 409)

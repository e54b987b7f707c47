"""Interactive messages (ListPicker, QuickReply, TimePicker): a CUSTOM_BOT participant sends them where the
customer's client declared it accepts them, the customer answers with an interactive response, and nobody else may
send one (Connect's SendMessage takes only the response; its flow's Lex bot sends the messages)."""

from __future__ import annotations

import json

import pytest

from parley.client import ParleyError, bot, customer, message_with
from tests.conftest import Server

INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"
PICKER = json.dumps({"templateType": "ListPicker", "version": "1.0", "data": {"content": {
    "title": "Which fruit?", "elements": [{"title": "Apple"}, {"title": "Banana"}]}}})


async def test_a_bot_sends_a_list_picker_and_the_customer_answers(server: Server) -> None:
    jane = await customer(server.url, "Jane", supported_content_types=["text/plain", INTERACTIVE, RESPONSE])
    async with jane, await bot(server.url, jane.contact_id, "Picker") as robo:
        await robo.send(PICKER, INTERACTIVE)
        shown = await jane.wait_for(message_with(PICKER), timeout=10)
        assert shown["ContentType"] == INTERACTIVE and shown["ParticipantRole"] == "CUSTOM_BOT"
        answer = json.dumps({"templateType": "ListPicker", "version": "1.0",
                             "data": {"content": {"title": "Which fruit?", "elements": [{"title": "Banana"}]}}})
        await jane.send(answer, RESPONSE)
        got = await robo.wait_for(message_with(answer), timeout=10)
        assert got["ContentType"] == RESPONSE and got["ParticipantRole"] == "CUSTOMER"


async def test_only_a_bot_may_send_one_and_only_where_the_customer_accepts_it(server: Server) -> None:
    async with await customer(server.url, "Ann", supported_content_types=["text/plain", INTERACTIVE]) as ann:
        with pytest.raises(ParleyError) as refused:
            await ann.send(PICKER, INTERACTIVE)
        assert refused.value.status == 400 and "Unsupported content type" in refused.value.message
    bob = await customer(server.url, "Bob")  # plain text only
    async with bob, await bot(server.url, bob.contact_id, "Picker") as robo:
        with pytest.raises(ParleyError) as refused:
            await robo.send(PICKER, INTERACTIVE)
        assert refused.value.status == 400 and "does not accept" in refused.value.message

"""A bot's ListPicker answered on ``/test-chat``: a CUSTOM_BOT added with the Connect API's CreateParticipant sends
an interactive ListPicker (Amazon Connect's template); the customer sees a group named by its title with one button
per element, clicks one, and the bot receives an interactive response carrying the selected item.

Connect's SendMessage takes no ``...message.interactive`` content (its bots are Lex bots whose flow sends them), and
Parley refuses it too, so the first test needs Parley to let a CUSTOM_BOT send one. The second test covers the page
on its own meanwhile: the bot sends the template as text/plain and the customer's websocket (routed through
Playwright) relabels that one frame as interactive; everything else (the click, the interactive.response SendMessage,
the bot receiving it) is real.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.client import bot, content_type_is
from tests.conftest import Server

from .conftest import Browse
from .support import INTERACTIVE, INTERACTIVE_RESPONSE, WAIT, start_test_chat, tag

pytestmark = pytest.mark.e2e

FRUITS = ["Apple", "Orange", "Banana"]


def list_picker(title: str) -> str:
    """Amazon Connect's ListPicker template (interactive-messages.html), without images: an image URL would be a
    request to another host."""
    return json.dumps({
        "templateType": "ListPicker",
        "version": "1.0",
        "data": {
            "replyMessage": {"title": "Thanks for selecting!"},
            "content": {
                "title": title,
                "subtitle": "Tap to select option",
                "elements": [{"title": fruit, "subtitle": f"{fruit}s, fresh today"} for fruit in FRUITS],
            },
        },
    })


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


async def test_bot_list_picker_is_answered_with_an_interactive_response(parley: Server, browse: Browse) -> None:
    t = tag()
    page = await browse.page()
    started = await start_test_chat(page, parley.url, "Jane")
    chat = started.chat
    async with await bot(parley.url, started.contact_id, "Robo") as robo:
        await chat.see("Robo joined")
        title = f"Which fruit would you like? ({t})"
        await robo.send(list_picker(title), INTERACTIVE)

        group = chat.by_role("group", title)
        await group.wait_for(timeout=WAIT * 1000)
        for fruit in FRUITS:
            assert await group.get_by_role("button", name=fruit).count() == 1, f"no {fruit} button"
        await group.get_by_role("button", name="Banana").click()

        answer = await robo.wait_for(content_type_is(INTERACTIVE_RESPONSE), timeout=WAIT)
        assert answer["ParticipantRole"] == "CUSTOMER" and answer["DisplayName"] == "Jane"
        content = json.loads(answer["Content"])
        texts = strings_in(content)
        assert "Banana" in texts, f"the response does not carry the selection: {answer['Content']}"
        assert not {"Apple", "Orange"} & set(texts), f"the response carries other items: {answer['Content']}"
        # The response came from the page exactly once.
        responses = [i for i in robo.received if i.get("ContentType") == INTERACTIVE_RESPONSE]
        assert len(responses) == 1, responses

        await chat.end()
        await chat.see_in_page("Chat ended")


def relabel_as_interactive(marker: str) -> Any:
    """A websocket route that passes every frame through, except that the chat message whose Content holds
    ``marker`` reaches the page as an interactive message."""

    def rewrite(frame: str | bytes) -> str | bytes:
        if not isinstance(frame, str) or marker not in frame:
            return frame
        outer = json.loads(frame)
        item = json.loads(outer["content"])
        if item.get("ContentType") == "text/plain" and marker in str(item.get("Content")):
            item["ContentType"] = INTERACTIVE
            outer["content"] = json.dumps(item)
        return json.dumps(outer)

    async def route(ws: Any) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda frame: ws.send(rewrite(frame)))

    return route


async def test_list_picker_pushed_to_the_page_is_answered(parley: Server, browse: Browse) -> None:
    t = tag()
    title = f"Which fruit would you like? ({t})"
    context = await browse.context()
    await context.route_web_socket("**/*", relabel_as_interactive(title))
    page = await context.new_page()
    started = await start_test_chat(page, parley.url, "Jane")
    chat = started.chat
    async with await bot(parley.url, started.contact_id, "Robo") as robo:
        await chat.see("Robo joined")
        await robo.send(list_picker(title))

        group = chat.by_role("group", title)
        await group.wait_for(timeout=WAIT * 1000)
        for fruit in FRUITS:
            assert await group.get_by_role("button", name=fruit).count() == 1, f"no {fruit} button"
        await group.get_by_role("button", name="Banana").click()

        answer = await robo.wait_for(content_type_is(INTERACTIVE_RESPONSE), timeout=WAIT)
        assert answer["ParticipantRole"] == "CUSTOMER" and answer["DisplayName"] == "Jane"
        texts = strings_in(json.loads(answer["Content"]))
        assert "Banana" in texts, f"the response does not carry the selection: {answer['Content']}"
        assert not {"Apple", "Orange"} & set(texts), f"the response carries other items: {answer['Content']}"
        responses = [i for i in robo.received if i.get("ContentType") == INTERACTIVE_RESPONSE]
        assert len(responses) == 1, responses
        # The customer's choice shows in the conversation, and the buttons cannot be pressed again.
        await chat.see("Banana")
        assert await group.get_by_role("button", name="Apple").is_disabled()

        await chat.end()
        await chat.see_in_page("Chat ended")

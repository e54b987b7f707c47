"""The customer scenarios every ChatJS runtime (Node, Chromium) and version must pass against Parley.

Each takes a started ``Chat`` (customer + CUSTOM_BOT) and a connected ``Customer`` (real ChatJS) and asserts on
what ChatJS reported through its callbacks, cross-checked with the bot's boto3 GetTranscript."""

from __future__ import annotations

import time
from typing import Any

from .harness import (
    CHAT_ENDED,
    LEFT,
    TYPING,
    WAIT,
    Chat,
    Customer,
    demo_ids,
    dump,
    events_named,
    is_event,
    message_with_id,
    seen_items,
    socket_gained,
    wait_for,
)

# How often the bot talks while the server keeps closing the customer's socket, and for how many closes.
BOT_INTERVAL = 0.2
RECONNECTS = 2
# Around each expected close the bot sends back to back for this long on either side, to hit the gap.
BURST = 0.15
# A message sent this close (seconds) to a reconnect may miss its push: the server may close the old socket
# before pushing it, and the new socket gets pushes once ChatJS has subscribed, a moment after it opened.
GAP_SLACK = 0.5


def subscribed(chat: Chat, customer: Customer, text: str = "hello from ChatJS") -> dict[str, Any]:
    """Waits for the socket, then sends a message and waits for its echo: from then on pushes reach ChatJS."""
    wait_for(customer, "the websocket opening", socket_gained)
    sent = customer.call("send", {"text": text})
    echo = wait_for(customer, f"the echo of its own message {sent['Id']}", message_with_id(sent["Id"]))
    assert echo["data"]["Content"] == text
    assert echo["data"]["ParticipantRole"] == "CUSTOMER"
    assert echo["data"]["ParticipantId"] == chat.details["ParticipantId"]
    assert echo["data"]["ContactId"] == chat.contact_id
    return dict(sent)


def converse(chat: Chat, customer: Customer, earlier_id: str) -> None:
    """Messages both ways, the bot's typing, and the ChatJS transcript including what came before connecting."""
    mine = subscribed(chat, customer)
    bot_view = {item["Id"]: item for item in chat.transcript()}
    assert mine["Id"] in bot_view, "the customer's message is not in the bot's GetTranscript"
    assert bot_view[mine["Id"]]["Content"] == "hello from ChatJS"
    assert bot_view[mine["Id"]]["ParticipantRole"] == "CUSTOMER"

    typed = customer.call("typing")
    assert typed["Id"] and typed["AbsoluteTime"], typed
    chat.bot_types()
    typing = wait_for(customer, "the bot's typing (onTyping)", lambda event: event["event"] == "onTyping"
                      and event["data"]["ParticipantId"] == chat.bot_participant_id)
    assert typing["data"]["ContentType"] == TYPING
    assert typing["data"]["ParticipantId"] == chat.bot_participant_id
    assert typing["data"]["ParticipantRole"] == "CUSTOM_BOT"

    reply = chat.bot_says("hi, I am the bot")
    got = wait_for(customer, f"the bot's message {reply} (onMessage)", message_with_id(reply))
    assert got["data"]["Content"] == "hi, I am the bot"
    assert got["data"]["DisplayName"] == "Bot"
    assert got["data"]["ParticipantRole"] == "CUSTOM_BOT"
    assert got["data"]["Type"] == "MESSAGE"

    # ChatJS's defaults: the newest 15 items, oldest first.
    transcript = customer.call("transcript", {})
    assert transcript["InitialContactId"] == chat.contact_id
    ids = [item["Id"] for item in transcript["Transcript"]]
    for expected in (earlier_id, mine["Id"], reply):
        assert expected in ids, f"{expected} missing from ChatJS getTranscript: {ids}"
    assert ids.index(earlier_id) < ids.index(mine["Id"]) < ids.index(reply)
    times = [item["AbsoluteTime"] for item in transcript["Transcript"]]
    assert times == sorted(times)
    assert_healthy(customer)


def gaps(customer: Customer) -> list[tuple[float, float]]:
    """When the customer had no socket to get pushes on: from each onConnectionLost to the next websocket opening,
    in seconds of this machine's clock, widened by ``GAP_SLACK`` on both sides."""
    events = customer.events()
    windows = []
    for n, event in enumerate(events):
        if event["event"] == "onConnectionLost":
            regained = next((e for e in events[n + 1:] if socket_gained(e)), None)
            assert regained is not None, f"ChatJS never regained its socket\n{dump(customer)}"
            windows.append((event["t"] / 1000 - GAP_SLACK, regained["t"] / 1000 + GAP_SLACK))
    return windows


def reconnect_loses_nothing(chat: Chat, customer: Customer, lifetime: float) -> dict[str, int]:
    """The server closes every socket ``lifetime`` seconds after it opened; the bot talks steadily and in a burst
    around each close. ChatJS reconnects by itself and pushes resume on the new socket: every bot message sent
    while the customer had a socket reached ChatJS's onMessage, and only messages sent around a reconnect may
    instead come from the transcript ChatJS's own getTranscript returned after that reconnect (as the Connect chat
    widget fetches it). Together the customer ends up with exactly the transcript's messages."""
    subscribed(chat, customer)
    sent: list[tuple[str, float, float]] = []  # (item id, before the SendMessage call, after its answer)

    def say() -> None:
        before = time.time()
        item_id = chat.bot_says(f"bot message {len(sent) + 1}")
        sent.append((item_id, before, time.time()))

    for cycle in range(1, RECONNECTS + 1):
        gains = [event for event in customer.events() if socket_gained(event)]
        # Both clocks are this machine's wall clock; the server's timer started when it accepted the socket.
        closes_at = gains[-1]["t"] / 1000 + lifetime
        say()
        while time.time() < closes_at - BURST:
            time.sleep(min(BOT_INTERVAL, max(0.0, closes_at - BURST - time.time())))
            say()
        while time.time() < closes_at + BURST:
            say()
        deadline = time.monotonic() + WAIT
        while not (len(events_named(customer, "onConnectionLost")) >= cycle
                   and sum(1 for event in customer.events() if socket_gained(event)) > len(gains)):
            assert time.monotonic() < deadline, f"ChatJS did not lose and regain its socket\n{dump(customer)}"
            say()
            time.sleep(BOT_INTERVAL)
    # The reconnected socket carries live pushes again.
    last = chat.bot_says("after the reconnects")
    wait_for(customer, "a bot message pushed on the reconnected socket", message_with_id(last))
    sent.append((last, time.time(), time.time()))

    sent_ids = [item_id for item_id, _before, _after in sent]
    deadline = time.monotonic() + WAIT
    while missing := set(sent_ids) - set(seen_items(customer)):
        assert time.monotonic() < deadline, f"the customer never got {sorted(missing)}\n{dump(customer)}"
        time.sleep(0.1)
    pushed = {event["data"]["Id"] for event in events_named(customer, "onMessage")}
    windows = gaps(customer)
    assert len(windows) >= RECONNECTS
    catch_ups = events_named(customer, "catchUp")
    for item_id, before, after in sent:
        if item_id in pushed:
            continue
        # Not pushed: only a message sent while the customer was between sockets may miss its push ...
        window = next(((start, end) for start, end in windows if before <= end and after >= start), None)
        assert window is not None, (
            f"{item_id}, sent at {before:.3f}-{after:.3f} while ChatJS had a socket (gaps: {windows}), never reached "
            f"onMessage\n{dump(customer)}")
        # ... and then it is in what ChatJS's getTranscript returned after that reconnect.
        assert any(event["t"] / 1000 >= window[1] - GAP_SLACK
                   and item_id in {i["Id"] for i in event["data"]["Transcript"]} for event in catch_ups), (
            f"{item_id} was neither pushed nor in a getTranscript after its reconnect\n{dump(customer)}")
    messages = {item["Id"] for item in chat.transcript() if item["Type"] == "MESSAGE"}
    seen = {item_id for item_id, item in seen_items(customer).items() if item["Type"] == "MESSAGE"}
    assert seen == messages, f"lost: {sorted(messages - seen)}, unknown: {sorted(seen - messages)}"
    assert len(events_named(customer, "onConnectionLost")) >= RECONNECTS
    assert_healthy(customer)
    return {"bot_messages": len(sent), "reconnects": len(events_named(customer, "onConnectionLost")),
            "pushed": len(set(sent_ids) & pushed), "only_from_catch_up": len(set(sent_ids) - pushed)}


def disconnect_ends(chat: Chat, customer: Customer, version: str) -> None:
    """``disconnectParticipant()`` ends the chat: Parley pushes participant.left and chat.ended to the customer's
    socket before it answers, so ``onEnded`` fires on every version. (ChatJS 3.x stops listening as soon as the
    call returns, so an answer sent before the push would lose ``onEnded`` there.)"""
    subscribed(chat, customer)
    customer.call("disconnect")
    ended = wait_for(customer, "onEnded after disconnectParticipant()", is_event("onEnded"))
    events = customer.events()
    before = events[: events.index(ended)]
    left = [e for e in before if e["event"] == "onMessage" and e["data"]["ContentType"] == LEFT]
    assert left, f"no participant.left before onEnded\n{dump(customer)}"
    assert left[0]["data"]["ParticipantId"] == chat.details["ParticipantId"]
    assert left[0]["data"]["ParticipantRole"] == "CUSTOMER"
    assert any(e["event"] == "onMessage" and e["data"]["ContentType"] == CHAT_ENDED for e in before)
    if int(version.split(".")[0]) < 4:
        error = customer.call("send", {"text": "after the end"}, expect_error=True)
        assert "No active connection" in str(error), error
    # Either way the server ended the chat for everyone: the customer left, then the chat ended.
    tail = [(item["ContentType"], item.get("ParticipantId")) for item in chat.transcript()]
    assert (LEFT, chat.details["ParticipantId"]) in tail, tail
    assert tail[-1] == (CHAT_ENDED, None), tail
    instance, _ = demo_ids(chat.server.url)
    contact = chat.server.connect().describe_contact(InstanceId=instance, ContactId=chat.contact_id)["Contact"]
    assert contact.get("DisconnectTimestamp"), contact
    assert_healthy(customer)


def assert_healthy(customer: Customer) -> None:
    """No broken connection, failed catch-up or unhandled rejection was reported along the way."""
    for name in ("onConnectionBroken", "catchUpFailed", "unhandledRejection"):
        assert not events_named(customer, name), f"{name}\n{dump(customer)}"

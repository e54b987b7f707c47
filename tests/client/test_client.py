"""parley.client against a real server: chats between a customer and a bot, typing, transcript paging,
reconnects after server-side socket closes, the end of a chat, and errors."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter

import pytest

from parley.client import (
    CHAT_ENDED,
    LEFT,
    METADATA,
    ChatParticipant,
    ConnectClient,
    Item,
    ParleyError,
    StreamEnded,
    bot,
    content_type_is,
    customer,
    is_message,
    is_typing,
    message_with,
)
from parley.client.errors import error_from_response
from tests.conftest import Server, start_server


async def drain(p: ChatParticipant, timeout: float = 15.0) -> list[Item]:
    async with asyncio.timeout(timeout):
        return [item async for item in p.items()]


def messages(items: list[Item]) -> list[str]:
    return [i["Content"] for i in items if is_message(i)]


async def test_customer_and_bot_exchange_messages(server: Server) -> None:
    async with await customer(server.url, "Ana", supported_content_types=["text/plain", "text/markdown"]) as ana:
        assert ana.contact_id and ana.participant_id
        async with await bot(server.url, ana.contact_id, "Robo") as robo:
            joined = await ana.wait_for(lambda i: i["ContentType"].endswith("participant.joined")
                                        and i.get("DisplayName") == "Robo")
            assert joined["ParticipantRole"] == "CUSTOM_BOT"

            sent = await ana.send("hello robot")
            got = await robo.wait_for(message_with("hello robot"))
            assert got["Id"] == sent
            assert got["ParticipantRole"] == "CUSTOMER" and got["DisplayName"] == "Ana"
            assert got["InitialContactId"] == ana.contact_id

            reply = await robo.send("**hi** Ana", "text/markdown")
            back = await ana.wait_for(message_with("**hi** Ana"))
            assert back["Id"] == reply and back["ContentType"] == "text/markdown"
            assert back["ParticipantRole"] == "CUSTOM_BOT" and back["ParticipantId"] == robo.participant_id

            # Each side also sees its own messages, and receipts work between two participants.
            await ana.wait_for(message_with("hello robot"))
            await robo.read(sent)
            receipt = await ana.wait_for(content_type_is(METADATA))
            assert receipt["MessageMetadata"]["MessageId"] == sent
            assert messages(ana.received) == ["hello robot", "**hi** Ana"]
            assert robo.received[0]["ContentType"].endswith("participant.joined")  # the bot's stream starts there


async def test_typing_arrives_at_the_other_side(server: Server) -> None:
    async with await customer(server.url, "Typist") as me:
        assert me.contact_id
        async with await bot(server.url, me.contact_id) as robo:
            await me.typing()
            typing = await robo.wait_for(is_typing)
            assert typing["ParticipantRole"] == "CUSTOMER" and typing["Type"] == "EVENT"
            await robo.typing()
            assert (await me.wait_for(is_typing))["ParticipantRole"] == "CUSTOM_BOT"
            # Typing is pushed, never stored, and never echoed to the typist.
            assert not any(is_typing(i) for i in await me.full_transcript())
            assert sum(1 for i in me.received if is_typing(i)) == 1


async def test_transcript_paging(server: Server) -> None:
    async with await customer(server.url, "Pager", initial_message="first") as me:
        sent = [await me.send(f"message {n}") for n in range(7)]
        full = await me.full_transcript(page_size=3)
        assert messages(full) == ["first"] + [f"message {n}" for n in range(7)]
        assert [i["Id"] for i in full if i["Id"] in sent] == sent

        pages: list[list[Item]] = []
        token: str | None = None
        while True:
            page = await me.transcript_page(3, next_token=token, scan_direction="FORWARD", sort_order="ASCENDING")
            assert len(page.items) <= 3 and page.initial_contact_id == me.contact_id
            pages.append(page.items)
            token = page.next_token
            if not token:
                break
        assert len(pages) >= 3
        assert [i["Id"] for p in pages for i in p] == [i["Id"] for i in full]

        newest = await me.transcript(2)  # like ChatJS: the newest items, oldest first
        assert [i["Id"] for i in newest] == sent[-2:]
        descending = await me.transcript(2, sort_order="DESCENDING")
        assert [i["Id"] for i in descending] == sent[:-3:-1]


async def test_where_the_stream_starts(server: Server) -> None:
    async with await customer(server.url, "Early", initial_message="initial") as first:
        assert first.contact_id
        # A participant that knows its id gets everything since it joined: here the initial message.
        assert messages([await first.wait_for(is_message, timeout=5)]) == ["initial"]
        await first.send("before the bot")
        async with ConnectClient(server.url) as connect:
            robot = await connect.add_bot(await connect.instance_id(), first.contact_id, "Historian")
        await first.send("after the bot joined, before it connected")
        async with ChatParticipant(server.url, robot.participant_token, participant_id=robot.participant_id) as b:
            await b.wait_for(message_with("after the bot joined, before it connected"), timeout=5)
            assert b.received[0]["ContentType"].endswith("participant.joined")
            assert "before the bot" not in messages(b.received)
        async with ChatParticipant(server.url, robot.participant_token, history=True) as whole:
            await whole.wait_for(message_with("after the bot joined, before it connected"), timeout=5)
            assert messages(whole.received)[:2] == ["initial", "before the bot"]
        async with ChatParticipant(server.url, robot.participant_token) as anonymous:  # no id: from connect on
            await first.send("later")
            await anonymous.wait_for(message_with("later"), timeout=5)
            assert messages(anonymous.received) == ["later"]


async def test_reconnect_after_server_side_close_loses_nothing() -> None:
    srv = start_server(["--demo", "--websocket-lifetime", "2"])
    try:
        async with await customer(srv.url, "Roamer") as me:
            assert me.contact_id
            async with await bot(srv.url, me.contact_id, "Steady") as robo:
                sent: list[str] = []
                for n in range(14):  # about 7 seconds: every socket is closed by the server several times
                    sent.append(await me.send(f"customer {n}"))
                    sent.append(await robo.send(f"bot {n}"))
                    await asyncio.sleep(0.5)
                await me.disconnect()
                mine, theirs = await drain(me), await drain(robo)
                for items in (mine, theirs):
                    ids = Counter(i["Id"] for i in items)
                    assert all(ids[s] == 1 for s in sent), f"missing or repeated: {[s for s in sent if ids[s] != 1]}"
                    assert max(ids.values()) == 1
                    assert [i["Id"] for i in items if i["Id"] in set(sent)] == sent
                # The bot sees the chat end. The customer who ended it may not: when its disconnect lands while the
                # server is recycling its socket, the new socket is refused (it left), and its stream ends there.
                assert theirs[-1]["ContentType"] == CHAT_ENDED
                assert mine[-1]["ContentType"] == CHAT_ENDED or mine[-1]["Id"] == sent[-1]
                assert me.sockets_opened >= 3 and robo.sockets_opened >= 3
    except BaseException:
        print(srv.log())  # shown by pytest on failure
        raise
    finally:
        srv.stop()
        shutil.rmtree(srv.data_dir, ignore_errors=True)


async def test_customer_disconnect_ends_every_stream_with_chat_ended(server: Server) -> None:
    async with await customer(server.url, "Leaver") as me:
        assert me.contact_id
        async with await bot(server.url, me.contact_id) as robo:
            await me.send("bye")
            await robo.wait_for(message_with("bye"))
            await me.disconnect()
            for p in (me, robo):
                items = await drain(p)
                assert items[-1]["ContentType"] == CHAT_ENDED
                assert any(i["ContentType"] == LEFT and i["ParticipantRole"] == "CUSTOMER" for i in items)
                assert p.ended
            with pytest.raises(StreamEnded):
                await me.wait_for(message_with("never sent"), timeout=1)
            with pytest.raises(ParleyError) as err:
                await me.send("too late")
            assert err.value.code == "AccessDeniedException" and err.value.status == 403


async def test_bot_leaving_ends_only_its_own_stream(server: Server) -> None:
    async with await customer(server.url, "Stayer") as me:
        assert me.contact_id
        async with await bot(server.url, me.contact_id, "Quitter") as robo:
            await robo.disconnect()
            items = await drain(robo)
            assert items[-1]["ContentType"] == LEFT and items[-1]["ParticipantId"] == robo.participant_id
            left = await me.wait_for(lambda i: i["ContentType"] == LEFT and i["ParticipantRole"] == "CUSTOM_BOT")
            assert left["DisplayName"] == "Quitter"


async def test_stop_contact_ends_the_chat(server: Server) -> None:
    async with await customer(server.url, "Stopped") as me, ConnectClient(server.url) as connect:
        assert me.contact_id
        await connect.stop_contact(await connect.instance_id(), me.contact_id)
        assert (await drain(me))[-1]["ContentType"] == CHAT_ENDED


async def test_bad_participant_token_is_access_denied(server: Server) -> None:
    with pytest.raises(ParleyError) as err:
        async with ChatParticipant(server.url, "not-a-real-token"):
            pass
    assert err.value.code == "AccessDeniedException" and err.value.status == 403
    assert err.value.message


async def test_connect_api_errors(server: Server) -> None:
    async with ConnectClient(server.url, secret_key="wrong") as bad:
        with pytest.raises(ParleyError) as err:
            await bad.instance_id()
        assert err.value.status == 403 and err.value.code.endswith("Exception")
    async with ConnectClient(server.url) as connect:
        with pytest.raises(ParleyError) as err:
            await connect.instance_id("no-such-alias")
        assert err.value.code == "ResourceNotFoundException"
        instance = await connect.instance_id()
        with pytest.raises(ParleyError) as err:
            await connect.add_bot(instance, "00000000-0000-0000-0000-000000000000", "Ghost")
        assert err.value.status == 400 or err.value.status == 404


async def test_wait_for_times_out(server: Server) -> None:
    async with await customer(server.url, "Patient") as me:
        with pytest.raises(TimeoutError):
            await me.wait_for(message_with("nobody says this"), timeout=0.3)


def test_error_parsing() -> None:
    err = error_from_response(409, {"x-amzn-errortype": "ConflictException:http://internal.amazon.com/"},
                              b'{"Message": "busy"}')
    assert (err.code, err.message, err.status) == ("ConflictException", "busy", 409)
    err = error_from_response(500, {}, b'{"__type": "com.amazon#InternalServerException", "message": "x"}')
    assert (err.code, err.message) == ("InternalServerException", "x")
    assert error_from_response(502, {}, b"<html>").code == "HTTP502"


async def test_server_restart_loses_nothing() -> None:
    srv = start_server(["--demo"])
    try:
        async with await customer(srv.url, "Patient") as me:
            assert me.contact_id
            async with await bot(srv.url, me.contact_id, "Survivor") as robo:
                before = await robo.send("before restart")
                await me.wait_for(message_with("before restart"))
                await asyncio.to_thread(srv.restart)
                after = await robo.send("after restart")
                mine = await me.send("me too")
                await me.wait_for(message_with("after restart"), timeout=15)
                await robo.wait_for(message_with("me too"), timeout=15)
                for p in (me, robo):
                    ids = Counter(i["Id"] for i in p.received)
                    assert max(ids.values()) == 1 and ids[after] == 1 and ids[mine] == 1
                    assert ids[before] == 1
                assert me.sockets_opened >= 2
    except BaseException:
        print(srv.log())  # shown by pytest on failure
        raise
    finally:
        srv.stop()
        shutil.rmtree(srv.data_dir, ignore_errors=True)

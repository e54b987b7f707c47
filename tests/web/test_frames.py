"""Frames written straight to the socket: the encoding as the ``websockets`` library parses it, one encoding
shared by every socket a message goes to, and the order of frames when a socket's transport pauses and resumes
(the writer task takes over, then hands back)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from parley.fanout.hub import Feed, Hub
from parley.service.pokes import Delivery
from parley.service.ports import Sink
from parley.web.websocket import SOCKET_QUEUE, Subscriber
from parley.web.wsframes import TextFrames, text_frame


def parse(data: bytes) -> tuple[Frame, bytes]:
    """One frame parsed by the websockets library (as a client parses a server's frames), and what is left."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        rest = b""
        while True:
            try:
                next(reader.read_exact(1))
            except StopIteration as byte:
                rest += byte.value
            except EOFError:
                return done.value, rest
    raise AssertionError("the parser wanted more bytes than the frame has")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frame_parses_as_one_unmasked_text_frame(size: int) -> None:
    text = ("é" * size)[:size] if size % 2 else "x" * size
    frame, rest = parse(text_frame(text))
    assert rest == b""
    assert frame.opcode is Opcode.TEXT
    assert frame.fin and not (frame.rsv1 or frame.rsv2 or frame.rsv3)
    assert frame.data.decode() == text


class Direct:
    """Stands in for :class:`parley.web.server.wsprotocol.DirectFrames` (a transport's buffer cannot be made to fill
    on cue here): records what was written and pauses when told."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.open = True
        self._writable = asyncio.Event()
        self._writable.set()

    def pause(self) -> None:
        self._writable.clear()

    def resume(self) -> None:
        self._writable.set()

    def ready(self) -> bool:
        return self.open and self._writable.is_set()

    def write(self, data: bytes) -> None:
        assert self.ready(), "written while paused or closed"
        self.written.append(data)

    async def writable(self) -> None:
        await self._writable.wait()


def texts(direct: Direct) -> list[str]:
    return [parse(data)[0].data.decode() for data in direct.written]


async def test_frames_keep_their_order_across_a_pause() -> None:
    sent: list[str] = []
    closed: list[int] = []

    async def send(text: str) -> None:
        sent.append(text)

    async def close(code: int) -> None:
        closed.append(code)

    direct = Direct()
    sub = Subscriber("p", "c", send, close, direct)  # type: ignore[arg-type]
    sub.push("1")
    assert texts(direct) == ["1"], "an open socket is written at once"
    direct.pause()
    sub.push("2")
    sub.push("3")
    await asyncio.sleep(0)
    assert texts(direct) == ["1"]
    direct.resume()
    sub.push("4")  # queued behind 2 and 3, though the transport takes bytes again
    await sub.drained(1.0)
    assert texts(direct) == ["1", "2", "3", "4"]
    sub.push("5")
    assert texts(direct) == ["1", "2", "3", "4", "5"], "back to direct writes once the queue is empty"
    sub.finish(1001)
    await sub.drained(1.0)
    await asyncio.sleep(0)
    assert closed == [1001]
    sub.push("6")
    assert texts(direct)[-1] == "5" and sent == [], "nothing after the close"


async def test_a_socket_that_closed_gets_frames_through_the_asgi_send() -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    async def close(code: int) -> None:
        pass

    direct = Direct()
    sub = Subscriber("p", "c", send, close, direct)  # type: ignore[arg-type]
    direct.pause()
    sub.push("queued")
    direct.open = False
    direct.resume()
    await sub.drained(1.0)
    assert direct.written == [] and sent == ["queued"], "the ASGI send decides what a closed socket does"
    await sub.stop()


async def test_a_socket_that_stays_paused_is_closed_when_too_many_frames_wait() -> None:
    closed: list[int] = []

    async def send(text: str) -> None:
        raise AssertionError("nothing goes through the ASGI send while the connection is open")

    async def close(code: int) -> None:
        closed.append(code)

    direct = Direct()
    sub = Subscriber("p", "c", send, close, direct)  # type: ignore[arg-type]
    direct.pause()
    for n in range(SOCKET_QUEUE + 1):
        sub.push(str(n))
    assert sub.closed
    direct.resume()
    await sub.drained(5.0)
    await asyncio.sleep(0)
    assert len(direct.written) == SOCKET_QUEUE and closed == [1000]


async def test_without_direct_frames_every_frame_goes_through_the_asgi_send() -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        await asyncio.sleep(0)
        sent.append(text)

    async def close(code: int) -> None:
        pass

    sub = Subscriber("p", "c", send, close)
    for n in range(5):
        sub.push(str(n))
    await sub.drained(1.0)
    assert sent == ["0", "1", "2", "3", "4"]
    await sub.stop()


def test_the_frame_of_one_text_object_is_encoded_once() -> None:
    frames = TextFrames()
    text = "".join(["{", '"x":', "1}"])  # built at run time: a fresh object, as the hub's texts are
    first = frames.encode(text)
    assert first == text_frame(text)
    assert frames.encode(text) is first, "the same object again: the same bytes, not a new encoding"
    equal = "".join(["{", '"x":', "1}"])
    assert equal == text and equal is not text
    again = frames.encode(equal)
    assert again == first and again is not first, "an equal text that is another object is encoded anew"
    other = frames.encode("other")
    assert other == text_frame("other")
    assert frames.encode(equal) is not again, "only the last text is remembered"


async def test_a_message_to_six_sockets_is_encoded_once_and_each_gets_its_bytes() -> None:
    """The hub hands every socket of the chat the same text; the sockets of a node share one ``TextFrames``, so
    all six write the very same bytes object, which is the message's frame."""

    async def send(text: str) -> None:
        raise AssertionError("every socket is open: nothing goes through the ASGI send")

    async def close(code: int) -> None:
        pass

    frames = TextFrames()
    directs = [Direct() for _ in range(6)]
    subs: set[Sink] = {Subscriber(f"p{n}", "c", send, close, direct, frames)  # type: ignore[arg-type]
                       for n, direct in enumerate(directs)}
    hub = Hub(None, None, str)  # type: ignore[arg-type]  # _deliver touches neither storage nor bus
    feed = Feed(0, subs)
    for seq in (1, 2):
        text = "".join(['{"topic":"aws/chat","content":"', str(seq), '"}'])
        hub._deliver(feed, Delivery(seq, text, "text/plain", "p0"))
    for direct in directs:
        assert texts(direct) == ['{"topic":"aws/chat","content":"1"}', '{"topic":"aws/chat","content":"2"}']
    for n in range(2):
        assert all(direct.written[n] is directs[0].written[n] for direct in directs), "one encoding per message"
    assert directs[0].written[0] is not directs[0].written[1]


async def test_a_paused_socket_writes_the_frame_of_its_own_text_later() -> None:
    """A frame that waited (its transport paused) is encoded when it is written, whatever was encoded meanwhile."""

    async def send(text: str) -> None:
        raise AssertionError("the connection is open")

    async def close(code: int) -> None:
        pass

    frames = TextFrames()
    slow, quick = Direct(), Direct()
    sub_slow = Subscriber("slow", "c", send, close, slow, frames)  # type: ignore[arg-type]
    sub_quick = Subscriber("quick", "c", send, close, quick, frames)  # type: ignore[arg-type]
    slow.pause()
    for n in range(3):
        text = f"message {n}"
        sub_slow.push(text)
        sub_quick.push(text)
    assert texts(quick) == ["message 0", "message 1", "message 2"] and slow.written == []
    slow.resume()
    await sub_slow.drained(1.0)
    assert texts(slow) == ["message 0", "message 1", "message 2"]

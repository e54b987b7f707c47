"""Frames written straight to the socket: the encoding as the ``websockets`` library parses it, and the order
of frames when a socket's transport pauses and resumes (the writer task takes over, then hands back)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from parley.service.frames import text_frame
from parley.web.websocket import SOCKET_QUEUE, Subscriber


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
    """Stands in for :class:`parley.web.wsprotocol.DirectFrames` (a transport's buffer cannot be made to fill
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
    sub.push("1", text_frame("1"))
    assert texts(direct) == ["1"], "an open socket is written at once"
    direct.pause()
    sub.push("2", text_frame("2"))
    sub.push("3")  # no encoded frame given: the subscriber encodes it
    await asyncio.sleep(0)
    assert texts(direct) == ["1"]
    direct.resume()
    sub.push("4", text_frame("4"))  # queued behind 2 and 3, though the transport takes bytes again
    await sub.drained(1.0)
    assert texts(direct) == ["1", "2", "3", "4"]
    sub.push("5", text_frame("5"))
    assert texts(direct) == ["1", "2", "3", "4", "5"], "back to direct writes once the queue is empty"
    sub.finish(1001)
    await sub.drained(1.0)
    await asyncio.sleep(0)
    assert closed == [1001]
    sub.push("6", text_frame("6"))
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
    sub.push("queued", text_frame("queued"))
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
        sub.push(str(n), text_frame(str(n)))
    await sub.drained(1.0)
    assert sent == ["0", "1", "2", "3", "4"]
    await sub.stop()

"""Fuzzes the participant websocket (and the agent websocket) with frames ChatJS never sends: garbage and
non-object JSON, wrong and huge topic lists, binary frames, invalid UTF-8 in text frames, odd Unicode. Every frame
gets an answer frame or a close with a proper code (never an abnormal closure or 1011), and the server keeps
serving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.aws.chat_helpers import new_chat
from tests.fuzz.conftest import FUZZ, LogWatch
from tests.fuzz.strategies import NASTY, json_values

# Close codes a refused frame may end its socket with: normal, going away, unsupported data (a binary frame),
# invalid payload (bad UTF-8), policy (rate limits), too big.
PROPER_CLOSES = frozenset({1000, 1001, 1003, 1007, 1008, 1009})
# Frames stay under this many bytes: the frame size cap (Connect's 32 KB) is another test's subject.
MAX_FRAME = 30_000
# How long a frame may wait for its answer on a loaded 2-core machine.
ANSWER_WAIT = 10.0
TOPICS = ("aws/subscribe", "aws/unsubscribe", "aws/heartbeat", "aws/ping", "aws/chat", "aws/typing", "", "AWS/PING",
          "aws/subscribe\x00", "aws/ping ", "\u202eaws/ping")


def frames() -> st.SearchStrategy[tuple[str, bytes | str]]:
    """(kind, payload): "text" frames (str), "binary" frames and "raw-text" frames (bytes, maybe not UTF-8)."""
    topic = st.one_of(st.sampled_from(TOPICS), json_values())
    topic_lists = st.one_of(
        st.lists(st.one_of(st.sampled_from(TOPICS), st.text(max_size=20), json_values()), max_size=6),
        st.tuples(st.sampled_from(TOPICS), st.integers(1, 1500)).map(lambda t: [t[0]] * t[1]),
        json_values())
    shaped = st.fixed_dictionaries({"topic": topic}, optional={
        "content": st.one_of(st.fixed_dictionaries({"topics": topic_lists}), json_values(), st.sampled_from(NASTY))})
    text = st.one_of(
        shaped.map(json.dumps),
        json_values().map(json.dumps),
        st.sampled_from(['{"topic":', "{", "", "null", "[]", '"aws/ping"', "\x00", "{}" * 100,
                         '{"topic":"aws/ping","topic":"aws/subscribe"}', "\u202e{}", "😀" * 1000]),
        st.text(max_size=64).filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
    )
    raw = st.one_of(st.binary(max_size=200), st.sampled_from([b"\xff\xfe", b"\xc0\xaf", b'{"topic":"\xed\xa0\x80"}',
                                                              b'{"topic":"aws/ping"}']))
    return st.one_of(
        text.map(lambda t: ("text", t)),
        raw.map(lambda b: ("binary", b)),
        raw.map(lambda b: ("raw-text", b)),
    ).filter(lambda f: len(f[1].encode() if isinstance(f[1], str) else f[1]) <= MAX_FRAME)


@dataclass
class Sockets:
    """Opens the fuzzed party's sockets, one at a time (a new one when the last was closed)."""

    new_url: Callable[[], str]
    conn: ClientConnection | None = None
    opened: int = 0

    def current(self) -> ClientConnection:
        if self.conn is None:
            self.conn = ws_connect(self.new_url(), open_timeout=ANSWER_WAIT, max_size=None, proxy=None,
                                   close_timeout=0.2, legacy=True)
            self.opened += 1
        return self.conn

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()  # after the server's close, close_timeout bounds the wait for its end of TCP
        self.conn = None


@pytest.fixture(scope="module")
def sockets(fconnect: Any, fparticipant: Any, fdemo: Any) -> Iterator[Sockets]:
    """A participant's websockets (the customer of a chat of its own)."""
    chat = new_chat(fconnect, fparticipant, fdemo, bot=False)
    opened = Sockets(chat.customer.new_websocket_url)
    yield opened
    opened.drop()


@pytest.fixture(scope="module")
def agent_sockets(cti_agent: Any) -> Iterator[Sockets]:
    """The CTI agent's websockets (``/connect/agent-ws``)."""
    opened = Sockets(cti_agent.websocket_url)
    yield opened
    opened.drop()


def answer_or_close(conn: ClientConnection) -> tuple[str | bytes | None, Close | None]:
    """The next frame, or the server's close frame as soon as it arrives (the server then lingers a second
    before it ends TCP, which the client's ``recv`` would wait out)."""
    deadline = time.monotonic() + ANSWER_WAIT
    while True:
        try:
            return conn.recv(timeout=0.05), None
        except ConnectionClosed as closed:
            return None, closed.rcvd if closed.rcvd is not None else Close(1006, "no close frame")
        except TimeoutError:
            if conn.protocol.close_rcvd is not None:
                return None, conn.protocol.close_rcvd
            if time.monotonic() > deadline:
                raise


def exchange(sockets: Sockets, kind: str, payload: bytes | str) -> None:
    """Send one frame; expect one JSON text answer or a close with a proper code."""
    conn = sockets.current()
    try:
        if kind == "text":
            conn.send(payload)
        else:
            assert isinstance(payload, bytes)
            conn.send(payload, text=kind == "raw-text")
        answer, close = answer_or_close(conn)
    except ConnectionClosed as closed:  # closed while sending
        answer, close = None, closed.rcvd if closed.rcvd is not None else Close(1006, "no close frame")
    except TimeoutError:
        raise AssertionError(f"no answer within {ANSWER_WAIT} s to {kind} {payload!r:.300}") from None
    if close is not None:
        assert close.code in PROPER_CLOSES, f"closed with {close.code} {close.reason!r} after {kind} {payload!r:.300}"
        sockets.drop()
        return
    assert isinstance(answer, str), f"a binary answer {answer!r:.200} to {kind} {payload!r:.300}"
    parsed = json.loads(answer)
    assert isinstance(parsed, dict), answer


def fuzz_frames(sockets: Sockets, batch: list[tuple[str, bytes | str]]) -> None:
    """Each batch on a fresh socket (so no example trips the per-socket frame rate another one built up)."""
    sockets.drop()
    try:
        for kind, payload in batch:
            exchange(sockets, kind, payload)
        if sockets.conn is not None:  # still open: it still answers
            sockets.conn.send(json.dumps({"topic": "aws/ping"}))
            answer = json.loads(sockets.conn.recv(timeout=ANSWER_WAIT))
            assert answer.get("topic") == "aws/ping", answer
    finally:
        sockets.drop()


@settings(FUZZ, max_examples=40)
@given(st.lists(frames(), min_size=1, max_size=4))
def test_participant_frames_get_answers_or_proper_closes(sockets: Sockets,
                                                          batch: list[tuple[str, bytes | str]]) -> None:
    fuzz_frames(sockets, batch)


@settings(FUZZ, max_examples=20)
@given(st.lists(frames(), min_size=1, max_size=4))
def test_agent_frames_get_answers_or_proper_closes(agent_sockets: Sockets,
                                                    batch: list[tuple[str, bytes | str]]) -> None:
    fuzz_frames(agent_sockets, batch)


def test_invalid_utf8_text_frame_closes_1007_without_a_traceback(fconnect: Any, fparticipant: Any,
                                                                 fdemo: Any, fuzz_log: LogWatch) -> None:
    """Found by this fuzzer: uvicorn closed with 1007 but logged a traceback (fixed in web/server/wsprotocol.py)."""
    chat = new_chat(fconnect, fparticipant, fdemo, bot=False)
    url = chat.customer.new_websocket_url()
    start = fuzz_log.size()
    with ws_connect(url, open_timeout=ANSWER_WAIT, proxy=None) as conn:
        conn.send(b"\xff\xfe", text=True)
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=ANSWER_WAIT)
        received = closed.value.rcvd
        assert received is not None and received.code == 1007, received
    written = fuzz_log.server.log()[start:]
    assert "Traceback" not in written, written[-2000:]


@settings(FUZZ, max_examples=12)
@given(query=st.one_of(st.sampled_from(["", "?ticket=", "?ticket=%00", "?ticket=" + "a" * 4000, "?ticket=%zz",
                                         "?ticket=a&ticket=b", "?ticket=%F0%9F%98%80", "?x=1"]),
                       st.text(alphabet="abcXYZ019-_%.", max_size=60).map(lambda t: "?ticket=" + t)),
       path=st.sampled_from(["/participant/ws", "/connect/agent-ws"]))
def test_bad_tickets_are_refused_with_a_close(fuzz_server: Any, query: str, path: str) -> None:
    """A websocket with no, an empty, a malformed or an unknown ticket: refused (HTTP 403 or close 1008)."""
    from websockets.exceptions import InvalidStatus

    url = fuzz_server.url.replace("http://", "ws://") + path + query
    try:
        with ws_connect(url, open_timeout=ANSWER_WAIT, proxy=None) as conn:
            with pytest.raises(ConnectionClosed) as closed:
                conn.recv(timeout=ANSWER_WAIT)
            received = closed.value.rcvd
            assert received is not None and received.code == 1008, (url[:200], received)
    except InvalidStatus as refused:
        assert refused.response.status_code in (400, 401, 403, 404), (url[:200], refused.response.status_code)

"""Request bodies and request heads are bounded (:mod:`parley.aws.bodies`, :mod:`parley.web.server.httpprotocol`), on a
real ``parley serve`` with real clients (boto3, httpx, raw sockets):

* a body over its surface's limit is answered 413 in the surface's own error shape, before authentication; a
  declared ``Content-Length`` over it is refused before the body is sent, a streamed one as soon as it passes
  the limit, without the server buffering it; the largest legitimate bodies still pass;
* a connection that does not send a whole request head in ``--header-timeout`` is closed (408 when part of a head
  came), while an idle keep-alive connection is not;
* past ``--max-connections``, a new connection evicts the one that has waited longest for a head.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from botocore.exceptions import ClientError

from parley.aws.bodies import CONNECT_BODY_LIMIT, CTI_BODY_LIMIT, PARTICIPANT_BODY_LIMIT
from tests.aws.chat_helpers import new_chat, participant_client
from tests.aws.conftest import builtin_ids
from tests.conftest import Server, serving, start_server

# The header timeout of the server under test: short, so the test is quick (the default is 10 s).
HEADER_TIMEOUT = 1.0
# How long a test waits for the server to do something it must do (generous: the machine is shared).
WAIT = 10.0
TOO_LARGE = "RequestEntityTooLargeException"


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    with serving(["--demo", "--header-timeout", str(HEADER_TIMEOUT)]) as srv:
        yield srv


def rss_kib(server: Server) -> int:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def raw(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response with a Content-Length (status, lower-cased headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed inside a response body"
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def closed_by_server(sock: socket.socket, within: float) -> tuple[bool, bytes]:
    """Whether the server closes ``sock`` within ``within`` seconds, and what it sent before."""
    sock.settimeout(within)
    received = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True, received
            received += chunk
    except ConnectionResetError:
        return True, received
    except TimeoutError:
        return False, received


# -- bodies ----------------------------------------------------------------------------------------------------

def test_a_declared_participant_body_over_the_limit_is_refused_before_it_is_sent(limited: Server) -> None:
    sock = raw(limited)
    try:
        sock.sendall(b"POST /participant/message HTTP/1.1\r\nHost: parley\r\nX-Amz-Bearer: nobody\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (PARTICIPANT_BODY_LIMIT + 1))
        status, headers, body = read_response(sock)  # answered with no byte of the body sent
    finally:
        sock.close()
    assert status == 413
    assert headers["x-amzn-errortype"] == TOO_LARGE
    assert str(PARTICIPANT_BODY_LIMIT) in json.loads(body)["Message"]
    assert headers["access-control-allow-origin"] == "*"  # the Participant Service's CORS headers, as on any answer


def test_a_streamed_body_is_refused_while_it_streams_and_is_not_buffered(limited: Server) -> None:
    """50 MB of chunked body without credentials: the 413 comes while the client is still sending, the server's
    memory does not grow by the body (it grew by the whole body, then answered 403), and after a bounded amount
    of dropped body the server closes the connection."""
    before = rss_kib(limited)
    sock = raw(limited)
    chunk = b"x" * 65536
    sent = 0
    answer = b""
    closed = False
    try:
        sock.sendall(b"POST /participant/message HTTP/1.1\r\nHost: parley\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sock.setblocking(False)
        deadline = time.monotonic() + 60
        while sent < 50_000_000 and not closed and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                try:
                    got = sock.recv(65536)
                except ConnectionResetError:
                    closed = True
                    continue
                answer += got
                closed = not got
            if writable and not closed:
                try:
                    sent += sock.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert TOO_LARGE.encode() in answer
    assert sent < 50_000_000, "the server read the whole body"
    assert closed, "the server kept reading a refused body"
    assert rss_kib(limited) - before < 30 * 1024, "the server buffered the refused body"


def test_a_connect_body_over_the_limit_is_refused_before_authentication(limited: Server) -> None:
    attributes = {f"key{i}": "v" * 30_000 for i in range(40)}  # 1.2 MB, over 1 MiB
    assert len(json.dumps(attributes)) > CONNECT_BODY_LIMIT
    for key, secret in (("test", "test"), ("nobody", "wrong")):
        client = limited.connect(key=key, secret=secret)
        with pytest.raises(ClientError) as refused:
            client.update_contact_attributes(InstanceId="i", InitialContactId="c", Attributes=attributes)
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert error["Error"]["Code"] == TOO_LARGE
        assert str(CONNECT_BODY_LIMIT) in error["Error"]["Message"]


def test_a_cti_body_over_the_limit_is_refused_in_the_cti_shape(limited: Server) -> None:
    body = json.dumps({"authentication": {"authToken": "nobody"}, "padding": "x" * CTI_BODY_LIMIT})
    answer = httpx.post(f"{limited.url}/api", content=body, timeout=WAIT, headers={
        "X-Amz-Target": "AmazonConnectCTIService.SendClientLogs", "Content-Type": "application/x-amz-json-1.0"})
    assert answer.status_code == 413
    assert answer.json()["__type"] == TOO_LARGE
    # A body under the limit reaches authentication (and is refused there, with the CTI's own error).
    small = httpx.post(f"{limited.url}/api", content=json.dumps({"authentication": {"authToken": "nobody"}}),
                       timeout=WAIT, headers={"X-Amz-Target": "AmazonConnectCTIService.GetAgentSnapshot"})
    assert small.status_code == 401


def test_the_largest_legitimate_message_passes_and_a_refused_body_leaves_the_connection_usable(
        limited: Server) -> None:
    """The longest content (16,384 bytes of UTF-8) in its longest escaped form (boto3 writes a control character
    as 6 bytes) passes the Participant limit; and after a 413 whose body the client sent anyway, the same
    keep-alive connection serves the next request."""
    connect = limited.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    chat = new_chat(connect, participant_client(limited.url), builtin_ids(connect, instance), bot=False)
    content = "\x01" * 16384
    assert len(json.dumps(content)) > 16384 * 6
    sent = chat.customer.send(content)
    assert sent["Id"]

    with httpx.Client(base_url=limited.url, timeout=WAIT, limits=httpx.Limits(max_connections=1)) as http:
        headers = {"X-Amz-Bearer": chat.customer.connection_token, "Content-Type": "application/json"}
        big = http.post("/participant/message", headers=headers,
                        content=json.dumps({"ContentType": "text/plain", "Content": "x" * PARTICIPANT_BODY_LIMIT}))
        assert big.status_code == 413 and big.headers["x-amzn-errortype"] == TOO_LARGE
        assert big.headers.get("connection", "").lower() != "close"
        ok = http.post("/participant/message", headers=headers,
                       content=json.dumps({"ContentType": "text/plain", "Content": "after the 413"}))
        assert ok.status_code == 200, ok.text
    texts = [item.get("Content") for item in chat.customer.items()]
    assert "after the 413" in texts and content in texts
    assert not any(text and text.startswith("xxxx") for text in texts)  # the refused message changed nothing


# -- heads -----------------------------------------------------------------------------------------------------

def test_connections_that_do_not_send_a_whole_head_are_closed_after_the_header_timeout(limited: Server) -> None:
    partial = [raw(limited) for _ in range(20)]
    silent = [raw(limited) for _ in range(10)]
    for sock in partial:
        sock.sendall(b"POST /participant/message HTTP/1.1\r\nHost: parley\r\nX-Amz-Bear")
    try:
        for sock in partial:
            closed, sent = closed_by_server(sock, HEADER_TIMEOUT + WAIT)
            assert closed, "a half-sent head is still held"
            assert sent.startswith(b"HTTP/1.1 408 ")
        for sock in silent:
            closed, sent = closed_by_server(sock, HEADER_TIMEOUT + WAIT)
            assert closed and sent == b"", sent
    finally:
        for sock in partial + silent:
            sock.close()
    assert httpx.get(f"{limited.url}/health", timeout=WAIT).status_code == 200


def test_a_keep_alive_connection_may_idle_but_its_next_head_must_not_stall(limited: Server) -> None:
    sock = raw(limited)
    request = b"GET /health HTTP/1.1\r\nHost: parley\r\n\r\n"
    try:
        sock.sendall(request)
        assert read_response(sock)[0] == 200
        time.sleep(HEADER_TIMEOUT * 2)  # idle between requests: the keep-alive timeout applies, not this one
        sock.sendall(request)
        assert read_response(sock)[0] == 200
        sock.sendall(request[:20])  # the next head starts, and stalls
        closed, sent = closed_by_server(sock, HEADER_TIMEOUT + WAIT)
        assert closed and sent.startswith(b"HTTP/1.1 408 "), sent
    finally:
        sock.close()


def test_past_the_connection_limit_the_connections_waiting_longest_for_a_head_are_evicted() -> None:
    server = start_server(["--demo", "--max-connections", "40"])  # the default header timeout: 10 s
    sockets: list[socket.socket] = []
    try:
        for _ in range(60):
            sockets.append(raw(server))
            time.sleep(0.005)  # in order: the oldest are the first evicted
        answer = httpx.get(f"{server.url}/health", timeout=WAIT)  # a newcomer gets in
        assert answer.status_code == 200
        evicted = [closed_by_server(sock, 0.5)[0] for sock in sockets[:20]]
        assert all(evicted), evicted
        kept = [closed_by_server(sock, 0.05)[0] for sock in sockets[-30:]]
        assert not any(kept), kept  # the newest are still open (their header timeout is 10 s)
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)

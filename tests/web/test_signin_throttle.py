"""Sign-in throttling through a real server and the real login form: failures back off per username with
``Retry-After`` and never lock a real agent out for good; a burst of parallel guesses is refused (429) instead of
being queued into Argon2 work; a throttled post is answered in a few hundred bytes, and one from an address that
is closed or out of posts is refused before its body is read.

Each test sends from its own loopback address (any 127/8 address reaches the server on 127.0.0.1), so the
per-address limits of one test do not reach another."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from parley.service.demo import DEMO_PASSWORD
from parley.service.signin_throttle import ADDRESS_POSTS, USERNAME_BACKOFF
from tests.conftest import Server, serving, start_server

# Parallel wrong-password attempts of the report (it took both cores and 384 MB without a throttle).
BURST = 24
# A throttled answer is one sentence and a link; the sign-in page is about 3.5 KB.
SMALL = 2048


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server of this module's own: its throttle state must not leak into other tests."""
    with serving(["--demo"]) as srv:
        yield srv


def browser(server: Server, address: str) -> httpx.Client:
    """A cookie-keeping client connecting from ``address``."""
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def attempt(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/connect/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return client.post("/connect/login", data={"username": username, "password": password, "instance": "demo",
                                                "csrf": csrf.group(1)})


def assert_small_refusal(answer: httpx.Response) -> int:
    """A throttled answer: 429, small, no form, a sentence for a person; returns its ``Retry-After``."""
    assert answer.status_code == 429, answer.text
    assert len(answer.content) < SMALL, len(answer.content)
    assert answer.headers["content-type"].startswith("text/html")
    assert "<form" not in answer.text and "parley_csrf" not in answer.headers.get("set-cookie", "")
    wait = int(answer.headers["retry-after"])
    assert f"Too many sign-in attempts. Try again in {wait} second{'' if wait == 1 else 's'}." in answer.text
    assert 'href="/connect/login"' in answer.text
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    return wait


def test_failures_back_off_then_the_right_password_works(server: Server) -> None:
    with browser(server, "127.0.0.11") as client:
        for _ in range(USERNAME_BACKOFF.free + 1):
            assert attempt(client, "agent3", "wrong-password").status_code == 401
        refused = attempt(client, "agent3", DEMO_PASSWORD)  # right, but inside the back-off window
        wait = assert_small_refusal(refused)
        assert 1 <= wait <= USERNAME_BACKOFF.cap
        assert client.get("/auth/authorize").status_code == 401
        time.sleep(wait + 0.2)
        accepted = attempt(client, "agent3", DEMO_PASSWORD)
        assert accepted.status_code == 303, accepted.text
        assert client.get("/auth/authorize").status_code == 200


def test_an_address_out_of_posts_is_refused_before_its_form_is_read(server: Server) -> None:
    """Malformed bodies answer 400 while the form is read; once the address has sent its posts, the same body
    gets the small 429: nothing of it was read."""
    malformed = {"content": b"\xff\xfe not a form", "headers": {"Content-Type": "text/plain"}}
    with browser(server, "127.0.0.12") as client:
        answers = [client.post("/connect/login", **malformed) for _ in range(ADDRESS_POSTS.burst + 10)]
        codes = [a.status_code for a in answers]
        first = codes.index(429)
        assert set(codes[:first]) == {400} and first >= ADDRESS_POSTS.burst, codes
        assert "application/x-www-form-urlencoded" in answers[0].text  # the 400 is the form reader's
        assert codes[first:].count(429) >= 5, codes
        assert_small_refusal(answers[first])
        right = attempt(client, "agent2", DEMO_PASSWORD)  # a real form from this address waits too
        assert_small_refusal(right)
    with browser(server, "127.0.0.13") as other:  # another address still gets its form read
        assert other.post("/connect/login", **malformed).status_code == 400


async def test_a_burst_of_parallel_guesses_is_refused_not_queued(server: Server) -> None:
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.14")
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False, timeout=60,
                                 transport=transport) as client:
        page = await client.get("/connect/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        form = {"username": "agent4", "password": "wrong-password", "instance": "demo", "csrf": csrf.group(1)}
        answers = await asyncio.gather(*(client.post("/connect/login", data=form) for _ in range(BURST)))
        codes = [a.status_code for a in answers]
        assert set(codes) <= {401, 429}, codes
        # Only a few were checked (at most the free failures plus the parallel checks one username may run; each
        # check that failed counts); the rest were refused before any Argon2 work.
        assert codes.count(401) <= USERNAME_BACKOFF.free + USERNAME_BACKOFF.max_in_flight, codes
        for refused in (a for a in answers if a.status_code == 429):
            assert_small_refusal(refused)
        # More wrong guesses, one at a time, close the username: then even the right password must wait.
        for _ in range(USERNAME_BACKOFF.free + 1):
            guess = await client.post("/connect/login", data=form)
            if guess.status_code == 429:
                break
        right = await client.post("/connect/login", data={**form, "password": DEMO_PASSWORD})
        assert right.status_code == 429, right.text
    # other agents from elsewhere are not affected
    with browser(server, "127.0.0.15") as other:
        assert attempt(other, "agent5", DEMO_PASSWORD).status_code == 303


def test_successful_sign_ins_do_not_use_up_an_address(server: Server) -> None:
    """An office behind one address: more sign-ins than the address's posts all go through, and leave the
    address all its posts (a burst of unreadable posts right after them is read, 400, not refused)."""
    with browser(server, "127.0.0.16") as client:
        for n in range(ADDRESS_POSTS.burst + 5):
            assert attempt(client, ("agent1", "agent2", "agent5")[n % 3], DEMO_PASSWORD).status_code == 303, n
    with browser(server, "127.0.0.16") as cookieless:  # no device cookie: the address's posts apply
        codes = [cookieless.post("/connect/login", content=b"x", headers={"Content-Type": "text/plain"}).status_code
                 for _ in range(ADDRESS_POSTS.burst - 1)]
        assert codes == [400] * (ADDRESS_POSTS.burst - 1), codes


def test_the_refusal_is_the_same_when_written_through_asgi_send() -> None:
    """With access logging on (``--log-level debug``) responses go through the ASGI ``send`` instead of the
    server's one-write path: the refusal must be the same small page with the same headers."""
    srv = start_server(["--demo", "--log-level", "debug"])
    try:
        with browser(srv, "127.0.0.17") as client:
            answers = [client.post("/connect/login", content=b"x", headers={"Content-Type": "text/plain"})
                       for _ in range(ADDRESS_POSTS.burst + 5)]
            refused = next(a for a in answers if a.status_code == 429)
            assert_small_refusal(refused)
            assert refused.headers["x-frame-options"] == "DENY" and refused.headers["cache-control"] == "no-store"
            assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
            assert refused.headers["x-amzn-requestid"]
    finally:
        srv.stop()
        shutil.rmtree(srv.data_dir, ignore_errors=True)

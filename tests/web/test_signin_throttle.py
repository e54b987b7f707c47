"""Sign-in throttling through a real server and the real login form: failures back off per username with
``Retry-After`` (429 page) and never lock a real agent out for good; a burst of parallel guesses is refused
(429) instead of being queued into Argon2 work."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from parley.service.demo import DEMO_PASSWORD
from parley.service.signin_throttle import USERNAME_BACKOFF
from tests.conftest import Server, start_server

# Parallel wrong-password attempts of the report (it took both cores and 384 MB without a throttle).
BURST = 24


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server of this module's own: its throttle state must not leak into other tests."""
    srv = start_server(["--demo"])
    yield srv
    srv.stop()
    shutil.rmtree(srv.data_dir, ignore_errors=True)


def attempt(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/connect/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return client.post("/connect/login", data={"username": username, "password": password, "instance": "demo",
                                                "csrf": csrf.group(1)})


def test_failures_back_off_then_the_right_password_works(server: Server) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        for _ in range(USERNAME_BACKOFF.free + 1):
            assert attempt(client, "agent3", "wrong-password").status_code == 401
        refused = attempt(client, "agent3", DEMO_PASSWORD)  # right, but inside the back-off window
        assert refused.status_code == 429, refused.text
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= USERNAME_BACKOFF.cap
        assert "Too many sign-in attempts" in refused.text
        assert 'name="username" value="agent3"' in refused.text  # the form comes back, filled in
        assert client.get("/auth/authorize").status_code == 401
        time.sleep(wait + 0.2)
        accepted = attempt(client, "agent3", DEMO_PASSWORD)
        assert accepted.status_code == 303, accepted.text
        assert client.get("/auth/authorize").status_code == 200


async def test_a_burst_of_parallel_guesses_is_refused_not_queued(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False, timeout=60) as client:
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
        assert all(a.headers.get("retry-after", "").isdigit() for a in answers if a.status_code == 429)
        # More wrong guesses, one at a time, close the username: then even the right password must wait.
        for _ in range(USERNAME_BACKOFF.free + 1):
            guess = await client.post("/connect/login", data=form)
            if guess.status_code == 429:
                break
        right = await client.post("/connect/login", data={**form, "password": DEMO_PASSWORD})
        assert right.status_code == 429, right.text
    # other agents from elsewhere are not affected
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as other:
        assert attempt(other, "agent5", DEMO_PASSWORD).status_code == 303

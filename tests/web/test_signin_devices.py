"""Device cookies through a real server and the real login form: while guesses from elsewhere keep an agent's
username closed, a browser that signed that agent in before signs in at once with the right password; a new
browser, or one presenting a forged, altered, expired or another account's device cookie, waits (429); wrong
passwords from a known browser back off under that browser's own key.

Each browser connects from its own loopback address (any 127/8 address reaches the server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley.service.demo import DEMO_PASSWORD
from parley.service.device_cookies import LIFETIME_SECONDS, DeviceCookies
from parley.service.signin_throttle import ADDRESS_POSTS, DEVICE_BACKOFF, USERNAME_BACKOFF, user_key
from parley.storage import open_storage
from tests.conftest import Server, serving, start_server
from tests.test_tls import make_cert

DEVICE = "parley_device"
# How long the username stays closed before the checks start: room for a slow, shared machine to make them.
LOCKED_FOR = 8
# A throttled answer is one sentence and a link; the sign-in page is about 3.5 KB.
SMALL = 2048


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A server of this module's own: its throttle state must not leak into other tests."""
    with serving(["--demo"]) as srv:
        yield srv


def browser(server: Server, address: str, device: str = "") -> httpx.Client:
    """A cookie-keeping client connecting from ``address``, optionally holding a device cookie already."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30,
                          transport=httpx.HTTPTransport(local_address=address))
    if device:
        client.cookies.set(DEVICE, device, path="/connect/login")
    return client


def attempt(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/connect/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    return client.post("/connect/login", data={"username": username, "password": password, "instance": "demo",
                                                "csrf": csrf.group(1)})


def signed_in_device(server: Server, address: str, username: str) -> tuple[httpx.Client, str]:
    """A browser that signed ``username`` in, and the device cookie it got."""
    client = browser(server, address)
    answer = attempt(client, username, DEMO_PASSWORD)
    assert answer.status_code == 303, answer.text
    [header] = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{DEVICE}=")]
    attributes = header.lower()
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/connect/login" in attributes
    assert f"max-age={LIFETIME_SECONDS}" in attributes
    cookie = client.cookies.get(DEVICE)
    assert cookie
    return client, cookie


def close_until(client: httpx.Client, username: str, at_least: int) -> None:
    """Wrong passwords from ``client``, waiting out each ``Retry-After``, until a refusal asks for ``at_least``
    seconds."""
    for _ in range(USERNAME_BACKOFF.free + 12):
        answer = attempt(client, username, "wrong-password")
        if answer.status_code == 429:
            wait = int(answer.headers["retry-after"])
            if wait >= at_least:
                return
            time.sleep(wait)
        else:
            assert answer.status_code == 401, answer.text
    raise AssertionError(f"{username} never closed for {at_least} s")


def assert_waits(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    assert len(answer.content) < SMALL and answer.headers["retry-after"].isdigit()


def test_a_known_browser_signs_in_at_once_while_its_username_is_under_attack(server: Server) -> None:
    known, device = signed_in_device(server, "127.0.0.31", "agent2")
    with browser(server, "127.0.0.32") as attacker:
        close_until(attacker, "agent2", LOCKED_FOR)
    with browser(server, "127.0.0.33") as new:  # a browser that never signed agent2 in
        assert_waits(attempt(new, "agent2", DEMO_PASSWORD))
    with contextlib.closing(known):
        answer = attempt(known, "agent2", DEMO_PASSWORD)
        assert answer.status_code == 303, answer.text
        assert known.get("/auth/authorize").status_code == 200
        assert known.cookies.get(DEVICE) not in (None, device)  # renewed with a fresh device id
    with browser(server, "127.0.0.33") as new:  # the known browser's success did not reopen the username
        assert_waits(attempt(new, "agent2", DEMO_PASSWORD))


def test_forged_altered_expired_and_other_accounts_device_cookies_give_nothing(server: Server) -> None:
    _first, valid = signed_in_device(server, "127.0.0.41", "agent3")
    _other, others = signed_in_device(server, "127.0.0.42", "agent1")  # agent1's, presented for agent3
    _first.close()
    _other.close()
    version, iid, expires, device_id, who, mac = valid.split(".")
    expired = asyncio.run(expired_entry(server, "agent3"))
    with browser(server, "127.0.0.43") as attacker:
        close_until(attacker, "agent3", LOCKED_FOR)
    flipped = "A" if mac[-1] != "A" else "B"
    for n, forged in enumerate((
        f"{version}.{iid}.{expires}.{device_id}.{who}.{mac[:-1]}{flipped}",  # a made-up signature
        f"{version}.{iid}.{int(expires) + 3600}.{device_id}.{who}.{mac}",  # an altered expiry
        f"{version}.{iid}.{expires}.{device_id}.{others.split('.')[4]}.{mac}",  # relabelled for another account
        others,  # another account's genuine cookie
        expired,  # genuine, signed with the instance's secret, but expired
    )):
        with browser(server, f"127.0.0.{50 + n}", forged) as holder:
            assert_waits(attempt(holder, "agent3", DEMO_PASSWORD))
    with browser(server, "127.0.0.49", valid) as holder:  # the genuine cookie, for contrast
        assert attempt(holder, "agent3", DEMO_PASSWORD).status_code == 303


async def expired_entry(server: Server, username: str) -> str:
    """A device cookie signed with the demo instance's real secret (read from the server's database) that
    expired a minute ago."""
    storage = await open_storage(f"sqlite:///{server.data_dir / 'parley.db'}")
    try:
        async with storage.transaction() as uow:
            instance = await uow.instances.find_by_alias("demo")
        assert instance is not None
        return await DeviceCookies(storage, lifetime=-60).issue(instance.id, user_key("demo", username), "")
    finally:
        await storage.close()


def test_wrong_passwords_from_a_known_browser_back_off_for_that_browser_only(server: Server) -> None:
    known, _device = signed_in_device(server, "127.0.0.61", "agent5")
    second, _its_device = signed_in_device(server, "127.0.0.63", "agent5")
    with contextlib.closing(known):
        for _ in range(DEVICE_BACKOFF.free):
            assert attempt(known, "agent5", "wrong-password").status_code == 401
        close_until(known, "agent5", 4)
        assert_waits(attempt(known, "agent5", DEMO_PASSWORD))
    # the username was not closed by them: another known browser, and a new one, sign in
    with contextlib.closing(second):
        assert attempt(second, "agent5", DEMO_PASSWORD).status_code == 303
    with browser(server, "127.0.0.62") as new:
        assert attempt(new, "agent5", DEMO_PASSWORD).status_code == 303


def test_a_known_browser_gets_past_its_address_limit_for_its_own_account_only(server: Server) -> None:
    """Guesses from the same address (an office's shared address) used up its posts: the known browser still
    signs its own agent in, but its device cookie lets it guess no other account."""
    known, _device = signed_in_device(server, "127.0.0.71", "agent4")
    with browser(server, "127.0.0.71") as neighbour:
        for _ in range(ADDRESS_POSTS.burst + 5):
            neighbour.post("/connect/login", content=b"x", headers={"Content-Type": "text/plain"})
        assert_waits(attempt(neighbour, "agent4", DEMO_PASSWORD))
    with contextlib.closing(known):
        assert_waits(attempt(known, "agent1", "wrong-password"))  # refused at once, not checked (401)
        answer = attempt(known, "agent4", DEMO_PASSWORD)
        assert answer.status_code == 303, answer.text


def test_over_https_the_device_cookie_is_secure_and_same_site_none() -> None:
    """Like the session cookie: a CCP framed by an approved origin's page still signs in with it."""
    data = Path(tempfile.mkdtemp(prefix="parley-devices-tls-"))
    cert, key = make_cert(data)
    tls = start_server(["--demo", "--tls-cert", str(cert), "--tls-key", str(key)], data_dir=data, scheme="https")
    try:
        with httpx.Client(base_url=tls.url, follow_redirects=False, timeout=30, verify=False) as client:
            answer = attempt(client, "agent1", DEMO_PASSWORD)
            assert answer.status_code == 303, answer.text
            [header] = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{DEVICE}=")]
            attributes = [part.strip().lower() for part in header.split(";")]
            assert {"secure", "httponly", "samesite=none", "path=/connect/login"} <= set(attributes), header
    finally:
        tls.stop()
        shutil.rmtree(data, ignore_errors=True)

"""Agent sign-in as the CCP uses it: the login form, the session cookie, /auth/authorize and logout."""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest

from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied
from parley.domain.ids import hash_token
from parley.service.auth import WRONG_CREDENTIALS, AuthService
from parley.service.demo import DEMO_PASSWORD, ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.storage import open_storage
from parley.storage.database import SqlStorage
from tests.conftest import Server

DEFAULT_LANDAT = "/connect/ccp-v2/"
TWELVE_HOURS_MS = 12 * 3600 * 1000


@pytest.fixture
def browser(server: Server, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A cookie-keeping client that does not follow redirects, like a browser tab we can inspect. Each test's
    browser connects from a loopback address of its own (any 127/8 address reaches the server), so the sign-in
    posts one test sends do not use up another's (the server counts them per address)."""
    spot = zlib.crc32(request.node.nodeid.encode())
    transport = httpx.HTTPTransport(local_address=f"127.1.{spot >> 8 & 0xFF}.{1 + spot % 250}")
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30, transport=transport) as client:
        yield client


def open_form(client: httpx.Client, **query: str) -> tuple[str, str]:
    """GET the login page; returns (html, csrf token from the hidden field)."""
    page = client.get("/connect/login", params=query)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return page.text, match.group(1)


def sign_in(client: httpx.Client, username: str = "agent1", password: str = DEMO_PASSWORD,
            **extra: str) -> httpx.Response:
    _html, csrf = open_form(client)
    form = {"username": username, "password": password, "instance": "demo", "csrf": csrf, **extra}
    return client.post("/connect/login", data=form)


def set_cookie(response: httpx.Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers
    return headers[0]


# the form ------------------------------------------------------------------------------------------
def test_login_page_renders_a_form_with_a_csrf_token(browser: httpx.Client) -> None:
    page = browser.get("/connect/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<title>Parley — Sign in</title>" in html
    for field in ("username", "password", "instance"):
        assert f'<label for="{field}">' in html and f'name="{field}"' in html
    assert 'name="instance" value="demo"' in html
    assert f'name="landat" value="{DEFAULT_LANDAT}"' in html
    assert re.search(r'id="username"[^>]*autofocus', html)
    hidden = re.search(r'name="csrf" value="([^"]+)"', html)
    assert hidden and browser.cookies.get("parley_csrf") == hidden.group(1)
    cookie = set_cookie(page, "parley_csrf").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_page_escapes_what_it_echoes(browser: httpx.Client) -> None:
    landat = '/x"><script>alert(1)</script>'
    instance = '"><img src=x onerror=alert(2)>'
    html, _csrf = open_form(browser, landat=landat, instance=instance)
    assert "<script>alert" not in html and "<img src=x" not in html
    for name, sent in (("landat", landat), ("instance", instance)):  # each echoed whole, as an escaped attribute
        echoed = re.search(f'name="{name}" value="([^"]*)"', html)
        assert echoed and unescape(echoed.group(1)) == sent, html


def test_login_page_keeps_the_csrf_cookie_it_gave(browser: httpx.Client) -> None:
    _html, first = open_form(browser)
    _html, second = open_form(browser)
    assert first == second


# signing in ----------------------------------------------------------------------------------------
def test_good_login_sets_the_session_cookie_and_lands(browser: httpx.Client) -> None:
    response = sign_in(browser, landat="/connect/ccp-v2/?mode=popup")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/connect/ccp-v2/?mode=popup"
    assert response.headers["cache-control"] == "no-store"
    cookie = set_cookie(response, "parley_session")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=43200"} <= attributes
    assert "secure" not in attributes  # the test server's public URL is http://
    assert len(browser.cookies.get("parley_session") or "") >= 40


def test_login_without_landat_goes_to_the_ccp(browser: httpx.Client) -> None:
    _html, csrf = open_form(browser)
    response = browser.post("/connect/login", data={"username": "agent2", "password": DEMO_PASSWORD, "csrf": csrf,
                                                    "instance": "demo"})
    assert response.status_code == 303
    assert response.headers["location"] == DEFAULT_LANDAT


@pytest.mark.parametrize("landat", [
    "//evil.com", "https://evil.com", "/\\evil", "/\\/evil.com", "/\t/evil.com", "\\\\evil.com",
    "javascript:alert(1)", "evil.com", "", " /x",
])
def test_open_redirects_go_to_the_ccp_instead(browser: httpx.Client, landat: str) -> None:
    response = sign_in(browser, landat=landat)
    assert response.status_code == 303
    assert response.headers["location"] == DEFAULT_LANDAT


@pytest.mark.parametrize(("instance", "username", "password"), [
    ("demo", "agent1", "not-the-password"),
    ("demo", "nobody-by-this-name", DEMO_PASSWORD),
    ("no-such-instance", "agent1", DEMO_PASSWORD),
    ("demo", "agent1\x00", DEMO_PASSWORD),
    ("demo", "a" * 5000, DEMO_PASSWORD),
    ("demo", "agent1", "x" * 5000),
])
def test_wrong_credentials_all_get_the_same_401(
    browser: httpx.Client, instance: str, username: str, password: str
) -> None:
    _html, csrf = open_form(browser)
    response = browser.post("/connect/login", data={
        "instance": instance, "username": username, "password": password, "csrf": csrf,
    })
    assert response.status_code == 401
    assert WRONG_CREDENTIALS in response.text
    assert "parley_session" not in response.headers.get("set-cookie", "")
    if len(username) < 100 and "\x00" not in username:
        assert f'name="username" value="{username}"' in response.text
        assert re.search(r'id="password"[^>]*autofocus', response.text)


def test_a_failed_login_echoes_the_username_escaped(browser: httpx.Client) -> None:
    _html, csrf = open_form(browser)
    response = browser.post("/connect/login", data={
        "instance": "demo", "username": "<b>agent1</b>", "password": "x", "csrf": csrf,
    })
    assert response.status_code == 401
    assert "<b>agent1" not in response.text
    assert 'value="&lt;b&gt;agent1&lt;/b&gt;"' in response.text


def test_bad_csrf_is_refused_with_403(browser: httpx.Client, server: Server) -> None:
    _html, csrf = open_form(browser)
    form = {"instance": "demo", "username": "agent1", "password": DEMO_PASSWORD}
    for sent in ({**form, "csrf": csrf[::-1]}, form, {**form, "csrf": ""}, {**form, "csrf": "é" * 43}):
        response = browser.post("/connect/login", data=sent)
        assert response.status_code == 403, sent
        assert "security token did not match" in response.text
        assert "parley_session" not in response.headers.get("set-cookie", "")
    # a cross-site post: right field, but no cookie (the attacker cannot read or set it)
    with httpx.Client(base_url=server.url) as stranger:
        response = stranger.post("/connect/login", data={**form, "csrf": csrf})
    assert response.status_code == 403


def test_missing_fields_are_refused_with_400(browser: httpx.Client) -> None:
    _html, csrf = open_form(browser)
    for form in ({"csrf": csrf}, {"csrf": csrf, "username": "agent1"}, {"csrf": csrf, "password": "x"},
                 {"csrf": csrf, "username": "", "password": ""}):
        response = browser.post("/connect/login", data=form)
        assert response.status_code == 400, form
        assert "Enter your username and password." in response.text


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{"username": "agent1"}'),
    ("application/x-www-form-urlencoded", b"username=\xff\xfe&password=x"),
    ("application/x-www-form-urlencoded", b"a=1&" * 5000),
    ("application/x-www-form-urlencoded", b"&".join(b"f%d=1" % n for n in range(100))),
    ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
    ("", b""),
])
def test_unreadable_forms_get_400_not_500(browser: httpx.Client, content_type: str, body: bytes) -> None:
    _html, _csrf = open_form(browser)
    headers = {"content-type": content_type} if content_type else {}
    response = browser.post("/connect/login", content=body, headers=headers)
    assert response.status_code == 400
    assert "sign-in form" in response.text


def test_odd_query_strings_do_not_break_the_page(browser: httpx.Client) -> None:
    for query in ("landat=%00%ff", "instance=%ED%A0%80", "landat=" + "a" * 10000, "instance=&landat=&x"):
        response = browser.get(f"/connect/login?{query}")
        assert response.status_code == 200, query


# /auth/authorize and logout ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/auth/authorize", "/connect/auth/authorize"])
def test_authorize_without_a_session_is_401(server: Server, path: str) -> None:
    for cookies in ({}, {"parley_session": "forged"}, {"parley_session": "x" * 5000}):
        response = httpx.get(server.url + path, cookies=cookies)
        assert response.status_code == 401
        assert response.json() == {"message": "Not signed in"}
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/auth/authorize", "/connect/auth/authorize"])
def test_authorize_with_a_session_returns_an_access_token(browser: httpx.Client, path: str) -> None:
    assert sign_in(browser).status_code == 303
    before = int(time.time() * 1000)
    response = browser.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"accessToken", "expiration"}
    assert isinstance(body["accessToken"], str) and len(body["accessToken"]) >= 40
    assert isinstance(body["expiration"], int)
    assert before < body["expiration"] <= before + TWELVE_HOURS_MS + 60_000
    assert browser.get(path).json()["accessToken"] != body["accessToken"]


def sign_out(client: httpx.Client) -> httpx.Response:
    """What the sign-out page's button does: GET the page for its CSRF token, then POST it."""
    page = client.get("/connect/logout")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    return client.post("/connect/logout", data={"csrf": csrf.group(1)})


def test_logout_ends_the_session_and_its_access_tokens(browser: httpx.Client, server: Server) -> None:
    assert sign_in(browser).status_code == 303
    session = browser.cookies.get("parley_session")
    assert session and browser.get("/auth/authorize").status_code == 200
    response = sign_out(browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/connect/login"
    assert response.headers["cache-control"] == "no-store"
    cleared = set_cookie(response, "parley_session").lower()
    assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
    assert browser.cookies.get("parley_session") is None
    # the old cookie, replayed, no longer works
    replay = httpx.get(server.url + "/auth/authorize", cookies={"parley_session": session})
    assert replay.status_code == 401
    assert "You are signed out" in browser.get("/connect/logout").text


def test_logout_over_get_only_shows_the_button(browser: httpx.Client) -> None:
    """Any site can make a browser GET a URL (a link, an image): that must not sign the agent out."""
    assert sign_in(browser).status_code == 303
    for path in ("/connect/logout", "/connect/demo/logout"):
        page = browser.get(path)
        assert page.status_code == 200
        assert '<form method="post" action="/connect/logout">' in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "parley_session" not in page.headers.get("set-cookie", "")
        assert browser.get("/auth/authorize").status_code == 200, "a GET signed the agent out"
    csrf_cookie = set_cookie(browser.get("/connect/logout"), "parley_csrf").lower()
    assert "path=/connect/logout" in csrf_cookie and "httponly" in csrf_cookie


@pytest.mark.parametrize("form", [{}, {"csrf": "forged"}, {"csrf": "x" * 43}])
def test_logout_post_without_the_csrf_token_is_refused(browser: httpx.Client, form: dict[str, str]) -> None:
    assert sign_in(browser).status_code == 303
    browser.get("/connect/logout")  # the CSRF cookie is set; a cross-site form cannot know its value
    response = browser.post("/connect/logout", data=form)
    assert response.status_code == 403
    assert "security token did not match" in response.text
    assert browser.get("/auth/authorize").status_code == 200, "a forged POST signed the agent out"


def test_streams_logout_from_an_approved_origin_signs_out(browser: httpx.Client) -> None:
    """StreamsJS's ``connect.agentApp.stopApp("ccp")`` GETs ``<ccpUrl minus /ccp-v2>/logout`` with credentials
    from the agent's page: allowed (with CORS) when the browser's Origin is approved for the agent's instance."""
    for path in ("/connect/logout", "/connect/demo/logout"):
        assert sign_in(browser).status_code == 303
        evil = browser.get(path, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
        assert browser.get("/auth/authorize").status_code == 200, "an unapproved origin signed the agent out"
        answer = browser.get(path, headers={"Origin": "http://127.0.0.1:8080"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert answer.json() == {}
        assert browser.get("/auth/authorize").status_code == 401


# the service ---------------------------------------------------------------------------------------
@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    store = await open_storage(f"sqlite:///{tmp_path / 'auth.db'}")
    passwords = Passwords(fast=True)
    await ensure_demo(store, InstanceService(store), DirectoryService(store, passwords), QuickConnectService(store))
    yield store
    await store.close()


def service(storage: SqlStorage, **kwargs: float) -> AuthService:
    return AuthService(storage, Passwords(fast=True), **kwargs)


async def test_service_login_and_access_tokens(storage: SqlStorage) -> None:
    auth = service(storage)
    token, user = await auth.login("demo", "agent3", DEMO_PASSWORD)
    assert user.username == "agent3" and user.display_name == "Agent3"
    session = await auth.session(token)
    assert session and session.kind == "cookie" and session.user_id == user.id
    issued = await auth.issue_access_token(token)
    assert issued is not None
    access_token, expires = issued
    access = await auth.resolve_agent(access_token)
    assert access and access.kind == "access" and access.user_id == user.id
    assert access.instance_id == user.instance_id and expires == access.expires
    # the two credentials are not interchangeable
    assert await auth.session(access_token) is None
    assert await auth.resolve_agent(token) is None
    assert await auth.issue_access_token(access_token) is None
    # with a single instance the alias may be left out
    assert (await auth.login("", "agent3", DEMO_PASSWORD))[1].id == user.id


async def test_service_refuses_with_one_message(storage: SqlStorage) -> None:
    auth = service(storage)
    for alias, username, password in [("demo", "agent1", "nope"), ("demo", "ghost", DEMO_PASSWORD),
                                      ("elsewhere", "agent1", DEMO_PASSWORD), ("demo", "", "")]:
        with pytest.raises(AccessDenied) as caught:
            await auth.login(alias, username, password)
        assert caught.value.message == WRONG_CREDENTIALS


async def test_service_logout_revokes_session_and_access_tokens(storage: SqlStorage) -> None:
    auth = service(storage)
    token, _user = await auth.login("demo", "agent1", DEMO_PASSWORD)
    other, _user = await auth.login("demo", "agent1", DEMO_PASSWORD)
    first = await auth.issue_access_token(token)
    second = await auth.issue_access_token(other)
    assert first and second
    await auth.logout(token)
    assert await auth.session(token) is None
    assert await auth.resolve_agent(first[0]) is None
    assert await auth.issue_access_token(token) is None
    # another browser's session of the same agent is untouched
    assert await auth.session(other) is not None
    assert await auth.resolve_agent(second[0]) is not None


async def test_service_sessions_expire(storage: SqlStorage) -> None:
    auth = service(storage, session_seconds=0)
    token, _user = await auth.login("demo", "agent2", DEMO_PASSWORD)
    assert await auth.session(token) is None
    assert await auth.issue_access_token(token) is None


async def test_service_access_tokens_expire_and_are_purged(storage: SqlStorage) -> None:
    auth = service(storage, access_seconds=0)
    token, _user = await auth.login("demo", "agent2", DEMO_PASSWORD)
    issued = await auth.issue_access_token(token)
    assert issued is not None
    assert await auth.resolve_agent(issued[0]) is None
    assert await auth.session(token) is not None
    await auth.purge(utcnow() + timedelta(days=1))
    async with storage.transaction() as uow:
        assert await uow.sessions.find(hash_token(token)) is None
        assert await uow.sessions.find(hash_token(issued[0])) is None


async def test_service_access_tokens_never_outlive_their_session(storage: SqlStorage) -> None:
    auth = service(storage, session_seconds=60, access_seconds=3600)
    token, _user = await auth.login("demo", "agent4", DEMO_PASSWORD)
    session = await auth.session(token)
    issued = await auth.issue_access_token(token)
    assert session and issued and issued[1] == session.expires
    for forged in ("", ".", "x" * 64 + ".", issued[0].split(".", 1)[1], "a.b.c"):
        assert await auth.resolve_agent(forged) is None

"""A widget with a security key (``parley widget create --secure``), embedded on a website whose page hands the
widget a JSON web token (``data-token-provider``): a forged token (signed with another key) and an expired one are
refused with a clear message in an alert and create no contact; a valid one starts a chat whose contact attributes
hold the token's ``attributes`` claims (DescribeContact and GetContactAttributes)."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import Server, free_port
from tests.e2e.streams.pages import PageServer

from .conftest import Browse
from .support import WAIT_MS, count_contacts, find_chat, find_in_frames, widget_token

pytestmark = pytest.mark.e2e

# The website's page: its "server" signed the token, which the page hands over when the widget asks for it.
TOKEN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Acme account</title></head>
<body>
<main><h1>Your Acme account</h1></main>
<script>
  window.getChatToken = function () {{ return Promise.resolve(decodeURIComponent(location.hash.slice(1))); }};
</script>
<script src="{parley}/widget.js" data-widget-id="{widget}" data-token-provider="getChatToken" async></script>
</body>
</html>
"""


@dataclass(frozen=True)
class SecureWidget:
    id: str
    key: str
    origin: str
    pages: PageServer


@pytest.fixture(scope="module")
def account_pages() -> Iterator[PageServer]:
    pages = PageServer(free_port())
    pages.add("/favicon.ico", b"", "image/x-icon")
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def secure_widget(parley: Server, account_pages: PageServer) -> SecureWidget:
    """A widget with a security key on the demo instance, made with the CLI on the running server's database."""
    origin = f"http://127.0.0.1:{account_pages.port}"
    done = subprocess.run(
        [sys.executable, "-m", "parley", "widget", "create", "--data-dir", str(parley.data_dir),
         "--public-url", parley.url, "--instance", "demo", "--name", "Account help", "--origin", origin, "--secure"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"parley widget create failed:\n{done.stdout}\n{done.stderr}"
    widget_id = re.search(r"^id\s+(\S+)", done.stdout, re.M)
    key = re.search(r"^security key\s+([A-Za-z0-9_-]{44})\s*$", done.stdout, re.M)
    assert widget_id and key, f"no id or key in:\n{done.stdout}"
    widget = SecureWidget(widget_id.group(1), key.group(1), origin, account_pages)
    account_pages.add("/account.html", TOKEN_PAGE.format(parley=parley.url, widget=widget.id))
    return widget


async def open_and_start(browse: Browse, widget: SecureWidget, token: str) -> object:
    browse.watch.allow_origin(widget.origin)
    page = await browse.page("website")
    await page.goto(f"{widget.origin}/account.html#{token}")
    opener = page.get_by_role("button", name="Open chat", exact=True)
    await opener.wait_for(timeout=WAIT_MS)
    await opener.click()
    name = await find_in_frames(page, lambda f: f.get_by_role("textbox", name="Your name", exact=True),
                                "the pre-chat form's 'Your name'")
    await name.fill("Jane")
    start = await find_in_frames(page, lambda f: f.get_by_role("button", name="Start chat", exact=True),
                                 "the pre-chat form's 'Start chat'")
    await start.click()
    return page


@pytest.mark.parametrize("case", ["forged", "expired"])
async def test_bad_widget_token_is_refused_with_a_clear_message(parley: Server, browse: Browse,
                                                                secure_widget: SecureWidget, case: str) -> None:
    if case == "forged":
        token = widget_token(secrets.token_urlsafe(33), secure_widget.id, attributes={"customerId": "C-1"})
        reason = "The widget token is not signed with this widget's key."
    else:
        token = widget_token(secure_widget.key, secure_widget.id, issued=time.time() - 1200, lifetime=300)
        reason = "The widget token has expired."
    browse.watch.expect_error("status of 403", f"/widget/{secure_widget.id}/start",
                              "the start endpoint refuses the bad token (the point of this test)")
    before = count_contacts(parley.data_dir)
    page = await open_and_start(browse, secure_widget, token)
    alert = await find_in_frames(page, lambda f: f.get_by_role("alert").filter(has_text=reason),
                                 f"an alert saying {reason!r}")
    assert reason in await alert.inner_text()
    assert not [f for f in page.frames if await f.get_by_role("log", name="Conversation").count()], \
        "a conversation opened with a bad token"
    assert count_contacts(parley.data_dir) == before, "a refused token created a contact"


async def test_valid_widget_token_starts_a_chat_with_its_attributes(parley: Server, browse: Browse,
                                                                    secure_widget: SecureWidget) -> None:
    claims = {"customerId": "C-42", "tier": "gold"}
    token = widget_token(secure_widget.key, secure_widget.id, attributes=claims)
    before = count_contacts(parley.data_dir)
    browse.watch.allow_origin(secure_widget.origin)
    page = await browse.page("website")
    await page.goto(f"{secure_widget.origin}/account.html#{token}")
    await page.get_by_role("button", name="Open chat", exact=True).click()
    name = await find_in_frames(page, lambda f: f.get_by_role("textbox", name="Your name", exact=True),
                                "the pre-chat form's 'Your name'")
    await name.fill("Jane")
    start = await find_in_frames(page, lambda f: f.get_by_role("button", name="Start chat", exact=True),
                                 "the pre-chat form's 'Start chat'")
    async with page.expect_response(lambda r: r.url.endswith(f"/widget/{secure_widget.id}/start"),
                                    timeout=WAIT_MS) as answer:
        await start.click()
    response = await answer.value
    assert response.status == 200, await response.text()
    contact_id = (await response.json())["ContactId"]
    chat = await find_chat(page)
    await chat.by_role("textbox", "Message").wait_for(timeout=WAIT_MS)
    assert count_contacts(parley.data_dir) == before + 1

    connect = parley.connect()
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    attributes = connect.get_contact_attributes(InstanceId=instance, InitialContactId=contact_id)["Attributes"]
    assert {k: attributes.get(k) for k in claims} == claims, attributes
    described = connect.describe_contact(InstanceId=instance, ContactId=contact_id)["Contact"]
    assert {k: (described.get("Attributes") or {}).get(k) for k in claims} == claims, described

    await chat.end()
    await chat.see_in_page("Chat ended")

"""What the console's tests share: signing in through the real sign-in form (its CSRF double submit), the hidden
CSRF field of a console page, and the demo instance's id as boto3 sees it."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

PASSWORD = "Parley-demo-1"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(url: str, username: str, landat: str = "/admin", *, password: str = PASSWORD) -> httpx.Client:
    """An httpx client signed in as ``username`` of the demo instance (it follows no redirect by itself)."""
    client = httpx.Client(base_url=url, timeout=15)
    page = client.get("/connect/login", params={"landat": landat, "instance": "demo"})
    found = _CSRF_FIELD.search(page.text)
    assert found, page.text[:500]
    answer = client.post("/connect/login", data={"username": username, "password": password, "instance": "demo",
                                                 "csrf": found.group(1), "landat": landat})
    assert answer.status_code == 303 and answer.headers["location"] == landat, answer.text[:500]
    return client


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF_FIELD.search(page.text)
    assert found, f"no CSRF field on {page.url}:\n{page.text[:800]}"
    return html.unescape(found.group(1))


def post_form(client: httpx.Client, page_path: str, action: str, fields: dict[str, Any]) -> httpx.Response:
    """Open ``page_path`` (which sets the CSRF cookie and shows the field), then post ``fields`` to ``action`` as
    the page's form does."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text[:800]
    return client.post(action, data={"csrf": csrf_of(page), **fields})


def demo_instance(connect: Any) -> str:
    found = [i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i.get("InstanceAlias") == "demo"]
    assert found
    return str(found[0])


def text_of(page: httpx.Response) -> str:
    """The page's text without tags, entities decoded, spaces collapsed (what a person reads)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())

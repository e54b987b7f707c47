"""``/agent`` framed by a page of an approved origin of the demo instance (one approved for the test), as a CRM embeds
its agents' workspace: signed in, it frames the CCP itself and takes a chat. A page of another origin cannot frame
it (CSP ``frame-ancestors``): the browser refuses and the page shows no workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parley.client import customer
from tests.conftest import Server, connect_client, free_port
from tests.e2e.streams.pages import PageServer

from .conftest import Browse
from .support import WAIT_MS, sign_in, until

pytestmark = pytest.mark.e2e
HOST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title></head>
<body><h1>Acme CRM</h1><iframe src="{src}" title="Agent workspace" width="1200" height="720"></iframe></body></html>"""


@pytest.fixture
def approved_site(parley: Server) -> Iterator[PageServer]:
    """A page server on a free port whose origin the test approves on the demo instance (the demo's own
    ``http://127.0.0.1:8080`` is held by the StreamsJS suite's page server for the whole session)."""
    site = PageServer(free_port())
    connect = connect_client(parley.url)
    instance = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    connect.associate_approved_origin(InstanceId=instance, Origin=site.origin)
    site.add("/favicon.ico", b"", "image/x-icon")
    yield site
    site.close()


async def workspace_frame(page: Any) -> Any:
    async def found() -> Any:
        return next((f for f in page.frames if f.url.split("?")[0].endswith("/agent")), None)
    return await until(found, "the workspace's frame")


async def test_framed_from_an_approved_origin(browse: Browse, parley: Server, approved_site: PageServer) -> None:
    browse.watch.allow_origin(approved_site.origin)
    page = await browse.page("agent1")
    await sign_in(page, parley.url, "agent1", available=False)
    await page.goto(approved_site.add("/crm", HOST.format(src=f"{parley.url}/agent")))
    frame = await workspace_frame(page)
    status = frame.get_by_label("Status")
    await status.wait_for(timeout=WAIT_MS)
    await status.select_option("Available")
    await frame.get_by_text("0 of 3 chats").wait_for(timeout=WAIT_MS)
    async with await customer(parley.url, "Fran Framed"):
        offer = frame.get_by_role("region", name="Incoming chat")
        await offer.get_by_role("button", name="Accept").click(timeout=WAIT_MS)
        await frame.get_by_role("heading", name="Fran Framed").wait_for(timeout=WAIT_MS)
        await frame.get_by_label("Message").fill("Hello from the CRM")
        await frame.get_by_label("Message").press("Enter")
        await frame.get_by_role("log", name="Conversation").get_by_text("Hello from the CRM").wait_for(timeout=WAIT_MS)


async def test_not_framed_from_another_origin(browse: Browse, parley: Server) -> None:
    other = PageServer(free_port())  # 127.0.0.1 on a port the demo does not approve
    other.add("/favicon.ico", b"", "image/x-icon")
    try:
        browse.watch.allow_origin(other.origin)
        browse.watch.expect_error("frame-ancestors", "", "the workspace refuses to be framed by this origin")
        page = await browse.page("agent1")
        await sign_in(page, parley.url, "agent1", available=False)
        await page.goto(other.add("/crm", HOST.format(src=f"{parley.url}/agent")))
        await until(lambda: refused(browse), "the browser's refusal to frame the workspace")
        frame = page.frame_locator("iframe[title='Agent workspace']")
        assert await frame.get_by_label("Status").count() == 0
    finally:
        other.close()


async def refused(browse: Browse) -> bool:
    return any("frame-ancestors" in line for line in browse.watch.accepted)

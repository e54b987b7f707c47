"""Attachments in the workspace: the agent sends a small PNG and a .txt from the composer, the customer (on the test
chat page) receives both with the image previewed and downloads the text; the agent sees its own image previewed,
downloads its text, and receives, previews and downloads the customer's file."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.pages.browser.support import start_test_chat

from .conftest import Browse
from .support import WAIT_MS, accept_offer, check_page, log, sign_in, until

pytestmark = pytest.mark.e2e
FIONA = "Fiona Files"
NOTES = "Order 1234: two parcels, one missing.\n"
REPLY = "Tracking number ZX-99.\n"


def png(width: int = 96, height: int = 64) -> bytes:
    """A small valid PNG: an orange rectangle."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def downloaded(page: Any, button: Any) -> str:
    async with page.expect_download(timeout=WAIT_MS) as info:
        await button.click()
    download = await info.value
    return (await download.path()).read_text()


async def image_loaded(image: Any) -> bool:
    return bool(await image.evaluate("(img) => img.complete && img.naturalWidth === 96"))


async def test_files_both_ways(browse: Browse, parley: Server, shots: Path) -> None:
    agent1 = await browse.page("agent1")
    await sign_in(agent1, parley.url, "agent1")
    page = await browse.page("customer")
    started = await start_test_chat(page, parley.url, FIONA)
    chat = started.chat
    await accept_offer(agent1, FIONA)
    await chat.send("I have a photo of the label")
    await log(agent1).get_by_text("I have a photo of the label", exact=True).wait_for(timeout=WAIT_MS)

    # The agent attaches two files at once from the composer.
    await agent1.locator(".composer input[type=file]").set_input_files([
        {"name": "label.png", "mimeType": "image/png", "buffer": png()},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES.encode()},
    ])
    preview = log(agent1).get_by_role("img", name="Preview of label.png")
    await preview.wait_for(timeout=WAIT_MS)
    await until(lambda: image_loaded(preview), "the agent's preview of label.png to load")
    await log(agent1).get_by_text("notes.txt", exact=True).wait_for(timeout=WAIT_MS)
    assert await log(agent1).get_by_role("img").count() == 1  # no preview for a text file

    # The customer receives both, the image previewed, and downloads the text.
    await chat.see("label.png")
    await chat.see("notes.txt")
    customer_preview = chat.log.get_by_role("img", name="label.png")
    await customer_preview.wait_for(timeout=WAIT_MS)
    await until(lambda: image_loaded(customer_preview), "the customer's preview of label.png to load")
    assert await downloaded(page, chat.log.get_by_role("button", name="Download notes.txt")) == NOTES

    # The agent downloads its own file, then the customer's reply.
    assert await downloaded(agent1, log(agent1).get_by_role("button", name="Download notes.txt")) == NOTES
    await chat.frame.locator("input[type=file]").set_input_files(
        {"name": "tracking.txt", "mimeType": "text/plain", "buffer": REPLY.encode()})
    button = log(agent1).get_by_role("button", name="Download tracking.txt")
    await button.wait_for(timeout=WAIT_MS)
    last = agent1.locator(".contact-last")
    await until(lambda: last.filter(has_text="File: tracking.txt").count(), "the chat list to show the file")
    assert await downloaded(agent1, button) == REPLY
    await check_page(agent1, "files", shots, "files", phone=False)

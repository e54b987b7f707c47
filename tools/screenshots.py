"""``scripts/screenshots``: starts a demo server, opens the pages for people in headless Chromium at desktop
(1280x800) and phone (390x844) width, and writes ``docs/screenshots/<page>-<state>-<width>.png`` (the states
that need a chat in progress are written by the browser suites, see :data:`SHOTS`).

``python -m tools.screenshots [--only NAME] [--out DIR]``. Each shot is a function of :data:`SHOTS` that brings a
page into one state; pages that need a chat in progress drive the other side with ``parley.client``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
HTML = {"Accept": "text/html"}

Shot = Callable[[Page, str], Awaitable[None]]


async def home(page: Page, url: str) -> None:
    await page.goto(url + "/")


async def not_found(page: Page, url: str) -> None:
    await page.goto(url + "/no-such-page")


async def test_chat_start(page: Page, url: str) -> None:
    await page.goto(url + "/test-chat")
    await page.get_by_label("Your name").fill("Jane")


async def workspace_signed_out(page: Page, url: str) -> None:
    await page.goto(url + "/agent")
    await page.get_by_role("link", name="Sign in").wait_for()


# The states that need a chat going on (a conversation, offers, six parties, the console's forms) are written by
# the browser suites that drive them: tests/pages/browser, tests/pages/workspace, tests/pages/console.
SHOTS: dict[str, Shot] = {"home": home, "not-found": not_found, "test-chat-start": test_chat_start,
                          "workspace-signed-out": workspace_signed_out}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def demo_server(data_dir: Path) -> Iterator[str]:
    port = free_port()
    parley = shutil.which("parley", path=str(ROOT / ".venv" / "bin")) or "parley"
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen([parley, "serve", "--demo", "--data-dir", str(data_dir), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PARLEY_DEMO": "true"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/ready").status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit(f"the demo server did not start: see {data_dir / 'server.log'}")
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


@contextlib.asynccontextmanager
async def browser_page(width: int, height: int) -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = await browser.new_context(viewport={"width": width, "height": height})
            yield await context.new_page()
        finally:
            await browser.close()


async def take(url: str, out: Path, only: str | None) -> list[Path]:
    written = []
    for name, shot in SHOTS.items():
        if only and name != only:
            continue
        for label, (width, height) in WIDTHS.items():
            async with browser_page(width, height) as page:
                await shot(page, url)
                path = out / f"{name}-{label}.png"
                await page.screenshot(path=str(path), full_page=True)
                written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(SHOTS), help="take this page's shots only")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parley-shots-") as tmp, demo_server(Path(tmp)) as url:
        for path in asyncio.run(take(str(url), args.out, args.only)):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()

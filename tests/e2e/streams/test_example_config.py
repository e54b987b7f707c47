"""The example page's URL parameters (``examples/custom-ccp/config.js``) in headless Chromium: ``?parley=`` must be
an http(s) origin on the page's own host (or listed as trusted) and is never written into HTML, so a crafted
link can neither inject markup (the issue's DOM XSS) nor make the page load another site's scripts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from .pages import PageServer

pytestmark = pytest.mark.e2e

INJECTED = 'http://x"></script><script>window.pwned = 1</script><script src="'
EVIL = "https://evil.example"


async def open_example(browser: Any, pages: PageServer, **query: str) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context()
    await context.route(f"{EVIL}/**", lambda route: route.abort())
    await context.route("http://x/**", lambda route: route.abort())
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{pages.origin}/example/index.html?{urlencode(query)}")
    await page.wait_for_function("() => window.PARLEY !== undefined")
    return context, page, requested


@pytest.mark.parametrize("parley", [INJECTED, EVIL, "javascript:window.pwned=1//", "http://127.0.0.1:9/x?y#z",
                                    "http://user:pw@127.0.0.1:9"])
async def test_a_bad_parley_parameter_is_ignored(browser: Any, pages: PageServer, parley: str) -> None:
    context, page, requested = await open_example(browser, pages, parley=parley)
    try:
        await page.wait_for_timeout(500)
        assert await page.evaluate("() => window.pwned") is None
        assert await page.evaluate("() => PARLEY.url") == "http://127.0.0.1:8800"
        assert "Ignored ?parley=" in (await page.locator("#notice").text_content() or "")
        assert not [url for url in requested if url.startswith((EVIL, "http://x/", "http://127.0.0.1:9/"))]
        scripts = await page.evaluate("() => [...document.scripts].map((s) => s.src || 'inline')")
        assert "inline" not in scripts, scripts
    finally:
        await context.close()


async def test_a_good_parley_parameter_is_used(browser: Any, pages: PageServer) -> None:
    context, page, _requested = await open_example(browser, pages, parley="http://127.0.0.1:9/", instance="demo")
    try:
        assert await page.evaluate("() => PARLEY.url") == "http://127.0.0.1:9"
        assert await page.evaluate("() => PARLEY.ccpUrl") == "http://127.0.0.1:9/connect/demo/ccp-v2/"
        scripts = await page.evaluate("() => [...document.scripts].map((s) => s.src)")
        assert scripts[-3:] == ["http://127.0.0.1:9/lib/connect-streams.js",
                                "http://127.0.0.1:9/lib/amazon-connect-chat.js", f"{pages.origin}/example/agent.js"]
    finally:
        await context.close()

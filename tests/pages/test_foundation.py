"""The pages' foundation on a running demo server: the home page for browsers and JSON for API callers, an HTML
404 for a browser where no page is, the strict CSP with the import map's hash, the static and vendor files, and
page prefixes that can never shadow an operation of the Connect or Participant Service models."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from parley.aws.model import Service
from parley.pages import PAGE_PREFIXES
from tests.conftest import Server

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def first_segment(path: str) -> str:
    return "/" + path.split("?", 1)[0].lstrip("/").split("/", 1)[0]


@pytest.mark.parametrize("service,version", [("connect", "2017-08-08"), ("connectparticipant", "2018-09-07")])
def test_no_page_prefix_is_the_first_segment_of_an_operation(service: str, version: str) -> None:
    model = Service.load(service, version).model
    operations = {name: model.operation_model(name).http["requestUri"] for name in model.operation_names}
    assert len(operations) > 10
    taken = {first_segment(uri): name for name, uri in operations.items()}
    assert "/users" in taken or service == "connectparticipant"  # the check reads real paths
    for prefix in PAGE_PREFIXES:
        assert first_segment(prefix) not in taken, f"{prefix} collides with {taken.get(first_segment(prefix))}"


def test_home_page_for_a_browser_says_what_to_do_next(server: Server) -> None:
    r = httpx.get(server.url + "/", headers=HTML)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    body = r.text
    for text in ("Parley is running", "Open test chat", "Open workspace", "Open console", "Demo mode is on", "agent1",
                 "Parley-demo-1", "boto3.client(&#34;connect&#34;", "/connect/demo/ccp-v2/"):
        assert text in body, text
    assert 'href="/test-chat"' in body


def test_home_page_keeps_a_json_answer_for_api_callers(server: Server) -> None:
    r = httpx.get(server.url + "/")
    assert r.status_code == 404
    assert r.json() == {"Message": "Connect API has no operation for GET /."}
    r = httpx.get(server.url + "/", headers={"Accept": "application/json"})
    assert r.headers["content-type"].startswith("application/json")


def test_pages_carry_a_strict_policy_that_allows_exactly_their_import_map(server: Server) -> None:
    r = httpx.get(server.url + "/", headers=HTML)
    policy = r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    hashes = re.findall(r"'(sha256-[^']+)'", policy)
    assert len(hashes) == 1
    # The hash is the one of the import map the pages embed (recomputed here from the rendered map).
    from parley.pages.assets import Assets
    from parley.pages.templating import Pages
    from parley.web.libraries import find_node_modules
    rendered = Pages(Assets(find_node_modules()), site={}).import_map
    digest = base64.b64encode(hashlib.sha256(rendered.encode()).digest()).decode()
    assert hashes == [f"sha256-{digest}"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_a_browser_gets_an_html_404_and_an_api_caller_the_aws_error(server: Server) -> None:
    r = httpx.get(server.url + "/no-such-page?x=<b>", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text and "<code>/no-such-page</code>" in r.text
    r = httpx.get(server.url + "/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/")
    assert "Connect API has no operation" in r.json()["Message"]


def test_a_websocket_to_no_route_is_refused_not_a_server_error(server: Server) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    for path in ("/ws", "/no-such-page", "/"):
        with pytest.raises(InvalidStatus) as caught:
            ws_connect(f"ws://127.0.0.1:{server.port}{path}", proxy=None, open_timeout=5)
        assert caught.value.response.status_code == 403, path


def test_a_path_is_shown_as_text_on_the_404_page(server: Server) -> None:
    r = httpx.get(server.url + "/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers=HTML)
    assert r.status_code == 404
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_static_and_vendor_files(server: Server) -> None:
    r = httpx.get(server.url + "/static/tokens.css")
    assert r.status_code == 200 and "--brand" in r.text and "etag" in r.headers
    again = httpx.get(server.url + "/static/tokens.css", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    home = httpx.get(server.url + "/", headers=HTML).text
    assert "/static/base.css" in home
    from parley.pages.assets import Assets
    from parley.web.libraries import find_node_modules
    imports = Assets(find_node_modules()).import_map()
    assert set(imports) >= {"preact", "preact/hooks", "@preact/signals", "htm", "marked", "dompurify"}
    for url in imports.values():
        r = httpx.get(server.url + url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/javascript")
    # Only the listed files of the listed packages, at their installed version.
    for url in ["/vendor/preact/11.2.0/package.json", "/vendor/preact/0.0.1/dist/preact.mjs",
                "/vendor/amazon-connect-streams/2.28.2/release/connect-streams.js",
                "/vendor/preact/11.2.0/../../package.json", "/static/../templating.py"]:
        assert httpx.get(server.url + url).status_code == 404, url

"""The workspace's HTTP edges without a browser: ``/agent/canned`` (signed-out, CSRF, validation and ownership
refusals in the service's words; nothing written by a refusal) and the page's ``frame-ancestors`` (its instance's
approved origins, read on every request)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from parley.service.canned import DEMO_RESPONSES
from tests.conftest import Server, serving

PASSWORD = "Parley-demo-1"
DEMO_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


@pytest.fixture(scope="module")
def demo() -> Iterator[Server]:
    with serving(["--demo"], stays_up=True) as srv:
        yield srv


def signed_in(url: str, username: str) -> tuple[httpx.Client, str]:
    """A client signed in as ``username`` through the CCP's sign-in form, and the workspace page's CSRF token."""
    http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    page = http.get("/connect/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    form = {"username": username, "password": PASSWORD, "instance": "demo", "csrf": found.group(1), "landat": "/agent"}
    assert http.post("/connect/login", data=form).status_code == 303
    workspace = http.get("/agent")
    token = re.search(r'data-csrf="([^"]+)"', workspace.text)
    assert workspace.status_code == 200 and token, workspace.text[:500]
    return http, token.group(1)


def names(http: httpx.Client, which: str) -> list[str]:
    answer = http.get("/agent/canned")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store", answer.text
    return [r["name"] for r in answer.json()[which]]


def test_signed_out_is_refused(demo: Server) -> None:
    with httpx.Client(base_url=demo.url) as http:
        for method, path in (("GET", "/agent/canned"), ("POST", "/agent/canned"), ("DELETE", "/agent/canned/x")):
            answer = http.request(method, path, json={"name": "a", "text": "b"})
            assert answer.status_code == 401 and "signed out" in answer.json()["message"], (method, answer.text)


def test_an_agent_reads_both_lists_and_keeps_its_own(demo: Server) -> None:
    agent1, csrf1 = signed_in(demo.url, "agent1")
    agent2, csrf2 = signed_in(demo.url, "agent2")
    try:
        assert sorted(names(agent1, "shared")) == sorted(n for n, _ in DEMO_RESPONSES)
        assert names(agent1, "own") == []
        body = {"name": "Refunds", "text": "Refunds reach your card within **5 days**."}

        # Refusals write nothing: no CSRF token, a wrong one, another site's Origin, bad bodies.
        refusals = [
            ({}, body, 403, "Reload the page"),
            ({"X-CSRF-Token": "x" * 43}, body, 403, "Reload the page"),
            ({"X-CSRF-Token": csrf1, "Origin": "https://evil.example"}, body, 403, "Reload the page"),
            ({"X-CSRF-Token": csrf1}, {"name": "Refunds"}, 400, "a \"name\" and a \"text\""),
            ({"X-CSRF-Token": csrf1}, {"name": "Refunds", "text": 5}, 400, "a \"name\" and a \"text\""),
            ({"X-CSRF-Token": csrf1}, {"name": "Refunds", "text": "  "}, 400, "needs a text"),
            ({"X-CSRF-Token": csrf1}, {"name": "a\u202eb", "text": "x"}, 400, "one line"),
            ({"X-CSRF-Token": csrf1}, {"name": "Big", "text": "x" * 70000}, 413, "too large"),
            ({"X-CSRF-Token": csrf1}, ["a list"], 400, "JSON object"),
        ]
        for headers, sent, status, words in refusals:
            answer = agent1.post("/agent/canned", json=sent, headers=headers)
            assert answer.status_code == status and words in answer.json()["message"], (headers, sent, answer.text)
        answer = agent1.post("/agent/canned", content=b"name=x", headers={"X-CSRF-Token": csrf1,
                                                                         "Content-Type": "text/plain"})
        assert answer.status_code == 415
        answer = agent1.post("/agent/canned", content=b"{not json", headers={"X-CSRF-Token": csrf1,
                                                                            "Content-Type": "application/json"})
        assert answer.status_code == 400 and "not valid JSON" in answer.json()["message"]
        assert names(agent1, "own") == []

        created = agent1.post("/agent/canned", json=body, headers={"X-CSRF-Token": csrf1})
        assert created.status_code == 201, created.text
        saved = created.json()
        assert (saved["name"], saved["text"], saved["shared"]) == (body["name"], body["text"], False)
        again = agent1.post("/agent/canned", json=body, headers={"X-CSRF-Token": csrf1})
        assert again.status_code == 409 and "Your list already has" in again.json()["message"]
        assert names(agent1, "own") == ["Refunds"]
        assert names(agent2, "own") == [], "agent2 does not see agent1's own"

        # Only its owner deletes it; the instance's list is not an agent's to delete.
        refused = agent2.delete(f"/agent/canned/{saved['id']}", headers={"X-CSRF-Token": csrf2})
        assert refused.status_code == 403 and "their own" in refused.json()["message"]
        shared_id = agent1.get("/agent/canned").json()["shared"][0]["id"]
        refused = agent1.delete(f"/agent/canned/{shared_id}", headers={"X-CSRF-Token": csrf1})
        assert refused.status_code == 403
        assert agent1.delete(f"/agent/canned/{saved['id']}").status_code == 403  # no CSRF token
        assert agent1.delete(f"/agent/canned/{saved['id']}", headers={"X-CSRF-Token": csrf1}).status_code == 204
        gone = agent1.delete(f"/agent/canned/{saved['id']}", headers={"X-CSRF-Token": csrf1})
        assert gone.status_code == 404
        assert names(agent1, "own") == [] and len(names(agent1, "shared")) == len(DEMO_RESPONSES)
    finally:
        agent1.close()
        agent2.close()


def frame_ancestors(answer: httpx.Response) -> list[str]:
    policy = answer.headers["content-security-policy"]
    found = re.search(r"frame-ancestors ([^;]+)", policy)
    assert found, policy
    return found.group(1).split()


def test_framed_only_from_the_instances_approved_origins(demo: Server) -> None:
    connect = demo.connect()
    instance_id = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
    with httpx.Client(base_url=demo.url) as http:
        # Signed out: the default CCP's instance (the demo's) and the one named in the link.
        assert frame_ancestors(http.get("/agent")) == ["'self'", *sorted(DEMO_ORIGINS)]
        assert frame_ancestors(http.get("/agent?instance=demo")) == ["'self'", *sorted(DEMO_ORIGINS)]
        assert frame_ancestors(http.get("/agent?instance=no-such-instance")) == ["'self'"]
        assert frame_ancestors(http.get("/agent?instance=bad%20name")) == ["'self'"]
        # A newly approved origin may frame it at once; a removed one no longer.
        connect.associate_approved_origin(InstanceId=instance_id, Origin="https://crm.example.com")
        try:
            assert "https://crm.example.com" in frame_ancestors(http.get("/agent"))
        finally:
            connect.disassociate_approved_origin(InstanceId=instance_id, Origin="https://crm.example.com")
        assert "https://crm.example.com" not in frame_ancestors(http.get("/agent"))

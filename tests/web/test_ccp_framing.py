"""Who may frame the CCP (CSP ``frame-ancestors``), through a real server: each instance's own CCP URL
(``/connect/<alias or id>/ccp-v2/``) is framable only by that instance's approved origins, signed in or out; the
generic ``/connect/ccp-v2/`` only by the signed-in agent's instance (by no other site when signed out); an agent of
another instance is refused on an instance's CCP and its ``/auth/authorize``; approved origins stored by older
versions (an IDN host, a wildcard, a smuggled directive) can neither break nor widen the header."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from typing import Any

import httpx
import pytest

from parley.service.demo import DEMO_PASSWORD
from parley.storage import open_storage
from tests.aws.conftest import builtin_ids
from tests.conftest import Server, start_server

DEMO_ORIGINS = {"http://127.0.0.1:8080", "http://localhost:8080"}
OTHER_ORIGIN = "https://other-crm.example"
# What a CSP host source of a valid origin looks like: scheme://host[:port], nothing else.
SOURCE = re.compile(r"https?://[a-z0-9.-]+(:[0-9]+)?|'self'")
# The directives the CCP's CSP has besides frame-ancestors (a stored origin must never add one).
DIRECTIVES = ["frame-ancestors", "default-src", "script-src", "style-src", "img-src", "connect-src", "worker-src",
              "base-uri", "form-action"]


@pytest.fixture(scope="module")
def two() -> Iterator[dict[str, Any]]:
    """A demo server plus a second instance ``other-<hex>`` approving only ``OTHER_ORIGIN``, with one agent."""
    server = start_server(["--demo"])
    connect = server.connect()
    alias = f"other-{uuid.uuid4().hex[:8]}"
    other = connect.create_instance(IdentityManagementType="CONNECT_MANAGED", InstanceAlias=alias,
                                    InboundCallsEnabled=True, OutboundCallsEnabled=False)["Id"]
    connect.associate_approved_origin(InstanceId=other, Origin=OTHER_ORIGIN)
    ids = builtin_ids(connect, other)
    connect.create_user(InstanceId=other, Username="otheragent", Password=DEMO_PASSWORD,
                        IdentityInfo={"FirstName": "Other"}, PhoneConfig={"PhoneType": "SOFT_PHONE"},
                        SecurityProfileIds=[ids.security_profiles["Agent"]],
                        RoutingProfileId=ids.basic_routing_profile)
    yield {"server": server, "alias": alias, "id": other}
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


def ancestors(response: httpx.Response) -> list[str]:
    policy = response.headers["content-security-policy"]
    directives = [part.strip() for part in policy.split(";")]
    assert [d.split()[0] for d in directives] == DIRECTIVES, policy
    sources = directives[0].split()[1:]
    assert all(SOURCE.fullmatch(source) for source in sources), policy
    return sources


def signed_in(server: Server, username: str, instance: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    page = client.get("/connect/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    answer = client.post("/connect/login", data={"username": username, "password": DEMO_PASSWORD,
                                                 "instance": instance, "csrf": csrf.group(1)})
    assert answer.status_code == 303, answer.text
    return client


def test_signed_out_generic_ccp_is_framable_by_no_other_site(two: dict[str, Any]) -> None:
    response = httpx.get(two["server"].url + "/connect/ccp-v2/")
    assert response.status_code == 200
    assert ancestors(response) == ["'self'"]


def test_each_instance_ccp_is_framable_by_its_own_origins_only(two: dict[str, Any]) -> None:
    url = two["server"].url
    demo = httpx.get(url + "/connect/demo/ccp-v2/")
    assert demo.status_code == 200 and '<meta name="parley-instance" content="demo">' in demo.text
    assert set(ancestors(demo)) == {"'self'", *DEMO_ORIGINS}
    for path in (f"/connect/{two['alias']}/ccp-v2/", f"/connect/{two['id']}/ccp-v2", f"/connect/{two['alias']}/ccp"):
        other = httpx.get(url + path)
        assert other.status_code == 200, path
        assert ancestors(other) == ["'self'", OTHER_ORIGIN], path
        assert f'<meta name="parley-instance" content="{two["alias"]}">' in other.text
    missing = httpx.get(url + "/connect/no-such-instance/ccp-v2/")
    assert missing.status_code == 404 and ancestors(missing) == ["'self'"]


def test_an_agent_of_another_instance_is_refused_there(two: dict[str, Any]) -> None:
    server = two["server"]
    with closing(signed_in(server, "otheragent", two["alias"])) as agent:
        refused = agent.get("/connect/demo/ccp-v2/")
        assert refused.status_code == 403 and "another instance" in refused.text
        assert set(ancestors(refused)) == {"'self'", *DEMO_ORIGINS}
        own = agent.get(f"/connect/{two['alias']}/ccp-v2/")
        assert own.status_code == 200 and ancestors(own) == ["'self'", OTHER_ORIGIN]
        generic = agent.get("/connect/ccp-v2/")
        assert generic.status_code == 200 and ancestors(generic) == ["'self'", OTHER_ORIGIN]
        assert agent.get("/auth/authorize", params={"instance": "demo"}).status_code == 401
        assert agent.get("/connect/session", params={"instance": "demo"}).json() == {"signedIn": False}
        assert agent.get("/auth/authorize", params={"instance": two["alias"]}).status_code == 200
        assert agent.get("/auth/authorize", params={"instance": two["id"]}).status_code == 200
        assert agent.get("/connect/session", params={"instance": two["alias"]}).json()["signedIn"] is True
    with closing(signed_in(server, "agent1", "demo")) as demo_agent:
        generic = demo_agent.get("/connect/ccp-v2/")
        assert set(ancestors(generic)) == {"'self'", *DEMO_ORIGINS}
        assert demo_agent.get(f"/connect/{two['alias']}/ccp-v2/").status_code == 403
        assert demo_agent.get("/connect/demo/ccp-v2/").status_code == 200


BAD_STORED = ["https://a.example; script-src * 'unsafe-inline'", "https://*", "https://中文.example",
              "https://b.example\r\nX-Injected: 1", "*", "'unsafe-inline'"]


async def _store_origins(server: Server, origins: list[str]) -> None:
    """Write approved origins straight into the database, as an older Parley could have stored them."""
    storage = await open_storage(f"sqlite:///{server.data_dir / 'parley.db'}")
    try:
        async with storage.transaction() as uow:
            instance = await uow.instances.find_by_alias("demo")
            assert instance is not None
            await uow.instances.update(replace(instance, approved_origins=(*instance.approved_origins, *origins)))
    finally:
        await storage.close()


def test_stored_bad_origins_never_break_or_widen_the_csp() -> None:
    server = start_server(["--demo"])
    try:
        server.stop()
        asyncio.run(_store_origins(server, BAD_STORED))
        server.start()
        expected = {"'self'", *DEMO_ORIGINS, "https://xn--fiq228c.example"}
        assert len(server.connect().list_approved_origins(InstanceId=_demo_id(server))["Origins"]) == 2 + len(
            BAD_STORED)
        # Signed out (the generic page: 'self' only; the instance's page: its valid origins), then signed in.
        generic = httpx.get(server.url + "/connect/ccp-v2/")
        assert generic.status_code == 200 and ancestors(generic) == ["'self'"]
        own = httpx.get(server.url + "/connect/demo/ccp-v2/")
        assert own.status_code == 200, own.text
        assert set(ancestors(own)) == expected
        with closing(signed_in(server, "agent1", "demo")) as agent:
            for path in ("/connect/ccp-v2/", "/connect/demo/ccp-v2/"):
                page = agent.get(path)
                assert page.status_code == 200, page.text
                assert set(ancestors(page)) == expected
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def _demo_id(server: Server) -> str:
    instances = server.connect().list_instances()["InstanceSummaryList"]
    return str(next(i["Id"] for i in instances if i["InstanceAlias"] == "demo"))

"""Parley's public protocols as the benchmark speaks them.

* Connect API (SigV4 with the demo key test/test): boto3 for administration (users, routing profiles) and
  ``parley.client.ConnectClient`` for StartChatContact.
* Agents: the CCP sign-in (``GET /connect/login`` for the CSRF cookie, form ``POST /connect/login``,
  ``GET /auth/authorize`` for the access token), then the CTI API (``POST /api``, JSON 1.0,
  ``X-Amz-Target: AmazonConnectCTIService.<Op>``). An agent's chat credentials come from its snapshot's
  ``connectionData`` (``ConnectionAuthenticationToken``), as StreamsJS hands them to ChatJS.
* Participants: ``CreateParticipantConnection`` (``X-Amz-Bearer``), the participant WebSocket
  (``aws/subscribe``), ``SendMessage``, ``GetTranscript``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import orjson

from parley.client import ConnectClient
from parley.client.errors import ParleyError

PASSWORD = "Parley-bench-1"
# The longest pause between two tries of a throttled call.
BACKOFF_MAX = 2.0
TARGET = "AmazonConnectCTIService."
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class ProtoError(Exception):
    pass


def boto_connect(url: str) -> Any:
    return boto3.client("connect", endpoint_url=url, region_name="us-west-2", aws_access_key_id="test",
                        aws_secret_access_key="test")


@dataclass
class Instance:
    url: str
    instance_id: str
    inbound_flow: str
    basic_queue: str
    agent_profile: str
    queue_qc_arn: str  # the QUEUE quick connect "Transfer-to-BasicQueue" as a StreamsJS endpoint ARN
    routing_profile: str | None = None


async def discover(url: str) -> Instance:
    def work() -> Instance:
        c = boto_connect(url)
        iid = next(i["Id"] for i in c.list_instances()["InstanceSummaryList"] if i["InstanceAlias"] == "demo")
        flows = c.list_contact_flows(InstanceId=iid)["ContactFlowSummaryList"]
        inbound = next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")
        queues = c.list_queues(InstanceId=iid, QueueTypes=["STANDARD"])["QueueSummaryList"]
        basic = next(q["Id"] for q in queues if q["Name"] == "BasicQueue")
        sps = c.list_security_profiles(InstanceId=iid)["SecurityProfileSummaryList"]
        agent = next(s["Id"] for s in sps if s["Name"] == "Agent")
        qcs = c.list_quick_connects(InstanceId=iid)["QuickConnectSummaryList"]
        qc = next(q for q in qcs if q["Name"] == "Transfer-to-BasicQueue")
        return Instance(url, iid, inbound, basic, agent, qc["Arn"])

    return await asyncio.to_thread(work)


async def create_agents(inst: Instance, prefix: str, count: int, concurrency: int, auto_accept: bool,
                        threads: int = 4) -> list[str]:
    """A routing profile with CHAT ``concurrency`` on BasicQueue and ``count`` users in it; returns usernames."""
    def profile() -> str:
        c = boto_connect(inst.url)
        rp = c.create_routing_profile(
            InstanceId=inst.instance_id, Name=f"{prefix}-profile", Description="benchmark agents",
            DefaultOutboundQueueId=inst.basic_queue,
            MediaConcurrencies=[{"Channel": "CHAT", "Concurrency": concurrency}],
        )["RoutingProfileId"]
        c.associate_routing_profile_queues(
            InstanceId=inst.instance_id, RoutingProfileId=rp,
            QueueConfigs=[{"QueueReference": {"QueueId": inst.basic_queue, "Channel": "CHAT"}, "Priority": 1,
                           "Delay": 0}],
        )
        return str(rp)

    rp = await asyncio.to_thread(profile)
    names = [f"{prefix}{i:04d}" for i in range(count)]

    def make(chunk: list[str]) -> None:
        c = boto_connect(inst.url)
        for name in chunk:
            c.create_user(
                InstanceId=inst.instance_id, Username=name, Password=PASSWORD,
                IdentityInfo={"FirstName": name, "LastName": "Bench"}, PhoneConfig={"PhoneType": "SOFT_PHONE"},
                SecurityProfileIds=[inst.agent_profile], RoutingProfileId=rp,
                AutoAcceptConfigs=[{"Channel": "CHAT", "AutoAccept": auto_accept}],
            )

    chunks = [names[i::threads] for i in range(threads)]
    await asyncio.gather(*(asyncio.to_thread(make, ch) for ch in chunks if ch))
    return names


class Agent:
    """One signed-in agent speaking the CTI API."""

    def __init__(self, url: str, username: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.username = username
        self.http = http
        self.token = ""
        self.next_token: str | None = None

    async def sign_in(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as web:
            page = await web.get("/connect/login")
            m = CSRF.search(page.text)
            if not m:
                raise ProtoError("no CSRF field in the login page")
            form = {"csrf": m.group(1), "instance": "demo", "username": self.username, "password": PASSWORD,
                    "landat": "/connect/ccp-v2/"}
            done = await web.post("/connect/login", data=form)
            if done.status_code != 303:
                raise ProtoError(f"sign-in of {self.username}: {done.status_code}")
            auth = await web.get("/auth/authorize")
            if auth.status_code != 200:
                raise ProtoError(f"authorize {self.username}: {auth.status_code}")
            self.token = auth.json()["accessToken"]

    async def cti(self, op: str, body: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        payload = {**(body or {}), "authentication": {"authToken": self.token}}
        r = await self.http.post(self.url + "/api", content=orjson.dumps(payload), timeout=timeout,
                                 headers={"X-Amz-Target": TARGET + op, "Content-Type": "application/x-amz-json-1.0"})
        if r.status_code != 200:
            raise ProtoError(f"{op} of {self.username}: {r.status_code} {r.text[:300]}")
        return orjson.loads(r.content)  # type: ignore[no-any-return]

    async def go_available(self) -> None:
        await self.cti("PutAgentState", {"state": {"name": "Available"}})

    async def snapshot(self, wait_ms: int = 0) -> dict[str, Any]:
        body: dict[str, Any] = {"timeout": wait_ms}
        if self.next_token and wait_ms:
            body["nextToken"] = self.next_token
        out = await self.cti("GetAgentSnapshot", body, timeout=wait_ms / 1000 + 30)
        self.next_token = out.get("nextToken")
        return out["snapshot"]  # type: ignore[no-any-return]


def my_connection(contact: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in contact["connections"] if c["type"] == "agent"), None)


def participant_token(contact: dict[str, Any]) -> str | None:
    conn = my_connection(contact)
    data = ((conn or {}).get("chatMediaInfo") or {}).get("connectionData")
    if not data:
        return None
    return orjson.loads(data).get("ConnectionAuthenticationToken")  # type: ignore[no-any-return]


@dataclass
class Seat:
    """One participant of a chat: its credentials and, once connected, its socket."""

    chat: int
    role: str
    participant_token: str
    connection_token: str = ""
    ws_url: str = ""
    ws: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


async def create_connection(http: httpx.AsyncClient, url: str, participant_token: str,
                            retries: int = 8) -> tuple[str, str]:
    """CreateParticipantConnection (WEBSOCKET + CONNECTION_CREDENTIALS): (websocket URL, connection token).

    Throttled (429: a saturated server sheds load) or failed (5xx) calls are tried again after a growing pause, as
    the AWS SDKs do."""
    body = orjson.dumps({"Type": ["WEBSOCKET", "CONNECTION_CREDENTIALS"], "ConnectParticipant": True})
    for attempt in range(retries):
        r = await http.post(url + "/participant/connection", content=body, timeout=60,
                            headers={"X-Amz-Bearer": participant_token, "Content-Type": "application/json"})
        if r.status_code == 200:
            out = orjson.loads(r.content)
            return out["Websocket"]["Url"], out["ConnectionCredentials"]["ConnectionToken"]
        if r.status_code < 500 and r.status_code != 429:
            break
        await asyncio.sleep(min(BACKOFF_MAX, 0.2 * 2 ** attempt))
    raise ProtoError(f"CreateParticipantConnection: {r.status_code} {r.text[:300]}")


async def start_chat(connect: ConnectClient, inst: Instance, name: str, initial: str | None = None,
                     retries: int = 8) -> Any:
    """StartChatContact; throttled again and again (``parley.client`` tries three times) it waits and tries once
    more with the same ClientToken, up to ``retries`` times, as a patient SDK client would."""
    token = str(uuid.uuid4())
    for attempt in range(retries):
        try:
            return await connect.start_chat(inst.instance_id, inst.inbound_flow, name, initial_message=initial,
                                            client_token=token)
        except ParleyError as exc:
            if exc.status != 429 or attempt == retries - 1:
                raise
        await asyncio.sleep(min(BACKOFF_MAX, 0.2 * 2 ** attempt))
    raise AssertionError("unreachable")

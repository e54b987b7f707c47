"""A small test helper that plays agents through the public surfaces only: sign in through the real login
form and get the CTI access token (both with the shipped client, :class:`parley.client.Agent`), call CTI
operations (JSON 1.0 at ``POST /api``) framed exactly as StreamsJS frames them, wait for snapshot
conditions with ``GetAgentSnapshot`` long polls, and join the agent's chat through the Participant Service
(``CreateTransport`` chat_token, or ``CreateParticipantConnection`` with the ``ConnectionAuthenticationToken``
of ``chatMediaInfo.connectionData``) with a participant websocket that collects items.

The CTI calls and snapshot long polls stay the test's own on purpose: StreamsJS sends some operations with the
access token in ``X-Amz-Bearer`` only (:data:`NO_AUTH_BODY`), every answer is kept (:attr:`Agent.bodies`) for
checks on what a response may show, refusals are read as raw (status, body), and a wait reads a fresh snapshot
after the action before it long-polls, failing with the snapshot it last saw."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
from botocore.exceptions import ClientError

from parley import client
from parley.client.agent import Connection
from parley.client.items import CHAT_ENDED as CHAT_ENDED
from parley.client.items import EVENT_PREFIX
from parley.client.items import JOINED as JOINED
from parley.client.items import LEFT as LEFT
from tests.aws.chat_helpers import Party, Socket, join, participant_client
from tests.conftest import Server, serving

PASSWORD = "Parley-demo-1"
AGENTS = ("agent1", "agent2", "agent3", "agent4", "agent5")
TARGET = "AmazonConnectCTIService."
# StreamsJS sends these operations without ``authentication`` in the body (client.js), only X-Amz-Bearer.
NO_AUTH_BODY = frozenset({"CompleteContact", "ClearContact", "RejectContact", "AddNewConnection", "TransferContact"})
# How long a test waits for a snapshot condition or a pushed item before it fails.
WAIT = 10.0
# The longest single long poll a waiting helper holds (ms); the loop re-polls until its deadline.
POLL_MS = 5000
INVITED = EVENT_PREFIX + "participant.invited"
TRANSFER_SUCCEEDED = EVENT_PREFIX + "transfer.succeeded"
# What no response may ever show (Connect's own internal transfer placeholder).
PLACEHOLDER = "INTERNAL-TRANSFER"

Snapshot = dict[str, Any]
ContactView = dict[str, Any]


@contextmanager
def dedicated_server(args: list[str], storage: str = "sqlite") -> Iterator[Server]:
    """A ``parley serve`` of the test module's own (SQLite in its data dir, or a scratch PostgreSQL database),
    which must still be up when the module's tests are done. ``start_server`` makes sure the process answering on
    its port is this one (the pid ``/health`` reports), retrying on another port when it loses the race for it."""
    with serving(args, postgres=storage == "postgresql", stays_up=True) as srv:
        yield srv


class CtiFailure(Exception):
    """A CTI error response: HTTP status, ``__type`` and ``message``."""

    def __init__(self, op: str, status: int, body: dict[str, Any]) -> None:
        self.op = op
        self.status = status
        self.code = str(body.get("__type", ""))
        self.message = str(body.get("message", ""))
        super().__init__(f"{op} -> {status} {self.code}: {self.message}")


@dataclass
class Member:
    """One party of a chat as the Participant Service sees it: its credentials and its websocket."""

    name: str
    party: Party
    socket: Socket

    def send(self, text: str) -> str:
        """SendMessage (text/plain); returns the message's Id."""
        return str(self.party.send(text)["Id"])

    def transcript(self) -> list[dict[str, Any]]:
        return self.party.items()

    def close(self) -> None:
        self.socket.close()


@dataclass
class Agent:
    """A signed-in agent: the shipped client's session (the sign-in cookie and the CTI access token) and an httpx
    client that calls the CTI API as StreamsJS does (CTI authenticates by the access token alone)."""

    username: str
    session: client.Agent
    http: httpx.AsyncClient
    participants: Any
    bodies: list[str] = field(default_factory=list)

    @classmethod
    async def sign_in(cls, url: str, username: str, participants: Any, password: str = PASSWORD) -> Agent:
        """Sign in with :meth:`parley.client.Agent.sign_in` (login form with its CSRF token, then
        ``/auth/authorize``). The session's background snapshot poll is not started: these agents long-poll in
        the foreground (:meth:`wait_for`)."""
        session = client.Agent(url, username, password, offline_on_exit=False)
        try:
            await session.sign_in()
        except BaseException:
            await session.close()
            raise
        return cls(username, session, httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=30),
                   participants)

    @property
    def token(self) -> str:
        """The CTI access token of the session."""
        token = self.session.access_token
        assert token is not None, f"{self.username} is signed out"
        return token

    async def close(self) -> None:
        """Close the CTI client and sign out (the session's access tokens stop working)."""
        await self.http.aclose()
        await self.session.close()

    # raw calls -------------------------------------------------------------------------------------
    async def attempt(self, op: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """One CTI call as StreamsJS makes it; returns (HTTP status, JSON body)."""
        body = dict(params) if op in NO_AUTH_BODY else {"authentication": {"authToken": self.token}, **params}
        response = await self.http.post("/api", content=json.dumps(body), headers={
            "X-Amz-Target": TARGET + op, "Content-Type": "application/x-amz-json-1.0", "X-Amz-Bearer": self.token,
        })
        self.bodies.append(response.text)
        return response.status_code, response.json()

    async def call(self, op: str, **params: Any) -> dict[str, Any]:
        status, body = await self.attempt(op, **params)
        if status != 200:
            raise CtiFailure(op, status, body)
        return body

    async def refused(self, op: str, code: str, *fragments: str, **params: Any) -> CtiFailure:
        """Call ``op`` and expect the CTI error ``code`` whose message contains every fragment."""
        status, body = await self.attempt(op, **params)
        failure = CtiFailure(op, status, body)
        assert status >= 400 and failure.code == code, failure
        assert failure.message, failure
        for fragment in fragments:
            assert fragment in failure.message, f"{fragment!r} not in {failure.message!r}"
        return failure

    # the snapshot ----------------------------------------------------------------------------------
    async def snapshot(self) -> Snapshot:
        return dict((await self.call("GetAgentSnapshot"))["snapshot"])

    async def wait_for(self, ready: Callable[[Snapshot], Any], what: str, timeout: float = WAIT) -> Any:
        """Long-poll ``GetAgentSnapshot`` (with its nextToken) until ``ready(snapshot)`` is truthy."""
        deadline = time.monotonic() + timeout
        body = await self.call("GetAgentSnapshot")
        while True:
            found = ready(body["snapshot"])
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.username}: timed out waiting for {what}; "
                                     f"snapshot: {json.dumps(body['snapshot'])[:3000]}")
            body = await self.call("GetAgentSnapshot", nextToken=body["nextToken"],
                                   timeout=int(min(left * 1000, POLL_MS)))

    async def contacts(self) -> list[ContactView]:
        return list((await self.snapshot())["contacts"])

    async def contact(self, contact_id: str) -> ContactView | None:
        return next((c for c in await self.contacts() if c["contactId"] == contact_id), None)

    async def wait_contact(self, match: Callable[[ContactView], bool], what: str,
                           timeout: float = WAIT) -> ContactView:
        found: ContactView = await self.wait_for(
            lambda s: next((c for c in s["contacts"] if match(c)), None), what, timeout)
        return found

    async def wait_offer(self, initial_contact_id: str | None = None, timeout: float = WAIT) -> ContactView:
        """The contact offered to this agent (state connecting), of the given chat if named."""
        return await self.wait_contact(
            lambda c: c["state"]["type"] == "connecting"
            and (initial_contact_id is None or c["initialContactId"] == initial_contact_id),
            f"an offer of chat {initial_contact_id or '(any)'}", timeout)

    async def wait_state(self, contact_id: str, state: str, timeout: float = WAIT) -> ContactView:
        return await self.wait_contact(lambda c: c["contactId"] == contact_id and c["state"]["type"] == state,
                                       f"contact {contact_id} to be {state}", timeout)

    async def wait_gone(self, contact_id: str, timeout: float = WAIT) -> None:
        await self.wait_for(lambda s: all(c["contactId"] != contact_id for c in s["contacts"]),
                            f"contact {contact_id} to leave the snapshot", timeout)

    async def agent_state(self) -> dict[str, Any]:
        return dict((await self.snapshot())["state"])

    # agent state -----------------------------------------------------------------------------------
    async def set_state(self, name: str) -> None:
        states = (await self.call("GetAgentStates"))["states"]
        state = next(s for s in states if s["name"] == name)
        await self.call("PutAgentState", state=state, enqueueNextState=False)

    async def available(self) -> None:
        await self.set_state("Available")

    async def offline(self) -> None:
        await self.set_state("Offline")

    # contacts --------------------------------------------------------------------------------------
    async def accept(self, contact_id: str) -> ContactView:
        await self.call("AcceptContact", contactId=contact_id)
        return await self.wait_state(contact_id, "connected")

    async def endpoints(self) -> dict[str, dict[str, Any]]:
        queues = (await self.call("GetRoutingProfileQueues", routingProfileARN=""))["queues"]
        listed = await self.call("GetEndpoints", queueARNs=[q["queueARN"] for q in queues], maxResults=500)
        return {e["name"]: e for e in listed["endpoints"]}

    async def endpoint(self, name: str) -> dict[str, Any]:
        return (await self.endpoints())[name]

    async def invite(self, contact_id: str, quick_connect: str) -> dict[str, Any]:
        """``contact.addParticipant(endpoint)``: AddNewConnection with a quick connect from GetEndpoints."""
        return await self.call("AddNewConnection", contactId=contact_id, endpoint=await self.endpoint(quick_connect))

    async def transfer(self, contact_id: str, quick_connect: str) -> dict[str, Any]:
        return await self.call("TransferContact", contactId=contact_id, endpoint=await self.endpoint(quick_connect))

    async def own_connection(self, contact_id: str) -> str:
        contact = await self.contact(contact_id)
        assert contact is not None, f"{self.username} has no contact {contact_id}"
        return str(next(c for c in contact["connections"] if c["type"] == "agent")["connectionId"])

    async def leave(self, contact_id: str) -> None:
        """``agent connection.destroy()``: DestroyConnection on the agent's own connection."""
        await self.call("DestroyConnection", contactId=contact_id, connectionId=await self.own_connection(contact_id))

    async def clear(self, contact_id: str) -> None:
        await self.call("ClearContact", contactId=contact_id)

    async def join(self, contact_id: str, *, via: str = "transport") -> Member:
        """Join the agent's chat on the Participant Service and open a subscribed websocket.

        ``via="transport"``: CTI CreateTransport chat_token gives the connection token (as the CCP does);
        ``via="connection"``: CreateParticipantConnection with the ConnectionAuthenticationToken (as ChatJS does).
        """
        contact = await self.contact(contact_id)
        assert contact is not None and contact["state"]["type"] == "connected", contact
        own = next(c for c in contact["connections"] if c["type"] == "agent")
        participant_token = Connection.from_wire(own).participant_token
        assert participant_token, f"no ConnectionAuthenticationToken in {own}"
        if via == "connection":
            party = join(self.participants, contact_id, own["connectionId"], participant_token)
        else:
            transport = await self.call("CreateTransport", transportType="chat_token", contactId=contact_id)
            grant = self.participants.create_participant_connection(ParticipantToken=participant_token,
                                                                    Type=["WEBSOCKET"])
            party = Party(self.participants, contact_id, own["connectionId"], participant_token,
                          transport["chatTokenTransport"]["participantToken"], grant["Websocket"]["Url"])
        return Member(self.username, party, Socket.open(party.websocket_url))

    async def reset(self) -> None:
        """Leave, reject or clear every contact and go Offline (so the next test starts from nothing)."""
        await self.offline()
        for contact in await self.contacts():
            kind, contact_id = contact["state"]["type"], contact["contactId"]
            if kind == "connecting":
                await self.attempt("RejectContact", contactId=contact_id)
            elif kind == "connected":
                await self.attempt("CompleteContact", contactId=contact_id)
            await self.attempt("ClearContact", contactId=contact_id)
        leftover = await self.contacts()
        assert not leftover, f"{self.username} still has {leftover}"
        await self.offline()


@dataclass
class World:
    """A dedicated demo server with its five agents signed in, boto3 clients and the chats a test started."""

    server: Server
    connect: Any
    participants: Any
    instance_id: str
    inbound_flow: str
    agents: dict[str, Agent]
    chats: list[str] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)

    @classmethod
    async def open(cls, server: Server) -> World:
        connect = server.connect()
        participants = participant_client(server.url)
        instance_id = next(i["Id"] for i in connect.list_instances()["InstanceSummaryList"]
                           if i["InstanceAlias"] == "demo")
        flows = connect.list_contact_flows(InstanceId=instance_id)["ContactFlowSummaryList"]
        inbound = next(f["Id"] for f in flows if f["Name"] == "Sample inbound flow")
        agents = {name: await Agent.sign_in(server.url, name, participants) for name in AGENTS}
        return cls(server, connect, participants, instance_id, inbound, agents)

    def __getitem__(self, username: str) -> Agent:
        return self.agents[username]

    async def close(self) -> None:
        for agent in self.agents.values():
            await agent.close()

    def start_chat(self, display_name: str = "Jane Customer") -> Member:
        """StartChatContact on the inbound flow (BasicQueue); the customer connects and opens a websocket."""
        started = self.connect.start_chat_contact(InstanceId=self.instance_id, ContactFlowId=self.inbound_flow,
                                                  ParticipantDetails={"DisplayName": display_name})
        self.chats.append(started["ContactId"])
        party = join(self.participants, started["ContactId"], started["ParticipantId"], started["ParticipantToken"])
        member = Member(display_name, party, Socket.open(party.websocket_url))
        self.members.append(member)
        return member

    def describe(self, contact_id: str) -> dict[str, Any]:
        return dict(self.connect.describe_contact(InstanceId=self.instance_id, ContactId=contact_id)["Contact"])

    async def reset(self) -> None:
        """End every chat the test started, close its sockets, and put every agent back to Offline, empty."""
        for contact_id in self.chats:
            with suppress(ClientError):  # a chat that already ended is fine
                self.connect.stop_contact(InstanceId=self.instance_id, ContactId=contact_id)
        for member in self.members:
            member.close()
        self.chats.clear()
        self.members.clear()
        for agent in self.agents.values():
            await agent.reset()

    async def answer(self, agent: Agent, customer: Member, *, via: str = "transport") -> tuple[str, Member]:
        """``agent`` gets the customer's chat offered, accepts and joins it; returns (contact id, member)."""
        offer = await agent.wait_offer(customer.party.contact_id)
        await agent.accept(offer["contactId"])
        member = await agent.join(offer["contactId"], via=via)
        self.members.append(member)
        return offer["contactId"], member

    async def bring_in(self, inviter: Agent, inviter_contact: str, invitee: Agent, chat_id: str, *,
                       via: str = "transport") -> tuple[str, Member]:
        """``inviter`` adds ``invitee`` by its USER quick connect; the invitee goes Available, accepts, joins."""
        await inviter.invite(inviter_contact, f"Transfer-to-agent-{invitee.username[-1]}")
        await invitee.available()
        offer = await invitee.wait_offer(chat_id)
        await invitee.accept(offer["contactId"])
        member = await invitee.join(offer["contactId"], via=via)
        self.members.append(member)
        return offer["contactId"], member


def of_type(items: Iterable[dict[str, Any]], content_type: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("ContentType") == content_type]


def message_ids(items: Iterable[dict[str, Any]]) -> list[str]:
    return [i["Id"] for i in items if i["Type"] == "MESSAGE"]


def connections(contact: ContactView) -> list[tuple[str, str, str]]:
    """(type, state, name) of each connection, with the name StreamsJS's getParticipantName() would show."""
    rows = []
    for c in contact["connections"]:
        media = c.get("chatMediaInfo") or {}
        name = media.get("customerName") if c["type"] == "inbound" else (c.get("endpoint") or {}).get("name")
        rows.append((c["type"], c["state"]["type"], name or ""))
    return rows

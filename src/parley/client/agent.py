"""``Agent``: a contact-center agent driven from Python through the same protocols the CCP uses.

It signs in through the login form (``/connect/login``, with its CSRF token), turns the session cookie into a CTI
access token (``/auth/authorize``, refreshed before it expires), calls the CTI agent API (``POST /api``, JSON 1.0,
``X-Amz-Target: AmazonConnectCTIService.<Op>``) and keeps the latest agent snapshot with a background long poll
(``GetAgentSnapshot``). An accepted chat is an :class:`AgentChat`: a :class:`ChatParticipant` connected with the
participant token of the agent's connection (``chatMediaInfo.connectionData``). See ``docs/client.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple, Self, TypeVar

import httpx
import orjson

from parley.client.connect import DEMO_ALIAS
from parley.client.errors import ParleyError
from parley.client.participant import ChatParticipant
from parley.client.wire import decode

T = TypeVar("T")

TARGET_PREFIX = "AmazonConnectCTIService."
JSON_10 = "application/x-amz-json-1.0"
LOGIN_PATH = "/connect/login"
LOGOUT_PATH = "/connect/logout"
AUTHORIZE_PATH = "/auth/authorize"
CTI_PATH = "/api"
# Where the login form sends a signed-in browser; the client does not follow the redirect.
LANDING = "/connect/ccp-v2/"
# How long one snapshot long poll waits on the server (Parley holds at most 25 s).
POLL_SECONDS = 20.0
# The least time between the starts of two polls, so a server that answers every poll at once is not hammered.
MIN_POLL_INTERVAL = 0.1
# Pauses between failed polls: the first and the cap of the doubling.
FIRST_PAUSE = 0.2
MAX_PAUSE = 5.0
# Contact and connection states of the snapshot (``state.type``).
CONNECTING = "connecting"
CONNECTED = "connected"
ENDED = "ended"
DISCONNECTED = "disconnected"

_CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf"[^>]*\bvalue="([^"]*)"', re.IGNORECASE)
_LOGIN_ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.IGNORECASE | re.DOTALL)
# AWS-style codes of the login form's failures, by HTTP status.
_LOGIN_CODES = MappingProxyType({400: "InvalidParameterException", 401: "UnauthorizedException",
                                 403: "AccessDeniedException"})

# the snapshot, parsed ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """A quick connect as ``GetEndpoints`` lists it (``type`` is ``agent``, ``queue`` or ``phone_number``)."""

    arn: str | None
    type: str
    name: str
    display_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Endpoint:
        return cls(_str(data.get("endpointARN")), str(data.get("type") or ""), str(data.get("name") or ""),
                   _str(data.get("displayName")), dict(data))

    def wire(self) -> dict[str, Any]:
        """The endpoint as StreamsJS sends it in ``AddNewConnection``/``TransferContact`` (nulls dropped)."""
        out: dict[str, Any] = {"endpointARN": self.arn, "type": self.type, "name": self.name}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Connection:
    """One party of a contact in the agent's snapshot.

    ``type`` is ``agent`` (this agent), ``inbound`` (the customer) or ``outbound`` (another agent, invited or
    joined); ``state`` is ``connecting``, ``connected`` or ``disconnected``; ``name`` is the display name.
    """

    connection_id: str
    type: str
    state: str
    name: str
    initial: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Connection:
        endpoint = _obj(data.get("endpoint"))
        chat = _obj(data.get("chatMediaInfo"))
        kind = str(data.get("type") or "")
        if kind == "inbound":
            name = chat.get("customerName") or endpoint.get("name")
        else:
            name = endpoint.get("name") or chat.get("agentName")
        return cls(str(data.get("connectionId") or ""), kind, _state_of(data), str(name or ""),
                   bool(data.get("initial")), dict(data))

    @property
    def participant_token(self) -> str | None:
        """The participant token in ``chatMediaInfo.connectionData`` (only on this agent's own connection)."""
        chat = self.raw.get("chatMediaInfo")
        data = chat.get("connectionData") if isinstance(chat, dict) else None
        if not isinstance(data, str) or not data:
            return None
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        token = parsed.get("ConnectionAuthenticationToken") if isinstance(parsed, dict) else None
        return token if isinstance(token, str) and token else None


class RosterEntry(NamedTuple):
    """One line of :meth:`Agent.roster`: who, as which connection type, in which state."""

    name: str
    type: str
    state: str


@dataclass(frozen=True)
class AgentContact:
    """A contact of the agent's snapshot: an offer (``state == "connecting"``), a chat in progress
    (``connected``) or one in after-contact work (``ended``).

    ``contact_id`` is this agent's contact segment (an invited agent gets a new one; ``initial_contact_id`` is the
    customer's contact); ``initiation_method`` is e.g. ``api``, ``transfer`` or ``queue_transfer``.
    """

    contact_id: str
    initial_contact_id: str
    state: str
    initiation_method: str
    connections: tuple[Connection, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> AgentContact:
        contact_id = str(data.get("contactId") or "")
        connections = tuple(Connection.from_wire(c) for c in data.get("connections") or [] if isinstance(c, dict))
        return cls(contact_id, str(data.get("initialContactId") or contact_id), _state_of(data),
                   str(data.get("initiationMethod") or ""), connections, dict(data))

    @property
    def own(self) -> Connection | None:
        """This agent's connection (type ``agent``)."""
        return next((c for c in self.connections if c.type == "agent"), None)

    @property
    def customer_name(self) -> str | None:
        return next((c.name for c in self.connections if c.type == "inbound"), None)

    @property
    def is_offer(self) -> bool:
        """Offered and not yet accepted or rejected."""
        own = self.own
        return self.state == CONNECTING and (own is None or own.state == CONNECTING)

    def roster(self) -> list[RosterEntry]:
        return [RosterEntry(c.name, c.type, c.state) for c in self.connections]

    def connection(self, connection_id_or_name: str) -> Connection | None:
        """The connection with this id, else the first one still present with this display name."""
        by_id = next((c for c in self.connections if c.connection_id == connection_id_or_name), None)
        if by_id is not None:
            return by_id
        named = [c for c in self.connections if c.name == connection_id_or_name]
        return next((c for c in named if c.state != DISCONNECTED), named[0] if named else None)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _state_of(data: Mapping[str, Any]) -> str:
    state = data.get("state")
    return str(state.get("type") or "") if isinstance(state, dict) else ""


def _contact_id(contact: AgentContact | str) -> str:
    return contact.contact_id if isinstance(contact, AgentContact) else contact


def _contacts_of(snapshot: Mapping[str, Any]) -> list[AgentContact]:
    return [AgentContact.from_wire(c) for c in snapshot.get("contacts") or [] if isinstance(c, dict)]


# the chat ------------------------------------------------------------------------------------------------------
class AgentChat(ChatParticipant):
    """The agent's side of an accepted chat: a :class:`ChatParticipant` (``send``, ``items``, ``wait_for``,
    ``transcript``, …) plus the contact it belongs to and :meth:`leave`.

    Its ``participant_id`` is the agent's connection id and its ``contact_id`` the agent's contact segment.
    """

    def __init__(self, agent: Agent, contact: AgentContact, participant_token: str, **options: Any) -> None:
        own = contact.own
        super().__init__(agent.url, participant_token, participant_id=own.connection_id if own else None,
                         contact_id=contact.contact_id, **options)
        self.agent = agent
        self.contact = contact

    async def leave(self) -> None:
        """Leave the chat through the CTI API (``DestroyConnection`` of the own connection); it goes on for the
        others while the customer is in it, and this agent's contact enters after-contact work."""
        await self.agent.leave(self.contact)


# the agent ------------------------------------------------------------------------------------------------------
class Agent:
    """An agent signed in to Parley, as a script or a test plays one.

    ``async with Agent(url, "agent1", password) as agent:`` signs in (login form with CSRF token, then
    ``/auth/authorize``), starts the background snapshot poll and, on exit, closes the agent's chat connections,
    goes Offline (``offline_on_exit``) and signs out. Failed calls raise :class:`ParleyError` with the CTI error
    code (e.g. ``LimitExceededException``), its message and the HTTP status.

    The access token is renewed from ``/auth/authorize`` when less than ``refresh_before`` seconds of it are left
    (and once after an ``UnauthorizedException``); when the session itself has expired the agent signs in again.
    """

    def __init__(self, url: str, username: str, password: str, instance: str = DEMO_ALIAS, *,
                 poll_seconds: float = POLL_SECONDS, refresh_before: float = 60.0, offline_on_exit: bool = True,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.instance = instance
        self.poll_seconds = poll_seconds
        self.refresh_before = refresh_before
        self.offline_on_exit = offline_on_exit
        self.name: str | None = None
        self._password = password
        self._timeout = timeout
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._token: str | None = None
        self._expires = 0.0  # epoch seconds
        self._auth_lock = asyncio.Lock()
        self._latest: dict[str, Any] | None = None
        self._changed = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._poll_error: BaseException | None = None
        self._handed: set[str] = set()
        self._chats: list[AgentChat] = []

    # lifecycle ----------------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def start(self) -> None:
        """Sign in, read the agent's configuration and start the snapshot poll (``async with`` does this)."""
        if self._token is None:
            await self.sign_in()
        configuration = await self.configuration()
        self.name = str(configuration.get("name") or self.username)
        if self._poller is None:
            await self.snapshot()
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def close(self) -> None:
        """Stop polling, close the chat connections (the agent stays in its chats), go Offline when
        ``offline_on_exit`` and sign out."""
        await self._stop_polling()
        if self._token is not None and self.offline_on_exit:
            # After the poll stopped: the state change also answers the poll the server may still be holding.
            with contextlib.suppress(ParleyError, httpx.HTTPError):
                await self.go_offline()
        await self._shutdown(sign_out=True)

    async def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _shutdown(self, *, sign_out: bool = False) -> None:
        await self._stop_polling()
        for chat in self._chats:
            await chat.close()
        self._chats.clear()
        if sign_out and self._token is not None:
            with contextlib.suppress(httpx.HTTPError):
                await self.sign_out()
        await self._http.aclose()

    # sign-in and tokens ------------------------------------------------------------------------------------
    async def sign_in(self) -> None:
        """Sign in through the login form (``GET`` for its CSRF token, then ``POST``) and get an access token.

        Raises :class:`ParleyError` with the form's message (e.g. ``UnauthorizedException`` (401) for a wrong
        username or password).
        """
        page = await self._http.get(self.url + LOGIN_PATH, params={"instance": self.instance})
        if page.status_code != 200:
            raise _login_error(page)
        found = _CSRF_INPUT.search(page.text)
        csrf = html.unescape(found.group(1)) if found else ""
        if not csrf:
            raise ParleyError("InvalidResponse", "The sign-in page has no CSRF token.", page.status_code)
        form = {"csrf": csrf, "landat": LANDING, "instance": self.instance, "username": self.username,
                "password": self._password}
        answer = await self._http.post(self.url + LOGIN_PATH, data=form)
        if answer.status_code not in (302, 303):
            raise _login_error(answer)
        if not await self._authorize():
            raise ParleyError("UnauthorizedException", "Signed in, but /auth/authorize refused the session.", 401)

    async def sign_out(self) -> None:
        """End the session (``/connect/logout``, a form with its own CSRF token); its access tokens stop working."""
        page = await self._http.get(self.url + LOGOUT_PATH)
        found = _CSRF_INPUT.search(page.text)
        if found is not None:
            answer = await self._http.post(self.url + LOGOUT_PATH, data={"csrf": html.unescape(found.group(1))})
            if answer.status_code >= 400:
                raise ParleyError("UnauthorizedException", f"Signing out failed ({answer.status_code}).",
                                  answer.status_code)
        self._token = None
        self._expires = 0.0

    async def _authorize(self) -> bool:
        """Get a fresh access token for the session cookie; False when the session is gone (401)."""
        answer = await self._http.get(self.url + AUTHORIZE_PATH)
        if answer.status_code == 401:
            return False
        data = decode(answer)
        self._token = str(data["accessToken"])
        self._expires = float(data["expiration"]) / 1000.0
        return True

    async def refresh_token(self) -> str:
        """Replace the access token now (signing in again if the session has expired); returns the new one."""
        async with self._auth_lock:
            await self._renew()
        assert self._token is not None
        return self._token

    async def _renew(self) -> None:
        if not await self._authorize():
            await self.sign_in()

    async def _access_token(self) -> str:
        if self._token is None or time.time() >= self._expires - self.refresh_before:
            async with self._auth_lock:
                if self._token is None or time.time() >= self._expires - self.refresh_before:
                    await self._renew()
        assert self._token is not None
        return self._token

    @property
    def access_token(self) -> str | None:
        """The current CTI access token (``authentication.authToken``)."""
        return self._token

    @property
    def token_expires(self) -> float:
        """When the access token expires (epoch seconds)."""
        return self._expires

    # the CTI API ---------------------------------------------------------------------------------------------
    async def call(self, operation: str, body: Mapping[str, Any] | None = None, *,
                   timeout: float | None = None) -> dict[str, Any]:
        """One CTI API call (``AmazonConnectCTIService.<operation>``); raises :class:`ParleyError` on an error
        answer. An ``UnauthorizedException`` renews the access token and tries once more."""
        for attempt in (1, 2):
            token = await self._access_token()
            payload = {"authentication": {"authToken": token}, **(body or {})}
            headers = {"X-Amz-Target": TARGET_PREFIX + operation, "Content-Type": JSON_10}
            answer = await self._http.post(self.url + CTI_PATH, content=orjson.dumps(payload), headers=headers,
                                           timeout=timeout or self._timeout)
            if answer.status_code == 401 and attempt == 1:
                async with self._auth_lock:
                    if self._token == token:
                        await self._renew()
                continue
            return decode(answer)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pages(self, operation: str, body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self.call(operation, {**body, "nextToken": token} if token else body)
            out += [x for x in page.get(key) or [] if isinstance(x, dict)]
            token = page.get("nextToken")
            if not token:
                return out

    async def configuration(self) -> dict[str, Any]:
        """``GetAgentConfiguration``: name, username, agentARN, routingProfile, …"""
        return dict((await self.call("GetAgentConfiguration")).get("configuration") or {})

    # agent state ---------------------------------------------------------------------------------------------
    async def states(self) -> list[dict[str, Any]]:
        """The agent states one may choose (``GetAgentStates``): ``{agentStateARN, type, name}`` each."""
        return await self._pages("GetAgentStates", {}, "states")

    async def set_state(self, name: str) -> None:
        """Change the agent's state to the one called ``name`` (``PutAgentState``), e.g. ``Available``."""
        wanted = next((s for s in await self.states() if s.get("name") == name), None)
        state = ({k: wanted.get(k) for k in ("agentStateARN", "type", "name")} if wanted
                 else {"name": name, "type": "not_routable"})
        await self.call("PutAgentState", {"state": state, "enqueueNextState": False})
        await self.snapshot()

    async def go_available(self) -> None:
        await self.set_state("Available")

    async def go_offline(self) -> None:
        await self.set_state("Offline")

    @property
    def state(self) -> str | None:
        """The name of the agent's state in the latest snapshot."""
        state = (self._latest or {}).get("state")
        return str(state.get("name")) if isinstance(state, dict) else None

    # the snapshot --------------------------------------------------------------------------------------------
    async def snapshot(self) -> dict[str, Any]:
        """The current agent snapshot (``GetAgentSnapshot`` answered at once); also updates :attr:`latest`."""
        out = await self.call("GetAgentSnapshot", {"timeout": 0})
        snapshot = dict(out.get("snapshot") or {})
        self._update(snapshot)
        return snapshot

    @property
    def latest(self) -> dict[str, Any] | None:
        """The newest snapshot the background poll (or a call) has seen."""
        return self._latest

    async def contacts(self) -> list[AgentContact]:
        """The agent's contacts now: offers, chats in progress and after-contact work."""
        return _contacts_of(await self.snapshot())

    async def contact(self, contact: AgentContact | str) -> AgentContact:
        """The current view of one contact; :class:`ParleyError` (``ResourceNotFoundException``) when it is not
        (or no longer) one of the agent's."""
        contact_id = _contact_id(contact)
        found = next((c for c in await self.contacts() if c.contact_id == contact_id), None)
        if found is None:
            raise ParleyError("ResourceNotFoundException", f"Contact {contact_id} is not in the agent's snapshot.",
                              404)
        return found

    async def _poll(self) -> None:
        token: str | None = None
        pause = FIRST_PAUSE
        started = 0.0
        while True:
            await asyncio.sleep(max(0.0, started + MIN_POLL_INTERVAL - time.monotonic()))
            started = time.monotonic()
            body: dict[str, Any] = {"timeout": int(self.poll_seconds * 1000)}
            if token:
                body["nextToken"] = token
            try:
                out = await self.call("GetAgentSnapshot", body, timeout=self.poll_seconds + self._timeout)
            except (httpx.TransportError, ParleyError) as exc:
                if isinstance(exc, ParleyError) and exc.status != 429 and exc.status < 500:
                    self._poll_error = exc
                    self._notify()
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            except Exception as exc:
                self._poll_error = exc
                self._notify()
                return
            pause = FIRST_PAUSE
            token = _str(out.get("nextToken"))
            self._update(dict(out.get("snapshot") or {}))

    def _update(self, snapshot: dict[str, Any]) -> None:
        """Keep ``snapshot`` unless a newer one is known (answers of concurrent calls can arrive out of order)."""
        if self._latest is not None and _stamp(snapshot) < _stamp(self._latest):
            return
        self._latest = snapshot
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, found: Callable[[dict[str, Any]], T | None], timeout: float | None) -> T:
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed
                if self._latest is not None:
                    result = found(self._latest)
                    if result is not None:
                        return result
                if self._poll_error is not None:
                    raise self._poll_error
                if self._poller is None or self._poller.done():
                    raise RuntimeError("the agent is not started: use 'async with Agent(...)' or call start()")
                await changed.wait()

    async def wait_for_contact(self, contact: AgentContact | str, predicate: Callable[[AgentContact], bool],
                               timeout: float | None = 10.0) -> AgentContact:
        """Wait until the snapshot has the contact and ``predicate`` holds for it; ``TimeoutError`` otherwise."""
        contact_id = _contact_id(contact)

        def found(snapshot: dict[str, Any]) -> AgentContact | None:
            return next((c for c in _contacts_of(snapshot) if c.contact_id == contact_id and predicate(c)), None)

        return await self._wait(found, timeout)

    async def wait_for_contact_state(self, contact: AgentContact | str, state: str,
                                     timeout: float | None = 10.0) -> AgentContact:
        """Wait until the contact is in ``state`` (``connecting``, ``connected`` or ``ended``)."""
        return await self.wait_for_contact(contact, lambda c: c.state == state, timeout)

    async def wait_for_contact_gone(self, contact: AgentContact | str, timeout: float | None = 10.0) -> None:
        """Wait until the contact has left the snapshot (cleared, missed or rejected)."""
        contact_id = _contact_id(contact)
        await self._wait(lambda s: None if any(c.contact_id == contact_id for c in _contacts_of(s)) else True,
                         timeout)

    # offers -------------------------------------------------------------------------------------------------
    def _next_offer(self, snapshot: dict[str, Any]) -> AgentContact | None:
        offers = [c for c in _contacts_of(snapshot) if c.is_offer]
        self._handed &= {c.contact_id for c in offers}  # a contact offered again later is a new offer
        return next((c for c in offers if c.contact_id not in self._handed), None)

    async def wait_for_offer(self, timeout: float | None = 10.0) -> AgentContact:
        """The next offered contact not handed out before (by this or :meth:`offers`); ``TimeoutError`` after
        ``timeout`` seconds."""
        offer = await self._wait(self._next_offer, timeout)
        self._handed.add(offer.contact_id)
        return offer

    async def offers(self) -> AsyncIterator[AgentContact]:
        """Offered contacts as they arrive, each once (shared with :meth:`wait_for_offer`); never ends by itself."""
        while True:
            yield await self.wait_for_offer(None)

    async def accept(self, contact: AgentContact | str, *, history: bool = False, **options: Any) -> AgentChat:
        """Accept an offer (``AcceptContact``) and return the connected chat.

        The chat's stream starts with the agent's own ``participant.joined``; ``history=True`` starts it with the
        whole transcript (an invited agent sees what was said before). ``options`` go to :class:`ChatParticipant`.
        """
        await self.call("AcceptContact", {"contactId": _contact_id(contact)})
        return await self.open_chat(contact, history=history, **options)

    async def open_chat(self, contact: AgentContact | str, *, history: bool = False, **options: Any) -> AgentChat:
        """Connect to the chat of an accepted contact with the participant token of the agent's connection (also
        after a restart of the script); the :class:`AgentChat` is closed with the agent."""
        current = await self.contact(contact)
        own = current.own
        token = own.participant_token if own else None
        if token is None:
            raise ParleyError("InvalidStateException",
                              f"Contact {current.contact_id} has no participant token for this agent.", 400)
        chat = AgentChat(self, current, token, history=history, **options)
        await chat.connect()
        self._chats.append(chat)
        return chat

    async def chat_connection_token(self, contact: AgentContact | str) -> str:
        """A connection token for the contact's chat (``CreateTransport`` ``chat_token``), as ChatJS gets one."""
        out = await self.call("CreateTransport", {"transportType": "chat_token", "contactId": _contact_id(contact)})
        return str(out["chatTokenTransport"]["participantToken"])

    async def reject(self, contact: AgentContact | str) -> None:
        """Reject an offer (``RejectContact``); the contact goes to another agent."""
        await self._act("RejectContact", {"contactId": _contact_id(contact)})

    # the conference -----------------------------------------------------------------------------------------
    async def quick_connects(self) -> list[Endpoint]:
        """The quick connects of the queues of the agent's routing profile (``GetEndpoints``)."""
        configuration = await self.configuration()
        profile = configuration.get("routingProfile") or {}
        arn = profile.get("routingProfileARN")
        queues = await self._pages("GetRoutingProfileQueues", {"routingProfileARN": arn}, "queues") if arn else []
        arns = [q["queueARN"] for q in queues if isinstance(q.get("queueARN"), str)]
        endpoints = await self._pages("GetEndpoints", {"queueARNs": arns, "maxResults": 500}, "endpoints")
        return [Endpoint.from_wire(e) for e in endpoints]

    async def _endpoint(self, target: Endpoint | str) -> Endpoint:
        if isinstance(target, Endpoint):
            return target
        endpoints = await self.quick_connects()
        for matches in (lambda e: e.name == target, lambda e: e.display_name == target, lambda e: e.arn == target):
            found = next(filter(matches, endpoints), None)
            if found is not None:
                return found
        names = ", ".join(repr(e.name) for e in endpoints) or "none"
        raise ParleyError("ResourceNotFoundException",
                          f"No quick connect of {self.username} is called {target!r} (there are: {names}).", 404)

    async def invite(self, contact: AgentContact | str, target: Endpoint | str) -> None:
        """Add a party to the chat through a quick connect (``AddNewConnection``), given as an :class:`Endpoint`
        or by name (or display name, or ARN). Refusals raise :class:`ParleyError`, e.g.
        ``LimitExceededException`` when the conference is full."""
        endpoint = await self._endpoint(target)
        await self._act("AddNewConnection", {"contactId": _contact_id(contact), "endpoint": endpoint.wire()})

    async def transfer(self, contact: AgentContact | str, target: Endpoint | str) -> None:
        """Transfer the chat through a quick connect (``TransferContact``): every agent in it is disconnected."""
        endpoint = await self._endpoint(target)
        await self._act("TransferContact", {"contactId": _contact_id(contact), "endpoint": endpoint.wire()})

    async def leave(self, contact: AgentContact | str) -> None:
        """Leave the chat (``DestroyConnection`` of the own connection); the contact enters after-contact work."""
        current = await self.contact(contact)
        own = current.own
        if own is None:
            raise ParleyError("InvalidStateException", f"The agent has no connection to {current.contact_id}.", 400)
        await self._act("DestroyConnection", {"contactId": current.contact_id, "connectionId": own.connection_id})

    async def remove(self, contact: AgentContact | str, connection: str) -> None:
        """Disconnect another party, given by connection id or display name (``DestroyConnection``): an agent
        leaves, a pending invitation is cancelled, and removing the customer ends the chat."""
        current = await self.contact(contact)
        found = current.connection(connection)
        if found is None:
            raise ParleyError("ResourceNotFoundException",
                              f"Contact {current.contact_id} has no connection {connection!r}.", 404)
        await self._act("DestroyConnection", {"contactId": current.contact_id, "connectionId": found.connection_id})

    async def clear(self, contact: AgentContact | str) -> None:
        """End after-contact work (``ClearContact``); the contact leaves the snapshot."""
        await self._act("ClearContact", {"contactId": _contact_id(contact)})

    async def complete(self, contact: AgentContact | str) -> None:
        """Leave if still connected, then clear (``CompleteContact``)."""
        await self._act("CompleteContact", {"contactId": _contact_id(contact)})

    async def roster(self, contact: AgentContact | str) -> list[RosterEntry]:
        """Everyone on the contact now, as (name, type, state): the customer (``inbound``), this agent
        (``agent``) and the other agents (``outbound``)."""
        return (await self.contact(contact)).roster()

    async def _act(self, operation: str, body: Mapping[str, Any]) -> None:
        """A CTI call that changes the snapshot, followed by a fresh snapshot so waits see its effect."""
        await self.call(operation, body)
        await self.snapshot()


def _stamp(snapshot: Mapping[str, Any]) -> float:
    value = snapshot.get("snapshotTimestamp")
    return float(value) if isinstance(value, int | float) else 0.0


def _login_error(answer: httpx.Response) -> ParleyError:
    """The :class:`ParleyError` of a refused sign-in, with the message the form shows."""
    found = _LOGIN_ERROR.search(answer.text)
    message = html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else answer.text[:300]
    status = answer.status_code
    return ParleyError(_LOGIN_CODES.get(status, f"HTTP{status}"), message or f"sign-in failed ({status})", status)

"""Agent sign-in: password login to a session cookie, CTI access tokens issued from it, logout and expiry.

Both credentials are random bearer secrets stored only as hashes in ``agent_sessions``. An access token
carries the storage key of the session that issued it (``<session hash>.<secret>``; the hash cannot be
turned back into the cookie), so it is valid only while that session is: logging out revokes at once every
access token the session handed out, and :meth:`AuthService.purge` removes the rows once they expire.

Sign-ins are throttled (:mod:`parley.service.signin_throttle`); a browser holding a device cookie of the account
(:mod:`parley.service.device_cookies`, handed out by :meth:`AuthService.remember_device` after a sign-in) is
throttled under that device instead of the username, so guessing an agent's password does not lock that agent out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from parley.domain.agents import AgentSession
from parley.domain.callers import Member
from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied
from parley.domain.ids import hash_token, new_token
from parley.domain.resources import User
from parley.service.access import allow, member_of
from parley.service.credentials import ACCESS, AGENT_SOCKET, COOKIE, access_session, live_session
from parley.service.device_cookies import DeviceCookies, DeviceGrant, who_of
from parley.service.passwords import Passwords
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork
from parley.service.signin_throttle import SigninThrottle, Throttled, user_key

WRONG_CREDENTIALS = "Wrong username or password."
# Lengths of the columns holding instance aliases and user names: anything longer cannot match a row.
MAX_ALIAS = 64
MAX_USERNAME = 256
# Argon2 hashes whatever it is given; a cap keeps a huge "password" from costing more than a real one.
MAX_PASSWORD = 1024
# How many instances to look at when no alias is given: only a single instance is picked implicitly.
IMPLICIT_INSTANCE_SCAN = 2


def _usable(text: str, limit: int) -> bool:
    """False for text no stored name can equal (too long, or a NUL byte PostgreSQL would refuse)."""
    return 0 < len(text) <= limit and "\x00" not in text


class AuthService:
    """Signs agents in and out and resolves their credentials."""

    def __init__(
        self, storage: Storage, passwords: Passwords, *, session_seconds: float = 12 * 3600,
        access_seconds: float = 12 * 3600, throttle: SigninThrottle | None = None,
        devices: DeviceCookies | None = None,
    ) -> None:
        self.storage = storage
        self.passwords = passwords
        self.throttle = throttle or SigninThrottle()
        self.devices = devices or DeviceCookies(storage)
        self.session_seconds = session_seconds
        self.access_seconds = access_seconds
        self._dummy_hash: str | None = None

    async def login(self, instance_alias: str, username: str, password: str, address: str = "",
                    devices: Sequence[DeviceGrant] = (), address_wait: int = 0) -> tuple[str, User]:
        """A new session token for the user; :class:`AccessDenied` with one message for every failure.

        An empty ``instance_alias`` means the only instance, when there is exactly one. ``address`` is the
        client's address for throttling: :class:`~parley.service.signin_throttle.Throttled` when this username
        or address must wait, :class:`~parley.service.passwords.PasswordsBusy` when too many checks are queued.
        ``devices`` are the valid entries of the browser's device cookie (:meth:`DeviceCookies.grants`): one
        issued to this account puts the attempt under that device's back-off instead of the username's and
        address's. ``address_wait`` is what :meth:`SigninThrottle.gate` told the web edge (which let the post in
        for its device cookie): without a device cookie of this account, the attempt is refused with it.
        """
        who = who_of(user_key(instance_alias, username))
        device = next((grant.device for grant in devices if grant.who == who), None)
        if device is None and address_wait > 0:
            raise Throttled(address_wait)
        attempt = self.throttle.admit(instance_alias, username, address, device=device)
        outcome: bool | None = None
        try:
            token, user = await self._login(instance_alias, username, password)
            outcome = True
            return token, user
        except AccessDenied:
            outcome = False
            raise
        finally:
            self.throttle.done(attempt, success=outcome)

    async def _login(self, instance_alias: str, username: str, password: str) -> tuple[str, User]:
        user = await self._find_user(instance_alias.strip(), username)
        if user is None or not user.password_hash or len(password) > MAX_PASSWORD:
            # Spend the time a real check takes, so timing does not tell which part was wrong.
            await self.passwords.verify(await self._dummy(), password[:MAX_PASSWORD])
            raise AccessDenied(WRONG_CREDENTIALS)
        if not await self.passwords.verify(user.password_hash, password):
            raise AccessDenied(WRONG_CREDENTIALS)
        token = new_token()
        now = utcnow()
        session = AgentSession(COOKIE, user.instance_id, user.id, now, now + timedelta(seconds=self.session_seconds))
        async with self.storage.transaction() as uow:
            await uow.sessions.add(hash_token(token), session)
            await uow.sessions.delete_expired(now)
        return token, user

    async def remember_device(self, user: User, instance_alias: str, username: str, cookie: str = "") -> str:
        """The device cookie value to hand the browser after ``user`` signed in with these form values (its other
        valid entries, ``cookie``, are kept)."""
        return await self.devices.issue(user.instance_id, user_key(instance_alias, username), cookie)

    async def session(self, token: str) -> AgentSession | None:
        """The live session of a session-cookie token, or None."""
        async with self.storage.transaction() as uow:
            return await live_session(uow, hash_token(token), COOKIE)

    async def issue_socket_ticket(self, who: AgentSession, seconds: float) -> tuple[str, datetime]:
        """A ticket for the agent's own websocket (``/connect/agent-ws``), valid ``seconds``, and its expiry."""
        ticket = new_token()
        now = utcnow()
        expires = now + timedelta(seconds=seconds)
        async with self.storage.transaction() as uow:
            await uow.sessions.add(hash_token(ticket), AgentSession(AGENT_SOCKET, who.instance_id, who.user_id,
                                                                     now, expires))
        return ticket, expires

    async def socket_session(self, ticket: str | None) -> AgentSession | None:
        """The agent an agent-socket ticket was issued to, while it is valid; None otherwise."""
        if not ticket:
            return None
        async with self.storage.transaction() as uow:
            return await live_session(uow, hash_token(ticket), AGENT_SOCKET)

    async def member(self, session_token: str) -> Member | None:
        """The signed-in user of a live session cookie as a caller (the admin console's), with the permissions its
        security profiles grant now; None without a live session or when its user is gone."""
        async with self.storage.transaction() as uow:
            session = await live_session(uow, hash_token(session_token), COOKIE)
            user = await uow.resources.find(User, session.instance_id, session.user_id) if session else None
            return await member_of(uow, user) if user is not None else None

    async def issue_access_token(
        self, session_token: str, instance: str | None = None
    ) -> tuple[str, datetime] | None:
        """A new CTI access token and its expiry (never after the session's), or None without a live session.

        ``instance`` (an alias or id, from a per-instance CCP) must be the session's instance, else None: the CCP
        of one instance never runs on an agent of another.
        """
        key = hash_token(session_token)
        async with self.storage.transaction() as uow:
            session = await live_session(uow, key, COOKIE)
            if session is None or (instance is not None and not await self._is_instance(uow, session, instance)):
                return None
            now = utcnow()
            expires = min(now + timedelta(seconds=self.access_seconds), session.expires)
            token = f"{key}.{new_token()}"
            access = AgentSession(ACCESS, session.instance_id, session.user_id, now, expires)
            await uow.sessions.add(hash_token(token), access)
        return token, expires

    async def resolve_agent(self, token: str) -> AgentSession | None:
        """The CTI API's caller: the live access token's session, or None; :class:`AccessDenied` when its user is
        gone or may not use the CCP (BasicAgentAccess). One transaction: every CTI request starts with it."""
        async with self.storage.transaction() as uow:
            who = await access_session(uow, token)
            if who is None:
                return None
            user = await uow.resources.find(User, who.instance_id, who.user_id)
            if user is None:
                raise AccessDenied("This user no longer exists.")
            allow(await member_of(uow, user), who.instance_id, "UseCcp")
        return who

    async def logout(self, session_token: str) -> None:
        """End the session; the access tokens it issued stop working with it."""
        async with self.storage.transaction() as uow:
            await uow.sessions.delete(hash_token(session_token))

    async def purge(self, now: datetime | None = None) -> None:
        """Delete expired sessions and access tokens."""
        async with self.storage.transaction() as uow:
            await uow.sessions.delete_expired(now or utcnow())

    async def _find_user(self, alias: str, username: str) -> User | None:
        if not _usable(username, MAX_USERNAME) or (alias and not _usable(alias, MAX_ALIAS)):
            return None
        async with self.storage.transaction() as uow:
            if alias:
                instance = await uow.instances.find_by_alias(alias)
            else:
                found = await uow.instances.list(None, IMPLICIT_INSTANCE_SCAN)
                instance = found[0] if len(found) == 1 else None
            if instance is None:
                return None
            return await uow.resources.find_by_name(User, instance.id, username)

    async def _is_instance(self, uow: UnitOfWork, session: AgentSession, instance: str) -> bool:
        if not _usable(instance, MAX_ALIAS):
            return False
        found = await uow.instances.find_by_alias(instance) or await uow.instances.find(instance)
        return found is not None and found.id == session.instance_id

    async def _dummy(self) -> str:
        """A hash of a random password made with the same settings as real ones (made once, then kept)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.passwords.hash(new_token())
        return self._dummy_hash

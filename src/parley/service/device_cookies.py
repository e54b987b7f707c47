"""Device cookies (OWASP's answer to lock-out attacks): a browser that signed an agent in is known again later.

A successful sign-in hands the browser an entry ``d1.<instance id>.<expires>.<device>.<who>.<mac>``: ``who`` is a
hash of the account's throttle key (instance alias + username, :func:`parley.service.signin_throttle.user_key`),
``device`` a random id, ``expires`` Unix seconds, and ``mac`` an HMAC of the rest under the instance's secret
(kept in storage, so every node of a cluster checks what any node issued). One cookie holds the entries of the
last :data:`MAX_ENTRIES` accounts signed in on that browser, newest first.

A sign-in that presents a valid, unexpired entry for its own account is throttled under that entry's device id
instead of the username and the address (:class:`parley.service.signin_throttle.SigninThrottle`): an attacker
guessing an agent's password cannot keep that agent out of a browser they have used before. Forged, altered,
expired entries and entries of another account give nothing.

Instance secrets are cached once read (they never change once set). Entries naming an instance not in the cache
cost a storage read each, at most :data:`LOOKUPS_PER_SECOND` a second per process; beyond that they are treated
as invalid, so forged cookies cannot turn a sign-in flood into a database flood.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from parley.domain.ids import derived_token, new_token
from parley.service.agent_steps import instance_secret_txn
from parley.service.ports import Storage

# How long a browser stays known: a month, renewed by every sign-in, so an agent who works most weeks keeps it
# and a copied cookie stops counting within a month.
LIFETIME_SECONDS = 30 * 24 * 3600
# Accounts one browser remembers (agents sharing a workstation by shift); the oldest entry is dropped first.
MAX_ENTRIES = 4
# An entry is about 140 characters; a longer cookie is not one Parley wrote and is ignored unread.
MAX_COOKIE_CHARS = 160 * MAX_ENTRIES
# Version tag of the entry format, so a future format can be told apart.
VERSION = "d1"
# Separates a cookie's entries: not used by base64url, UUIDs or numbers, and allowed in a cookie value unquoted.
SEPARATOR = "~"
# Domain separation: the instance secret also derives agents' participant tokens (label ``participant:…``).
LABEL = "device-cookie\x00"
# Storage reads per second for entries whose instance secret is not cached (each a primary-key read).
LOOKUPS_PER_SECOND = 10.0
# Instance secrets kept in memory at most (instances are few; this only bounds a pathological case).
MAX_CACHED_SECRETS = 10_000
# Bytes of SHA-256 kept for ``who`` (128 bits: enough to tell accounts apart, not meant to be secret).
WHO_BYTES = 16
_ENTRY = re.compile(
    r"d1\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([0-9]{1,12})\."
    r"([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})"
)


def who_of(account_key: str) -> str:
    """The hash of an account's throttle key carried in its entries."""
    digest = hashlib.sha256(account_key.encode("utf-8", "surrogatepass")).digest()[:WHO_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class DeviceGrant:
    """One valid entry of a device cookie."""

    instance_id: str
    who: str  # :func:`who_of` the account it was issued to
    device: str  # the id its sign-ins are throttled under
    expires: int  # Unix seconds
    text: str  # the entry as the browser sent it


class DeviceCookies:
    """Issues and checks device cookie entries; built in ``app.py`` (through the auth service)."""

    def __init__(self, storage: Storage, *, lifetime: int = LIFETIME_SECONDS,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.storage = storage
        self.lifetime = lifetime
        self._clock = clock
        self._monotonic = monotonic
        self._secrets: dict[str, str] = {}
        self._lookups = LOOKUPS_PER_SECOND
        self._lookups_at = monotonic()

    async def grants(self, cookie: str) -> list[DeviceGrant]:
        """The valid, unexpired entries of a device cookie's value (none for anything else)."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return []
        now = int(self._clock())
        found: list[DeviceGrant] = []
        for text in cookie.split(SEPARATOR)[:MAX_ENTRIES]:
            match = _ENTRY.fullmatch(text)
            if match is None or int(match.group(2)) <= now:
                continue
            instance_id, expires, device, who, mac = match.groups()
            secret = await self._secret(instance_id)
            if secret and hmac.compare_digest(mac, self._mac(secret, text.rsplit(".", 1)[0])):
                found.append(DeviceGrant(instance_id, who, device, int(expires), text))
        return found

    async def issue(self, instance_id: str, account_key: str, cookie: str) -> str:
        """A new cookie value: a fresh entry for this account, then the browser's other valid entries."""
        async with self.storage.transaction() as uow:
            secret = await instance_secret_txn(uow, instance_id)
        self._remember(instance_id, secret)
        who = who_of(account_key)
        payload = f"{VERSION}.{instance_id}.{int(self._clock()) + self.lifetime}.{new_token(16)}.{who}"
        entry = f"{payload}.{self._mac(secret, payload)}"
        others = [grant.text for grant in await self.grants(cookie) if grant.who != who]
        return SEPARATOR.join([entry, *others][:MAX_ENTRIES])

    @staticmethod
    def _mac(secret: str, payload: str) -> str:
        return derived_token(secret.encode(), LABEL + payload)

    async def _secret(self, instance_id: str) -> str | None:
        cached = self._secrets.get(instance_id)
        if cached is not None:
            return cached
        now = self._monotonic()
        self._lookups = min(LOOKUPS_PER_SECOND, self._lookups + (now - self._lookups_at) * LOOKUPS_PER_SECOND)
        self._lookups_at = now
        if self._lookups < 1.0:
            return None
        self._lookups -= 1.0
        async with self.storage.transaction() as uow:
            instance = await uow.instances.find(instance_id)
        if instance is None or not instance.secret:
            return None
        self._remember(instance_id, instance.secret)
        return instance.secret

    def _remember(self, instance_id: str, secret: str) -> None:
        if len(self._secrets) < MAX_CACHED_SECRETS:
            self._secrets[instance_id] = secret

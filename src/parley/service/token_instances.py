"""Which instance a bearer token belongs to, cached: rate limits of the Participant Service are per instance."""

from __future__ import annotations

from collections import OrderedDict

from parley.domain.ids import hash_token
from parley.service.credentials import instance_of_token
from parley.service.ports import Storage

# Tokens remembered; a token always belongs to the same instance, so entries never go stale.
CACHE_SIZE = 100_000


class TokenInstances:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._cache: OrderedDict[str, str] = OrderedDict()

    async def instance_of(self, token: str) -> str | None:
        digest = hash_token(token)
        if digest in self._cache:
            self._cache.move_to_end(digest)
            return self._cache[digest]
        async with self.storage.transaction() as uow:
            instance_id = await instance_of_token(uow, digest)
        if instance_id is None:
            return None
        self._cache[digest] = instance_id
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return instance_id

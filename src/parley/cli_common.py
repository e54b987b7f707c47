"""What the ``parley`` subcommands that work on a data directory share: running one action and reporting a
refusal as one line on stderr, and finding the instance a ``--instance`` flag names."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from parley.domain.callers import SYSTEM
from parley.domain.errors import DomainError, InvalidRequest, NotFound
from parley.service.instances import InstanceService
from parley.service.ports import StorageUnavailable


def run_reporting(command: str, action: Coroutine[Any, Any, int]) -> int:
    """Run ``action``; 1 with the reason on stderr (prefixed ``parley COMMAND:``) when it is refused."""
    try:
        return asyncio.run(action)
    except DomainError as exc:
        print(f"parley {command}: {exc.message}", file=sys.stderr)
    except (StorageUnavailable, ValueError, OSError) as exc:
        print(f"parley {command}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


async def instance_id_of(instances: InstanceService, ref: str | None, missing: str) -> str:
    """The id of the instance ``ref`` names (alias or id); without ``ref``, the only instance there is, else
    :class:`InvalidRequest` with ``missing``."""
    if ref:
        found = await instances.find_instance(ref)
        if found is None:
            raise NotFound(f"There is no instance with the alias or id '{ref[:100]}'.")
        return found.id
    listed, _ = await instances.list_instances(SYSTEM, None, 2)
    if len(listed) != 1:
        raise InvalidRequest(missing)
    return listed[0].id

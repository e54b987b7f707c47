"""Reads every use case shares: an instance or a resource by id, raising NotFound with a clear message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from parley.domain.errors import NotFound
from parley.domain.instance import Instance
from parley.domain.resources import Resource
from parley.service.paging import decode_token, page_of, paginate
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

R = TypeVar("R", bound=Resource)

# How each resource kind is named in messages and in ResourceNotFoundException.ResourceType.
LABELS: dict[str, str] = {
    "hours_of_operation": "Hours of operation",
    "security_profile": "Security profile",
    "routing_profile": "Routing profile",
    "queue": "Queue",
    "user": "User",
    "quick_connect": "Quick connect",
    "contact_flow": "Contact flow",
    "agent_status": "Agent status",
}


def instance_id_of(value: str) -> str:
    """Connect accepts an instance id or its ARN wherever an InstanceId goes."""
    if value.startswith("arn:") and "instance/" in value:
        return value.split("instance/", 1)[1].split("/", 1)[0]
    return value


async def get_instance(uow: UnitOfWork, instance_id: str, *, for_update: bool = False) -> Instance:
    iid = instance_id_of(instance_id)
    found = await uow.instances.find(iid, for_update=for_update)
    if found is None:
        raise NotFound(f"Instance {iid} was not found.", resource_type="INSTANCE", resource_id=iid)
    return found


async def get_resource(uow: UnitOfWork, kind: type[R], instance_id: str, resource_id: str) -> R:
    found = await uow.resources.find(kind, instance_id, resource_id)
    if found is None:
        label = LABELS.get(kind.KIND, kind.KIND)
        raise NotFound(
            f"{label} {resource_id} was not found in instance {instance_id}.",
            resource_type=kind.KIND.upper(), resource_id=resource_id,
        )
    return found


async def get_in_instance(storage: Storage, kind: type[R], instance_id: str, resource_id: str) -> R:
    """One resource of an instance (Describe* operations)."""
    async with storage.transaction() as uow:
        instance = await get_instance(uow, instance_id)
        return await get_resource(uow, kind, instance.id, resource_id)


async def list_in_instance(
    storage: Storage, kind: type[R], instance_id: str, token: str | None, limit: int,
    keep: Callable[[R], bool] | None = None,
) -> tuple[list[R], str | None]:
    """A page of an instance's resources of one kind, by name (List* operations): read a page at a time from
    storage, or all of them when only those ``keep`` takes are listed."""
    after = decode_token(token)
    async with storage.transaction() as uow:
        instance = await get_instance(uow, instance_id)
        if keep is None:
            return page_of(await uow.resources.list(kind, instance.id, after, limit + 1), limit, _position)
        everything = await uow.resources.all(kind, instance.id)
    return paginate([r for r in everything if keep(r)], token, limit, _position)


def _position(resource: Resource) -> tuple[str, str]:
    return resource.sort_key, resource.id

"""Use cases for instances: create (with the built-in resources), attributes, approved origins."""

from __future__ import annotations

from dataclasses import replace

import idna

from parley.domain.audit import Subject
from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.errors import Duplicate, InvalidParameter, InvalidRequest
from parley.domain.ids import new_id, new_token
from parley.domain.instance import Instance, check_alias, frame_sources, normalize_origin
from parley.domain.permissions import BUILTIN_SECURITY_PROFILES
from parley.domain.resources import (
    AgentStatus,
    ContactFlow,
    HoursOfOperation,
    MediaConcurrency,
    Queue,
    Resource,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
)
from parley.service.access import allow
from parley.service.audit import record_txn
from parley.service.lookups import get_instance, instance_id_of
from parley.service.paging import decode_token, page_of, paginate
from parley.service.ports import Storage

BASIC_QUEUE = "BasicQueue"
BASIC_ROUTING_PROFILE = "Basic Routing Profile"
SAMPLE_INBOUND_FLOW = "Sample inbound flow"
AGENT_TRANSFER_FLOW = "Default agent transfer"
QUEUE_TRANSFER_FLOW = "Default queue transfer"

# Longest alias or id a per-instance CCP URL may name: the width of the instances table's id and alias columns.
MAX_INSTANCE_REF = 64
# Chat concurrency of the built-in routing profile (Connect allows 1-10).
BASIC_CHAT_CONCURRENCY = 3


def idna_host(host: str) -> str:
    """A host name in the ASCII (punycode) form browsers put in an origin: IDNA with UTS #46 mapping,
    non-transitional, as Chromium and Firefox do (``中文.example`` -> ``xn--fiq228c.example``).

    Raises ValueError (``idna.IDNAError``) for a name that is not a valid internationalized domain name.
    """
    return str(idna.encode(host, uts46=True, transitional=False, std3_rules=True).decode("ascii"))


def builtin_resources(instance_id: str) -> list[Resource]:
    """What a new instance starts with, like a new Connect instance."""
    now = utcnow()
    hours = HoursOfOperation(instance_id, new_id(), "Basic Hours", now, description="Open around the clock")
    queue = Queue(
        instance_id, new_id(), BASIC_QUEUE, now, description="A simple, basic queue.",
        hours_of_operation_id=hours.id,
    )
    flows = [
        ContactFlow(instance_id, new_id(), SAMPLE_INBOUND_FLOW, now, flow_type="CONTACT_FLOW",
                    description="Routes a chat to BasicQueue.", target_queue_id=queue.id),
        ContactFlow(instance_id, new_id(), AGENT_TRANSFER_FLOW, now, flow_type="AGENT_TRANSFER",
                    description="Transfers the contact to the agent of the quick connect."),
        ContactFlow(instance_id, new_id(), QUEUE_TRANSFER_FLOW, now, flow_type="QUEUE_TRANSFER",
                    description="Transfers the contact to the queue of the quick connect."),
        ContactFlow(instance_id, new_id(), "Default customer queue", now, flow_type="CUSTOMER_QUEUE",
                    description="What a customer hears or reads while waiting in a queue."),
        ContactFlow(instance_id, new_id(), "Default agent whisper", now, flow_type="AGENT_WHISPER",
                    description="What an agent hears before being connected."),
    ]
    profile = RoutingProfile(
        instance_id, new_id(), BASIC_ROUTING_PROFILE, now, description="A simple, basic routing profile.",
        default_outbound_queue_id=queue.id, builtin=True,
        media_concurrencies=(
            MediaConcurrency("VOICE", 1), MediaConcurrency("CHAT", BASIC_CHAT_CONCURRENCY),
            MediaConcurrency("TASK", 1),
        ),
        queue_configs=tuple(RoutingQueueConfig(queue.id, ch, 1, 0) for ch in ("VOICE", "CHAT", "TASK")),
    )
    security = [
        SecurityProfile(instance_id, new_id(), name, now, description=desc, permissions=perms, builtin=True)
        for name, (desc, perms) in BUILTIN_SECURITY_PROFILES.items()
    ]
    statuses = [
        AgentStatus(instance_id, new_id(), "Available", now, status_type="ROUTABLE", display_order=1),
        AgentStatus(instance_id, new_id(), "Offline", now, status_type="OFFLINE", display_order=2),
    ]
    return [hours, queue, *flows, profile, *security, *statuses]


class InstanceService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create_instance(
        self, caller: Caller, alias: str, identity_management_type: str, inbound: bool, outbound: bool,
        tags: dict[str, str] | None = None,
    ) -> Instance:
        allow(caller, None, "CreateInstance")
        check_alias(alias)
        async with self.storage.transaction() as uow:
            if await uow.instances.find_by_alias(alias) is not None:
                raise Duplicate(f"An instance with alias '{alias}' already exists.")
            instance = Instance(
                id=new_id(), alias=alias, identity_management_type=identity_management_type,
                created_time=utcnow(), inbound_calls_enabled=inbound, outbound_calls_enabled=outbound,
                tags=dict(tags or {}), secret=new_token(),
            )
            instance = instance.with_attribute("INBOUND_CALLS", str(inbound).lower())
            instance = instance.with_attribute("OUTBOUND_CALLS", str(outbound).lower())
            await uow.instances.add(instance)
            for resource in builtin_resources(instance.id):
                await uow.resources.add(resource)
            await record_txn(uow, caller, "CreateInstance", _settings(instance), f"Alias {alias}")
        return instance

    async def list_instances(
        self, caller: Caller, token: str | None, limit: int
    ) -> tuple[list[Instance], str | None]:
        allow(caller, None, "ListInstances")
        after = decode_token(token)
        async with self.storage.transaction() as uow:
            rows = await uow.instances.list(after, limit + 1)
        return page_of(rows, limit, lambda i: (i.created_time.isoformat(), i.id))

    async def get_instance(self, caller: Caller, instance_id: str) -> Instance:
        allow(caller, instance_id, "DescribeInstance")
        async with self.storage.transaction() as uow:
            return await get_instance(uow, instance_id)

    async def list_attributes(
        self, caller: Caller, instance_id: str, token: str | None, limit: int
    ) -> tuple[list[tuple[str, str]], str | None]:
        """A page of the instance's attributes (name, value), by name."""
        allow(caller, instance_id, "ListInstanceAttributes")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
        return paginate(sorted(instance.all_attributes()), token, limit, lambda a: (a[0], a[0]))

    async def list_origins(
        self, caller: Caller, instance_id: str, token: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """A page of the instance's approved origins, sorted."""
        allow(caller, instance_id, "ListApprovedOrigins")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
        return paginate(sorted(instance.approved_origins), token, limit, lambda o: (o, o))

    async def find_instance_by_alias(self, alias: str) -> Instance | None:
        async with self.storage.transaction() as uow:
            return await uow.instances.find_by_alias(alias)

    async def find_instance(self, alias_or_id: str) -> Instance | None:
        """The instance named by its alias or its id (as a per-instance CCP URL names it), or None."""
        if not alias_or_id or len(alias_or_id) > MAX_INSTANCE_REF or "\x00" in alias_or_id:
            return None
        async with self.storage.transaction() as uow:
            found = await uow.instances.find_by_alias(alias_or_id)
            return found if found is not None else await uow.instances.find(alias_or_id)

    async def set_attribute(self, caller: Caller, instance_id: str, name: str, value: str) -> Instance:
        allow(caller, instance_id, "UpdateInstanceAttribute")
        async with self.storage.transaction() as uow:
            instance = (await get_instance(uow, instance_id, for_update=True)).with_attribute(name, value)
            await uow.instances.update(instance)
            await record_txn(uow, caller, "UpdateInstanceAttribute", _settings(instance), f"{name} = {value}")
            return instance

    async def set_tag(self, caller: Caller, instance_id: str, key: str, value: str) -> Instance:
        allow(caller, instance_id, "TagInstance")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id, for_update=True)
            instance = replace(instance, tags={**instance.tags, key: value})
            await uow.instances.update(instance)
            await record_txn(uow, caller, "TagInstance", _settings(instance), f"Tag {key} = {value}")
            return instance

    async def set_conference_cap(self, caller: Caller, instance_id: str, cap: int) -> Instance:
        allow(caller, instance_id, "SetConferenceCap")
        if not 2 <= cap <= 6:
            raise InvalidRequest("The conference cap must be between 2 and 6 participants.")
        async with self.storage.transaction() as uow:
            instance = replace(await get_instance(uow, instance_id, for_update=True), conference_cap=cap)
            await uow.instances.update(instance)
            await record_txn(uow, caller, "SetConferenceCap", _settings(instance), f"Conference cap {cap}")
            return instance

    async def associate_origin(self, caller: Caller, instance_id: str, origin: str) -> Instance:
        """Approve ``origin`` (strictly ``scheme://host[:port]``, an IDN host kept in punycode form)."""
        allow(caller, instance_id, "AssociateApprovedOrigin")
        normalized = normalize_origin(origin, idna_host)
        async with self.storage.transaction() as uow:
            instance = (await get_instance(uow, instance_id, for_update=True)).with_origin(normalized)
            await uow.instances.update(instance)
            await record_txn(uow, caller, "AssociateApprovedOrigin",
                             Subject(instance.id, "approved_origin", normalized))
            return instance

    async def disassociate_origin(self, caller: Caller, instance_id: str, origin: str) -> Instance:
        allow(caller, instance_id, "DisassociateApprovedOrigin")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id, for_update=True)
            try:
                normalized = normalize_origin(origin, idna_host)
            except InvalidParameter:
                normalized = origin
            before = instance.approved_origins
            instance = instance.without_origin(normalized).without_origin(origin)
            await uow.instances.update(instance)
            for removed in (o for o in before if o not in instance.approved_origins):
                await record_txn(uow, caller, "DisassociateApprovedOrigin",
                                 Subject(instance.id, "approved_origin", removed))
            return instance

    async def is_origin_approved(self, instance_id: str, origin: str) -> bool:
        async with self.storage.transaction() as uow:
            instance = await uow.instances.find(instance_id_of(instance_id))
        return instance is not None and origin in frame_sources(instance.approved_origins, idna_host)


def _settings(instance: Instance) -> Subject:
    """The instance's settings as the audit trail names them."""
    return Subject(instance.id, "instance", instance.id, instance.alias or instance.id)


def framing_origins(instance: Instance) -> list[str]:
    """The instance's approved origins fit for a CSP ``frame-ancestors`` list (each re-validated; values an older
    version stored that are not origins are skipped, IDN hosts in punycode form)."""
    return frame_sources(instance.approved_origins, idna_host)


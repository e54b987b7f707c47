"""Use cases for quick connects (and the flows they use) and their association with queues."""

from __future__ import annotations

from dataclasses import replace

from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.errors import Duplicate, InvalidParameter, InvalidRequest, LimitExceeded
from parley.domain.ids import new_id
from parley.domain.resources import QUICK_CONNECT_FLOW_TYPES, ContactFlow, Queue, QuickConnect, User
from parley.service.access import allow
from parley.service.audit import names_of, record_txn
from parley.service.inputs import MAX_DESCRIPTION, MAX_NAME, check_text
from parley.service.lookups import get_in_instance, get_instance, get_resource, list_in_instance
from parley.service.paging import paginate
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# Connect's quotas: quick connects per instance, quick connects per association call.
MAX_QUICK_CONNECTS = 100
MAX_QUEUE_QUICK_CONNECTS = 700


class QuickConnectConfig:
    """What a quick connect points at, as the caller gave it."""

    def __init__(
        self, quick_connect_type: str, *, user_id: str | None = None, queue_id: str | None = None,
        contact_flow_id: str | None = None, phone_number: str | None = None,
    ) -> None:
        self.quick_connect_type = quick_connect_type
        self.user_id = user_id
        self.queue_id = queue_id
        self.contact_flow_id = contact_flow_id
        self.phone_number = phone_number


async def _checked_config(uow: UnitOfWork, instance_id: str, config: QuickConnectConfig) -> dict[str, str | None]:
    """Check the config against the instance; the fields of a QuickConnect it sets."""
    kind = config.quick_connect_type
    fields: dict[str, str | None] = {
        "quick_connect_type": kind, "user_id": None, "queue_id": None, "contact_flow_id": None,
        "phone_number": None,
    }
    if kind == "USER":
        if not config.user_id or not config.contact_flow_id:
            raise InvalidParameter("A USER quick connect needs UserConfig with UserId and ContactFlowId.")
        await get_resource(uow, User, instance_id, config.user_id)
        fields.update(user_id=config.user_id, contact_flow_id=config.contact_flow_id)
    elif kind == "QUEUE":
        if not config.queue_id or not config.contact_flow_id:
            raise InvalidParameter("A QUEUE quick connect needs QueueConfig with QueueId and ContactFlowId.")
        queue = await get_resource(uow, Queue, instance_id, config.queue_id)
        if queue.queue_type != "STANDARD":
            raise InvalidParameter(f"Queue {queue.id} is an agent queue; use a USER quick connect for agents.")
        fields.update(queue_id=config.queue_id, contact_flow_id=config.contact_flow_id)
    elif kind == "PHONE_NUMBER":
        if not config.phone_number:
            raise InvalidParameter("A PHONE_NUMBER quick connect needs PhoneConfig with PhoneNumber.")
        fields.update(phone_number=config.phone_number)
    elif kind == "FLOW":
        if not config.contact_flow_id:
            raise InvalidParameter("A FLOW quick connect needs FlowConfig with ContactFlowId.")
        fields.update(contact_flow_id=config.contact_flow_id)
    if fields["contact_flow_id"]:
        flow = await get_resource(uow, ContactFlow, instance_id, fields["contact_flow_id"])
        wanted = QUICK_CONNECT_FLOW_TYPES.get(kind)
        if wanted and flow.flow_type != wanted:
            raise InvalidParameter(
                f"A {kind} quick connect needs a flow of type {wanted}; "
                f"flow '{flow.name}' is of type {flow.flow_type}."
            )
    return fields


async def _config_of(uow: UnitOfWork, qc: QuickConnect) -> str:
    """A quick connect's destination and flow, by name, as the audit trail records them."""
    if qc.quick_connect_type == "USER":
        target = "user " + await names_of(uow, User, qc.instance_id, [qc.user_id or ""])
    elif qc.quick_connect_type == "QUEUE":
        target = "queue " + await names_of(uow, Queue, qc.instance_id, [qc.queue_id or ""])
    else:
        target = f"phone number {qc.phone_number}"
    flow = await names_of(uow, ContactFlow, qc.instance_id, [qc.contact_flow_id]) if qc.contact_flow_id else ""
    return f"{qc.quick_connect_type} to {target}" + (f", flow {flow}" if flow else "")


class QuickConnectService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create(
        self, caller: Caller, instance_id: str, name: str, description: str | None, config: QuickConnectConfig,
        tags: dict[str, str] | None = None,
    ) -> QuickConnect:
        allow(caller, instance_id, "CreateQuickConnect")
        check_text(name, "a name", MAX_NAME)
        check_text(description, "the description", MAX_DESCRIPTION, required=False)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            fields = await _checked_config(uow, instance.id, config)
            if await uow.resources.find_by_name(QuickConnect, instance.id, name):
                raise Duplicate(f"A quick connect named '{name}' already exists.")
            if len(await uow.resources.all(QuickConnect, instance.id)) >= MAX_QUICK_CONNECTS:
                raise LimitExceeded(f"An instance can have at most {MAX_QUICK_CONNECTS} quick connects.")
            qc = QuickConnect(
                instance.id, new_id(), name, utcnow(), description=description, tags=dict(tags or {}),
                **fields,  # type: ignore[arg-type]
            )
            await uow.resources.add(qc)
            await record_txn(uow, caller, "CreateQuickConnect", qc, await _config_of(uow, qc))
            return qc

    async def get(self, caller: Caller, instance_id: str, qc_id: str) -> QuickConnect:
        allow(caller, instance_id, "DescribeQuickConnect")
        return await get_in_instance(self.storage, QuickConnect, instance_id, qc_id)

    async def list_quick_connects(
        self, caller: Caller, instance_id: str, types: list[str] | None, token: str | None, limit: int
    ) -> tuple[list[QuickConnect], str | None]:
        allow(caller, instance_id, "ListQuickConnects")
        return await list_in_instance(self.storage, QuickConnect, instance_id, token, limit,
                                      lambda q: not types or q.quick_connect_type in types)

    async def update_config(
        self, caller: Caller, instance_id: str, qc_id: str, config: QuickConnectConfig
    ) -> QuickConnect:
        allow(caller, instance_id, "UpdateQuickConnectConfig")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            qc = await get_resource(uow, QuickConnect, instance.id, qc_id)
            fields = await _checked_config(uow, instance.id, config)
            qc = replace(qc, modified=utcnow(), **fields)  # type: ignore[arg-type]
            await uow.resources.update(qc)
            await record_txn(uow, caller, "UpdateQuickConnectConfig", qc, await _config_of(uow, qc))
            return qc

    async def update_name(
        self, caller: Caller, instance_id: str, qc_id: str, name: str | None, description: str | None
    ) -> QuickConnect:
        allow(caller, instance_id, "UpdateQuickConnectName")
        if name is None and description is None:
            raise InvalidRequest("Give a Name, a Description or both.")
        if name is not None:
            check_text(name, "a name", MAX_NAME)
        check_text(description, "the description", MAX_DESCRIPTION, required=False)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            qc = await get_resource(uow, QuickConnect, instance.id, qc_id)
            if name is not None and name != qc.name:
                if await uow.resources.find_by_name(QuickConnect, instance.id, name):
                    raise Duplicate(f"A quick connect named '{name}' already exists.")
                qc = replace(qc, name=name)
            if description is not None:
                qc = replace(qc, description=description)
            qc = replace(qc, modified=utcnow())
            await uow.resources.update(qc)
            await record_txn(uow, caller, "UpdateQuickConnectName", qc)
            return qc

    async def delete(self, caller: Caller, instance_id: str, qc_id: str) -> None:
        allow(caller, instance_id, "DeleteQuickConnect")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            qc = await get_resource(uow, QuickConnect, instance.id, qc_id)
            for queue in await uow.resources.all(Queue, instance.id):
                if qc.id in queue.quick_connect_ids:
                    ids = tuple(i for i in queue.quick_connect_ids if i != qc.id)
                    await uow.resources.update(replace(queue, quick_connect_ids=ids))
            await uow.resources.delete(qc)
            await record_txn(uow, caller, "DeleteQuickConnect", qc)

    async def associate_with_queue(
        self, caller: Caller, instance_id: str, queue_id: str, qc_ids: list[str]
    ) -> Queue:
        allow(caller, instance_id, "AssociateQueueQuickConnects")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            queue = await get_resource(uow, Queue, instance.id, queue_id)
            for qc_id in qc_ids:
                await get_resource(uow, QuickConnect, instance.id, qc_id)
            ids = tuple(dict.fromkeys((*queue.quick_connect_ids, *qc_ids)))
            if len(ids) > MAX_QUEUE_QUICK_CONNECTS:
                raise LimitExceeded(f"A queue can have at most {MAX_QUEUE_QUICK_CONNECTS} quick connects.")
            queue = replace(queue, quick_connect_ids=ids, modified=utcnow())
            await uow.resources.update(queue)
            await record_txn(uow, caller, "AssociateQueueQuickConnects", queue,
                             "Quick connects added: " + await names_of(uow, QuickConnect, instance.id, qc_ids))
            return queue

    async def disassociate_from_queue(
        self, caller: Caller, instance_id: str, queue_id: str, qc_ids: list[str]
    ) -> Queue:
        allow(caller, instance_id, "DisassociateQueueQuickConnects")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            queue = await get_resource(uow, Queue, instance.id, queue_id)
            for qc_id in qc_ids:
                await get_resource(uow, QuickConnect, instance.id, qc_id)
            ids = tuple(i for i in queue.quick_connect_ids if i not in set(qc_ids))
            queue = replace(queue, quick_connect_ids=ids, modified=utcnow())
            await uow.resources.update(queue)
            await record_txn(uow, caller, "DisassociateQueueQuickConnects", queue,
                             "Quick connects removed: " + await names_of(uow, QuickConnect, instance.id, qc_ids))
            return queue

    async def of_queue(
        self, caller: Caller, instance_id: str, queue_id: str, token: str | None, limit: int
    ) -> tuple[list[QuickConnect], str | None, Queue]:
        allow(caller, instance_id, "ListQueueQuickConnects")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            queue = await get_resource(uow, Queue, instance.id, queue_id)
            qcs = [
                qc for qc_id in queue.quick_connect_ids
                if (qc := await uow.resources.find(QuickConnect, instance.id, qc_id)) is not None
            ]
        qcs.sort(key=lambda q: (q.sort_key, q.id))
        rows, next_token = paginate(qcs, token, limit, lambda q: (q.sort_key, q.id))
        return rows, next_token, queue

    # contact flows ---------------------------------------------------------------------------------
    async def list_flows(
        self, caller: Caller, instance_id: str, types: list[str] | None, token: str | None, limit: int
    ) -> tuple[list[ContactFlow], str | None]:
        allow(caller, instance_id, "ListContactFlows")
        return await list_in_instance(self.storage, ContactFlow, instance_id, token, limit,
                                      lambda f: not types or f.flow_type in types)

    async def get_flow(self, caller: Caller, instance_id: str, flow_id: str) -> ContactFlow:
        allow(caller, instance_id, "DescribeContactFlow")
        return await get_in_instance(self.storage, ContactFlow, instance_id, flow_id)

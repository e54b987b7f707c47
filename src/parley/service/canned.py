"""Use cases for canned responses: the instance's shared list (managed with the instance's settings permissions,
like its widgets) and each agent's own (managed by that agent from the workspace, with the CCP's permission).

An agent's workspace reads both lists at once (:meth:`CannedResponseService.for_agent`). A member of the instance
may act on its own list only; Parley itself and an operator (the command line, the Connect API's key holders) may
act on any agent's list of the instance. Every check runs before anything is written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from parley.domain.audit import Subject
from parley.domain.callers import SYSTEM, Caller, Member
from parley.domain.canned import CannedResponse, list_limit, validated
from parley.domain.clock import utcnow
from parley.domain.errors import AccessDenied, Duplicate, LimitExceeded, NotFound
from parley.domain.ids import looks_like_uuid, new_id
from parley.domain.resources import User
from parley.service.access import allow
from parley.service.audit import record_txn
from parley.service.lookups import get_instance, get_resource
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# Three replies every demo agent finds after typing "/" in the workspace's message box.
DEMO_RESPONSES = (
    ("Greeting", "Hello, thanks for contacting us! How can I help you today?"),
    ("One moment", "Thanks for waiting. Let me check that for you; it will take a moment."),
    ("Goodbye", "Is there anything else I can help you with? If not, have a great day!"),
)


@dataclass(frozen=True)
class AgentResponses:
    """What an agent's workspace offers: the instance's list and the agent's own, each by name."""

    shared: list[CannedResponse]
    own: list[CannedResponse]


async def _audit_txn(uow: UnitOfWork, caller: Caller, action: str, response: CannedResponse) -> None:
    """The instance's list is configuration: its changes go to the audit trail (an agent's own list does not)."""
    if response.owner_user_id is None:
        subject = Subject(response.instance_id, "canned_response", response.id, response.name)
        await record_txn(uow, caller, action, subject)


def _describe(owner_user_id: str | None) -> str:
    return "the instance's list" if owner_user_id is None else "your own list"


class CannedResponseService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _own(self, caller: Caller, instance_id: str, owner_user_id: str) -> None:
        """An agent's own list takes the CCP's permission, and a member may touch only its own. (The instance's list
        takes each use case's permission, asked where it is used.)"""
        allow(caller, instance_id, "UseCannedResponses")
        if isinstance(caller, Member) and caller.user.id != owner_user_id:
            raise AccessDenied(f"{caller.name} may use only the instance's canned responses and their own.")

    async def for_agent(self, caller: Member) -> AgentResponses:
        """The instance's canned responses and the signed-in agent's own."""
        allow(caller, caller.instance_id, "UseCannedResponses")
        async with self.storage.transaction() as uow:
            return AgentResponses(await uow.canned.all(caller.instance_id, None),
                                  await uow.canned.all(caller.instance_id, caller.user.id))

    async def list_responses(self, caller: Caller, instance_id: str, *,
                             owner_user_id: str | None = None) -> list[CannedResponse]:
        """One list by name: the instance's (``owner_user_id`` None) or one agent's."""
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            if owner_user_id is None:
                allow(caller, instance.id, "ListCannedResponses")
            else:
                self._own(caller, instance.id, owner_user_id)
                await get_resource(uow, User, instance.id, owner_user_id)
            return await uow.canned.all(instance.id, owner_user_id)

    async def create(self, caller: Caller, instance_id: str, name: str, text: str, *,
                     owner_user_id: str | None = None) -> CannedResponse:
        """A new response in the instance's list, or in agent ``owner_user_id``'s own."""
        now = utcnow()
        draft = validated(CannedResponse(id=new_id(), instance_id=instance_id, name=name, text=text,
                                         created_time=now, last_modified_time=now, owner_user_id=owner_user_id))
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            if owner_user_id is None:
                allow(caller, instance.id, "CreateCannedResponse")
            else:
                self._own(caller, instance.id, owner_user_id)
                await get_resource(uow, User, instance.id, owner_user_id)
            response = replace(draft, instance_id=instance.id)
            await self._check_name(uow, response)
            limit = list_limit(response.shared)
            if await uow.canned.count(instance.id, owner_user_id) >= limit:
                raise LimitExceeded(f"{_describe(owner_user_id).capitalize()} already has {limit} canned responses, "
                                    "the most it can hold; delete one first.")
            await uow.canned.add(response)
            await _audit_txn(uow, caller, "CreateCannedResponse", response)
        return response

    async def update(self, caller: Caller, response_id: str, *, name: str | None = None,
                     text: str | None = None) -> CannedResponse:
        """The response with a new name and/or text."""
        async with self.storage.transaction() as uow:
            before = await self._need(uow, response_id)
            if before.owner_user_id is None:
                allow(caller, before.instance_id, "UpdateCannedResponse")
            else:
                self._own(caller, before.instance_id, before.owner_user_id)
            response = validated(replace(before, name=before.name if name is None else name,
                                         text=before.text if text is None else text, last_modified_time=utcnow()))
            if response.name != before.name:
                await self._check_name(uow, response)
            await uow.canned.update(response)
            await _audit_txn(uow, caller, "UpdateCannedResponse", response)
        return response

    async def delete(self, caller: Caller, response_id: str) -> CannedResponse:
        """Delete the response; returns it as it was."""
        async with self.storage.transaction() as uow:
            response = await self._need(uow, response_id)
            if response.owner_user_id is None:
                allow(caller, response.instance_id, "DeleteCannedResponse")
            else:
                self._own(caller, response.instance_id, response.owner_user_id)
            await uow.canned.delete(response.id)
            await _audit_txn(uow, caller, "DeleteCannedResponse", response)
        return response

    async def describe(self, caller: Caller, response_id: str) -> CannedResponse:
        async with self.storage.transaction() as uow:
            response = await self._need(uow, response_id)
        if response.owner_user_id is None:
            allow(caller, response.instance_id, "ListCannedResponses")
        else:
            self._own(caller, response.instance_id, response.owner_user_id)
        return response

    async def _check_name(self, uow: UnitOfWork, response: CannedResponse) -> None:
        if await uow.canned.find_by_name(response.instance_id, response.owner_user_id, response.name) is not None:
            where = "The instance's list" if response.shared else "Your list"
            raise Duplicate(f"{where} already has a canned response named '{response.name}'.")

    async def _need(self, uow: UnitOfWork, response_id: str) -> CannedResponse:
        found = await uow.canned.find(response_id) if looks_like_uuid(response_id) else None
        if found is None:
            raise NotFound(f"Canned response {response_id[:100]} was not found.", resource_type="CANNED_RESPONSE",
                           resource_id=response_id[:100])
        return found


async def add_demo_responses(service: CannedResponseService, instance_id: str) -> None:
    """The demo instance's shared canned responses, each added unless a response has its name already."""
    async with service.storage.transaction() as uow:
        present = {r.name for r in await uow.canned.all(instance_id, None)}
    for name, text in DEMO_RESPONSES:
        if name not in present:
            with contextlib.suppress(Duplicate):  # another node added it meanwhile
                await service.create(SYSTEM, instance_id, name, text)

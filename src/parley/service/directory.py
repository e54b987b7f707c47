"""Use cases for users, security profiles, routing profiles and queues of an instance."""

from __future__ import annotations

from dataclasses import replace

from parley.domain.agents import Presence
from parley.domain.callers import Caller
from parley.domain.clock import utcnow
from parley.domain.errors import Duplicate, InvalidParameter
from parley.domain.ids import new_id
from parley.domain.resources import (
    HoursOfOperation,
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    QuickConnect,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
    check_media_concurrencies,
    merge_queue_configs,
)
from parley.service.access import allow
from parley.service.agent_steps import presence_txn
from parley.service.audit import names_of, record_txn
from parley.service.inputs import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_USERNAME,
    check_identity,
    check_password,
    check_queue_configs,
    check_text,
)
from parley.service.lookups import get_in_instance, get_instance, get_resource, list_in_instance
from parley.service.paging import paginate
from parley.service.passwords import Passwords
from parley.service.ports import Storage
from parley.service.repositories import UnitOfWork

# Connect's limits: security profiles per user, queues per routing profile.
MAX_SECURITY_PROFILES_PER_USER = 10


def _by_name(r: SecurityProfile | RoutingProfile | Queue | User) -> tuple[str, str]:
    return (r.sort_key, r.id)


class DirectoryService:
    def __init__(self, storage: Storage, passwords: Passwords) -> None:
        self.storage = storage
        self.passwords = passwords

    # security profiles -----------------------------------------------------------------------------
    async def create_security_profile(
        self, caller: Caller, instance_id: str, name: str, description: str, permissions: list[str],
        tags: dict[str, str] | None = None,
    ) -> SecurityProfile:
        allow(caller, instance_id, "CreateSecurityProfile")
        check_text(name, "a name", MAX_NAME)
        check_text(description, "the description", MAX_DESCRIPTION, required=False)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            if await uow.resources.find_by_name(SecurityProfile, instance.id, name):
                raise Duplicate(f"A security profile named '{name}' already exists.")
            profile = SecurityProfile(
                instance.id, new_id(), name, utcnow(), description=description,
                permissions=tuple(dict.fromkeys(permissions)), tags=dict(tags or {}),
            )
            await uow.resources.add(profile)
            await record_txn(uow, caller, "CreateSecurityProfile", profile)
            return profile

    async def get_security_profile(self, caller: Caller, instance_id: str, profile_id: str) -> SecurityProfile:
        allow(caller, instance_id, "DescribeSecurityProfile")
        return await get_in_instance(self.storage, SecurityProfile, instance_id, profile_id)

    async def list_security_profiles(
        self, caller: Caller, instance_id: str, token: str | None, limit: int
    ) -> tuple[list[SecurityProfile], str | None]:
        allow(caller, instance_id, "ListSecurityProfiles")
        return await list_in_instance(self.storage, SecurityProfile, instance_id, token, limit)

    async def security_profile_permissions(
        self, caller: Caller, instance_id: str, profile_id: str, token: str | None, limit: int
    ) -> tuple[list[str], str | None, SecurityProfile]:
        """A page of the profile's permissions, by name, and the profile."""
        allow(caller, instance_id, "ListSecurityProfilePermissions")
        profile = await get_in_instance(self.storage, SecurityProfile, instance_id, profile_id)
        rows, next_token = paginate(sorted(profile.permissions), token, limit, lambda p: (p, p))
        return rows, next_token, profile

    # queues ----------------------------------------------------------------------------------------
    async def create_queue(
        self, caller: Caller, instance_id: str, name: str, description: str, hours_id: str,
        max_contacts: int | None, quick_connect_ids: list[str], tags: dict[str, str] | None = None,
    ) -> Queue:
        allow(caller, instance_id, "CreateQueue")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            await get_resource(uow, HoursOfOperation, instance.id, hours_id)
            for qc_id in quick_connect_ids:
                await get_resource(uow, QuickConnect, instance.id, qc_id)
            if await uow.resources.find_by_name(Queue, instance.id, name):
                raise Duplicate(f"A queue named '{name}' already exists.")
            queue = Queue(
                instance.id, new_id(), name, utcnow(), description=description, hours_of_operation_id=hours_id,
                max_contacts=max_contacts, quick_connect_ids=tuple(dict.fromkeys(quick_connect_ids)),
                tags=dict(tags or {}),
            )
            await uow.resources.add(queue)
            await record_txn(uow, caller, "CreateQueue", queue)
            return queue

    async def get_queue(self, caller: Caller, instance_id: str, queue_id: str) -> Queue:
        allow(caller, instance_id, "DescribeQueue")
        return await get_in_instance(self.storage, Queue, instance_id, queue_id)

    async def list_queues(
        self, caller: Caller, instance_id: str, types: list[str] | None, token: str | None, limit: int
    ) -> tuple[list[Queue], str | None]:
        allow(caller, instance_id, "ListQueues")
        return await list_in_instance(self.storage, Queue, instance_id, token, limit,
                                      lambda q: not types or q.queue_type in types)

    # routing profiles ------------------------------------------------------------------------------
    async def _check_queue_configs(self, uow: UnitOfWork, instance_id: str, configs: list[RoutingQueueConfig]) -> None:
        for config in configs:
            await get_resource(uow, Queue, instance_id, config.queue_id)

    async def create_routing_profile(
        self, caller: Caller, instance_id: str, name: str, description: str, default_outbound_queue_id: str,
        media: list[MediaConcurrency], queue_configs: list[RoutingQueueConfig],
        tags: dict[str, str] | None = None,
    ) -> RoutingProfile:
        allow(caller, instance_id, "CreateRoutingProfile")
        check_text(name, "a name", MAX_NAME)
        check_text(description, "a description", MAX_DESCRIPTION, required=False)
        check_media_concurrencies(tuple(media))
        check_queue_configs(queue_configs)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            await get_resource(uow, Queue, instance.id, default_outbound_queue_id)
            await self._check_queue_configs(uow, instance.id, queue_configs)
            if await uow.resources.find_by_name(RoutingProfile, instance.id, name):
                raise Duplicate(f"A routing profile named '{name}' already exists.")
            profile = RoutingProfile(
                instance.id, new_id(), name, utcnow(), description=description,
                default_outbound_queue_id=default_outbound_queue_id, media_concurrencies=tuple(media),
                queue_configs=merge_queue_configs((), tuple(queue_configs)), tags=dict(tags or {}),
            )
            await uow.resources.add(profile)
            await record_txn(uow, caller, "CreateRoutingProfile", profile)
            return profile

    async def get_routing_profile(self, caller: Caller, instance_id: str, profile_id: str) -> RoutingProfile:
        allow(caller, instance_id, "DescribeRoutingProfile")
        return await get_in_instance(self.storage, RoutingProfile, instance_id, profile_id)

    async def describe_routing_profile(
        self, caller: Caller, instance_id: str, profile_id: str
    ) -> tuple[RoutingProfile, int]:
        """The routing profile and how many users of the instance it routes to (counted, not loaded)."""
        allow(caller, instance_id, "DescribeRoutingProfile")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            profile = await get_resource(uow, RoutingProfile, instance.id, profile_id)
            return profile, await uow.resources.count_users_of_routing_profile(instance.id, profile.id)

    async def list_routing_profiles(
        self, caller: Caller, instance_id: str, token: str | None, limit: int
    ) -> tuple[list[RoutingProfile], str | None]:
        allow(caller, instance_id, "ListRoutingProfiles")
        return await list_in_instance(self.storage, RoutingProfile, instance_id, token, limit)

    async def associate_routing_profile_queues(
        self, caller: Caller, instance_id: str, profile_id: str, configs: list[RoutingQueueConfig]
    ) -> RoutingProfile:
        allow(caller, instance_id, "AssociateRoutingProfileQueues")
        if not configs:
            raise InvalidParameter("QueueConfigs must list at least one queue.")
        check_queue_configs(configs)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            profile = await get_resource(uow, RoutingProfile, instance.id, profile_id)
            await self._check_queue_configs(uow, instance.id, configs)
            profile = replace(
                profile, queue_configs=merge_queue_configs(profile.queue_configs, tuple(configs)),
                modified=utcnow(),
            )
            await uow.resources.update(profile)
            added = [f"{await names_of(uow, Queue, instance.id, [c.queue_id])} ({c.channel}, priority {c.priority}, "
                     f"delay {c.delay})" for c in configs]
            await record_txn(uow, caller, "AssociateRoutingProfileQueues", profile, "Queues added: " + "; ".join(added))
            return profile

    async def routing_profile_queues(
        self, caller: Caller, instance_id: str, profile_id: str, token: str | None, limit: int
    ) -> tuple[list[tuple[RoutingQueueConfig, Queue]], str | None]:
        allow(caller, instance_id, "ListRoutingProfileQueues")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            profile = await get_resource(uow, RoutingProfile, instance.id, profile_id)
            rows = [(c, await get_resource(uow, Queue, instance.id, c.queue_id)) for c in profile.queue_configs]
        rows.sort(key=lambda r: (r[1].sort_key, r[0].queue_id + "/" + r[0].channel))
        return paginate(rows, token, limit, lambda r: (r[1].sort_key, r[0].queue_id + "/" + r[0].channel))

    # users -----------------------------------------------------------------------------------------
    async def _check_user_refs(
        self, uow: UnitOfWork, instance_id: str, security_profile_ids: list[str], routing_profile_id: str | None
    ) -> None:
        if len(security_profile_ids) > MAX_SECURITY_PROFILES_PER_USER:
            raise InvalidParameter(
                f"A user can have at most {MAX_SECURITY_PROFILES_PER_USER} security profiles."
            )
        for sp in security_profile_ids:
            await get_resource(uow, SecurityProfile, instance_id, sp)
        if routing_profile_id is not None:
            await get_resource(uow, RoutingProfile, instance_id, routing_profile_id)

    async def create_user(
        self, caller: Caller, instance_id: str, username: str, password: str | None, identity: IdentityInfo,
        phone: PhoneConfig, security_profile_ids: list[str], routing_profile_id: str,
        hierarchy_group_id: str | None = None, auto_accept_chat: bool = False, chat_acw_limit: int = 0,
        tags: dict[str, str] | None = None,
    ) -> User:
        allow(caller, instance_id, "CreateUser")
        check_text(username, "a username", MAX_USERNAME)
        if password:
            check_password(password)
        check_identity(identity)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            if instance.identity_management_type == "CONNECT_MANAGED" and not password:
                raise InvalidParameter(
                    "A password is required for users of an instance that manages its own identities."
                )
            await self._check_user_refs(uow, instance.id, security_profile_ids, routing_profile_id)
            if await uow.resources.find_by_name(User, instance.id, username):
                raise Duplicate(f"A user with username '{username}' already exists.")
        password_hash = await self.passwords.hash(password) if password else ""
        now = utcnow()
        user_id = new_id()
        agent_queue = Queue(
            instance.id, new_id(), None, now, queue_type="AGENT", description=f"Agent queue of {username}",
            owner_user_id=user_id,
        )
        user = User(
            instance.id, user_id, username, now, password_hash=password_hash, identity=identity, phone=phone,
            security_profile_ids=tuple(dict.fromkeys(security_profile_ids)),
            routing_profile_id=routing_profile_id, hierarchy_group_id=hierarchy_group_id,
            agent_queue_id=agent_queue.id, auto_accept_chat=auto_accept_chat, chat_acw_limit=chat_acw_limit,
            tags=dict(tags or {}),
        )
        async with self.storage.transaction() as uow:
            await self._check_user_refs(uow, instance.id, security_profile_ids, routing_profile_id)
            if await uow.resources.find_by_name(User, instance.id, username):
                raise Duplicate(f"A user with username '{username}' already exists.")
            await uow.resources.add(agent_queue)
            await uow.resources.add(user)
            await record_txn(uow, caller, "CreateUser", user)
        return user

    async def get_user(self, caller: Caller, instance_id: str, user_id: str) -> User:
        allow(caller, instance_id, "DescribeUser")
        return await get_in_instance(self.storage, User, instance_id, user_id)

    async def user_state(self, caller: Caller, instance_id: str, user_id: str) -> Presence:
        """The user's agent state right now and since when (Offline for an agent never signed in)."""
        allow(caller, instance_id, "DescribeUser")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            return await presence_txn(uow, await get_resource(uow, User, instance.id, user_id), utcnow())

    async def find_user_by_username(self, instance_id: str, username: str) -> User | None:
        async with self.storage.transaction() as uow:
            return await uow.resources.find_by_name(User, instance_id, username)

    async def list_users(
        self, caller: Caller, instance_id: str, token: str | None, limit: int
    ) -> tuple[list[User], str | None]:
        allow(caller, instance_id, "ListUsers")
        return await list_in_instance(self.storage, User, instance_id, token, limit)

    async def delete_user(self, caller: Caller, instance_id: str, user_id: str) -> None:
        allow(caller, instance_id, "DeleteUser")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            user = await get_resource(uow, User, instance.id, user_id)
            queue = await uow.resources.find(Queue, instance.id, user.agent_queue_id)
            if queue is not None:
                await uow.resources.delete(queue)
            await uow.resources.delete(user)
            await record_txn(uow, caller, "DeleteUser", user)

    async def update_user_identity(
        self, caller: Caller, instance_id: str, user_id: str, identity: IdentityInfo
    ) -> User:
        allow(caller, instance_id, "UpdateUserIdentityInfo")
        check_identity(identity)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            user = replace(await get_resource(uow, User, instance.id, user_id), identity=identity, modified=utcnow())
            await uow.resources.update(user)
            await record_txn(uow, caller, "UpdateUserIdentityInfo", user)
            return user

    async def update_user_routing_profile(
        self, caller: Caller, instance_id: str, user_id: str, profile_id: str
    ) -> User:
        allow(caller, instance_id, "UpdateUserRoutingProfile")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            user = await get_resource(uow, User, instance.id, user_id)
            await self._check_user_refs(uow, instance.id, [], profile_id)
            user = replace(user, routing_profile_id=profile_id, modified=utcnow())
            await uow.resources.update(user)
            await record_txn(uow, caller, "UpdateUserRoutingProfile", user,
                             "Routing profile " + await names_of(uow, RoutingProfile, instance.id, [profile_id]))
            return user

    async def update_user_security_profiles(
        self, caller: Caller, instance_id: str, user_id: str, profile_ids: list[str]
    ) -> User:
        allow(caller, instance_id, "UpdateUserSecurityProfiles")
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            user = await get_resource(uow, User, instance.id, user_id)
            await self._check_user_refs(uow, instance.id, profile_ids, None)
            user = replace(user, security_profile_ids=tuple(dict.fromkeys(profile_ids)), modified=utcnow())
            await uow.resources.update(user)
            await record_txn(uow, caller, "UpdateUserSecurityProfiles", user, "Security profiles " + await names_of(
                uow, SecurityProfile, instance.id, user.security_profile_ids))
            return user

    async def set_password(self, caller: Caller, instance_id: str, user_id: str, password: str) -> User:
        allow(caller, instance_id, "SetUserPassword")
        check_password(password)
        password_hash = await self.passwords.hash(password)
        async with self.storage.transaction() as uow:
            instance = await get_instance(uow, instance_id)
            user = replace(await get_resource(uow, User, instance.id, user_id), password_hash=password_hash)
            await uow.resources.update(user)
            await record_txn(uow, caller, "SetUserPassword", user)
            return user

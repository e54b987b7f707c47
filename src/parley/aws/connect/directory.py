"""Connect operations on users, security profiles, routing profiles and queues."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, ConnectContext, page_size
from parley.domain.errors import InvalidParameter, InvalidRequest
from parley.domain.resources import (
    IdentityInfo,
    MediaConcurrency,
    PhoneConfig,
    Queue,
    RoutingProfile,
    RoutingQueueConfig,
    SecurityProfile,
    User,
)


def _identity(raw: dict[str, Any] | None) -> IdentityInfo:
    raw = raw or {}
    return IdentityInfo(
        first_name=raw.get("FirstName"), last_name=raw.get("LastName"), email=raw.get("Email"),
        secondary_email=raw.get("SecondaryEmail"), mobile=raw.get("Mobile"),
    )


def _queue_configs(raw: list[dict[str, Any]] | None) -> list[RoutingQueueConfig]:
    return [
        RoutingQueueConfig(c["QueueReference"]["QueueId"], c["QueueReference"]["Channel"], c["Priority"], c["Delay"])
        for c in raw or []
    ]


def _media(raw: dict[str, Any]) -> MediaConcurrency:
    # The model leaves Concurrency optional, but a channel of a routing profile needs one.
    if raw.get("Concurrency") is None:
        raise InvalidParameter(f"MediaConcurrencies: give a Concurrency for channel {raw['Channel']}.")
    behavior = (raw.get("CrossChannelBehavior") or {}).get("BehaviorType", "ROUTE_CURRENT_CHANNEL_ONLY")
    return MediaConcurrency(raw["Channel"], raw["Concurrency"], behavior)


class DirectoryHandlers:
    def __init__(self, ctx: ConnectContext) -> None:
        self.ctx = ctx

    # security profiles -----------------------------------------------------------------------------
    def _security_summary(self, sp: SecurityProfile) -> dict[str, Any]:
        return {
            "Id": sp.id, "Arn": self.ctx.arn(sp.instance_id, sp.KIND, sp.id), "Name": sp.name,
            "Type": "AWS_MANAGED" if sp.builtin else "CUSTOMER_MANAGED", **self.ctx.modified(sp.modified),
        }

    async def create_security_profile(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        sp = await self.ctx.directory.create_security_profile(
            call.caller, p["InstanceId"], p["SecurityProfileName"], p.get("Description", ""),
            p.get("Permissions", []), p.get("Tags"),
        )
        return {"SecurityProfileId": sp.id, "SecurityProfileArn": self.ctx.arn(sp.instance_id, sp.KIND, sp.id)}

    async def describe_security_profile(self, call: ConnectCall) -> dict[str, Any]:
        sp = await self.ctx.directory.get_security_profile(
            call.caller, call.params["InstanceId"], call.params["SecurityProfileId"]
        )
        return {"SecurityProfile": {
            "Id": sp.id, "OrganizationResourceId": sp.instance_id, "Arn": self.ctx.arn(sp.instance_id, sp.KIND, sp.id),
            "SecurityProfileName": sp.name, "Description": sp.description, "Tags": sp.tags or None,
            "Type": "AWS_MANAGED" if sp.builtin else "CUSTOMER_MANAGED", **self.ctx.modified(sp.modified),
        }}

    async def list_security_profiles(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.directory.list_security_profiles(
            call.caller, call.params["InstanceId"], call.params.get("NextToken"), page_size(call.params, 1000)
        )
        return {"SecurityProfileSummaryList": [self._security_summary(sp) for sp in rows], "NextToken": token}

    async def list_security_profile_permissions(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token, sp = await self.ctx.directory.security_profile_permissions(
            call.caller, p["InstanceId"], p["SecurityProfileId"], p.get("NextToken"), page_size(p, 1000)
        )
        return {"Permissions": rows, "NextToken": token, **self.ctx.modified(sp.modified)}

    # queues ----------------------------------------------------------------------------------------
    def _queue_summary(self, q: Queue) -> dict[str, Any]:
        return {
            "Id": q.id, "Arn": self.ctx.arn(q.instance_id, q.KIND, q.id), "Name": q.name,
            "QueueType": q.queue_type, **self.ctx.modified(q.modified),
        }

    async def create_queue(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        q = await self.ctx.directory.create_queue(
            call.caller, p["InstanceId"], p["Name"], p.get("Description", ""), p["HoursOfOperationId"],
            p.get("MaxContacts"), p.get("QuickConnectIds", []), p.get("Tags"),
        )
        return {"QueueId": q.id, "QueueArn": self.ctx.arn(q.instance_id, q.KIND, q.id)}

    async def describe_queue(self, call: ConnectCall) -> dict[str, Any]:
        q = await self.ctx.directory.get_queue(call.caller, call.params["InstanceId"], call.params["QueueId"])
        return {"Queue": {
            "Name": q.name, "QueueArn": self.ctx.arn(q.instance_id, q.KIND, q.id), "QueueId": q.id,
            "Description": q.description or None, "HoursOfOperationId": q.hours_of_operation_id or None,
            "MaxContacts": q.max_contacts, "Status": q.status, "Tags": q.tags or None,
            **self.ctx.modified(q.modified),
        }}

    async def list_queues(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token = await self.ctx.directory.list_queues(
            call.caller, p["InstanceId"], p.get("QueueTypes"), p.get("NextToken"), page_size(p, 1000)
        )
        return {"QueueSummaryList": [self._queue_summary(q) for q in rows], "NextToken": token}

    # routing profiles ------------------------------------------------------------------------------
    async def create_routing_profile(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        media = [_media(m) for m in p["MediaConcurrencies"]]
        rp = await self.ctx.directory.create_routing_profile(
            call.caller, p["InstanceId"], p["Name"], p["Description"], p["DefaultOutboundQueueId"], media,
            _queue_configs(p.get("QueueConfigs")), p.get("Tags"),
        )
        return {"RoutingProfileArn": self.ctx.arn(rp.instance_id, rp.KIND, rp.id), "RoutingProfileId": rp.id}

    def _routing_profile(self, rp: RoutingProfile, users: int | None = None) -> dict[str, Any]:
        return {
            "InstanceId": rp.instance_id, "Name": rp.name,
            "RoutingProfileArn": self.ctx.arn(rp.instance_id, rp.KIND, rp.id),
            "RoutingProfileId": rp.id, "Description": rp.description,
            "MediaConcurrencies": [
                {"Channel": m.channel, "Concurrency": m.concurrency,
                 "CrossChannelBehavior": {"BehaviorType": m.cross_channel_behavior}}
                for m in rp.media_concurrencies
            ],
            "DefaultOutboundQueueId": rp.default_outbound_queue_id, "Tags": rp.tags or None,
            "NumberOfAssociatedQueues": len(rp.queue_ids),
            "NumberOfAssociatedUsers": users,
            "AssociatedQueueIds": rp.queue_ids,
            "IsDefault": rp.is_default,
            **self.ctx.modified(rp.modified),
        }

    async def describe_routing_profile(self, call: ConnectCall) -> dict[str, Any]:
        rp, users = await self.ctx.directory.describe_routing_profile(
            call.caller, call.params["InstanceId"], call.params["RoutingProfileId"]
        )
        return {"RoutingProfile": self._routing_profile(rp, users)}

    async def list_routing_profiles(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.directory.list_routing_profiles(
            call.caller, call.params["InstanceId"], call.params.get("NextToken"), page_size(call.params, 1000)
        )
        return {"RoutingProfileSummaryList": [
            {"Id": rp.id, "Arn": self.ctx.arn(rp.instance_id, rp.KIND, rp.id), "Name": rp.name,
             **self.ctx.modified(rp.modified)}
            for rp in rows
        ], "NextToken": token}

    async def associate_routing_profile_queues(self, call: ConnectCall) -> None:
        p = call.params
        if p.get("ManualAssignmentQueueConfigs"):  # a member Parley does not implement
            raise InvalidRequest("Parley does not support manual assignment queues.")
        await self.ctx.directory.associate_routing_profile_queues(
            call.caller, p["InstanceId"], p["RoutingProfileId"], _queue_configs(p.get("QueueConfigs"))
        )

    async def list_routing_profile_queues(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token = await self.ctx.directory.routing_profile_queues(
            call.caller, p["InstanceId"], p["RoutingProfileId"], p.get("NextToken"), page_size(p, 100)
        )
        return {"RoutingProfileQueueConfigSummaryList": [
            {"QueueId": q.id, "QueueArn": self.ctx.arn(q.instance_id, q.KIND, q.id), "QueueName": q.name or "",
             "Priority": c.priority, "Delay": c.delay, "Channel": c.channel}
            for c, q in rows
        ], "NextToken": token}

    # users -----------------------------------------------------------------------------------------
    def _user(self, u: User) -> dict[str, Any]:
        i = u.identity
        return {
            "Id": u.id, "Arn": self.ctx.arn(u.instance_id, u.KIND, u.id), "Username": u.username,
            "IdentityInfo": {"FirstName": i.first_name, "LastName": i.last_name, "Email": i.email,
                             "SecondaryEmail": i.secondary_email, "Mobile": i.mobile},
            "PhoneConfig": {"PhoneType": u.phone.phone_type, "AutoAccept": u.phone.auto_accept,
                            "AfterContactWorkTimeLimit": u.phone.after_contact_work_time_limit,
                            "DeskPhoneNumber": u.phone.desk_phone_number},
            "SecurityProfileIds": list(u.security_profile_ids), "RoutingProfileId": u.routing_profile_id,
            "HierarchyGroupId": u.hierarchy_group_id, "Tags": u.tags or None,
            "AutoAcceptConfigs": [{"Channel": "CHAT", "AutoAccept": u.auto_accept_chat}],
            "AfterContactWorkConfigs": [
                {"Channel": "CHAT", "AfterContactWorkConfig": {"AfterContactWorkTimeLimit": u.chat_acw_limit}}
            ],
            **self.ctx.modified(u.modified),
        }

    async def create_user(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        phone_raw = p.get("PhoneConfig") or {}
        phone = PhoneConfig(
            phone_type=phone_raw.get("PhoneType", "SOFT_PHONE"), auto_accept=phone_raw.get("AutoAccept", False),
            after_contact_work_time_limit=phone_raw.get("AfterContactWorkTimeLimit", 0),
            desk_phone_number=phone_raw.get("DeskPhoneNumber"),
        )
        auto_accept_chat = any(
            c.get("Channel") == "CHAT" and c.get("AutoAccept") for c in p.get("AutoAcceptConfigs", [])
        )
        acw = next((c["AfterContactWorkConfig"].get("AfterContactWorkTimeLimit", 0)
                    for c in p.get("AfterContactWorkConfigs", []) if c.get("Channel") == "CHAT"), 0)
        u = await self.ctx.directory.create_user(
            call.caller, p["InstanceId"], p["Username"], p.get("Password"), _identity(p.get("IdentityInfo")), phone,
            p["SecurityProfileIds"], p["RoutingProfileId"], p.get("HierarchyGroupId"),
            auto_accept_chat=auto_accept_chat, chat_acw_limit=acw, tags=p.get("Tags"),
        )
        return {"UserId": u.id, "UserArn": self.ctx.arn(u.instance_id, u.KIND, u.id)}

    async def describe_user(self, call: ConnectCall) -> dict[str, Any]:
        u = await self.ctx.directory.get_user(call.caller, call.params["InstanceId"], call.params["UserId"])
        return {"User": self._user(u)}

    async def list_users(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.directory.list_users(
            call.caller, call.params["InstanceId"], call.params.get("NextToken"), page_size(call.params, 100)
        )
        return {"UserSummaryList": [
            {"Id": u.id, "Arn": self.ctx.arn(u.instance_id, u.KIND, u.id), "Username": u.username,
             **self.ctx.modified(u.modified)}
            for u in rows
        ], "NextToken": token}

    async def delete_user(self, call: ConnectCall) -> None:
        await self.ctx.directory.delete_user(call.caller, call.params["InstanceId"], call.params["UserId"])

    async def update_user_identity_info(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.directory.update_user_identity(
            call.caller, p["InstanceId"], p["UserId"], _identity(p["IdentityInfo"])
        )

    async def update_user_routing_profile(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.directory.update_user_routing_profile(
            call.caller, p["InstanceId"], p["UserId"], p["RoutingProfileId"]
        )

    async def update_user_security_profiles(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.directory.update_user_security_profiles(
            call.caller, p["InstanceId"], p["UserId"], p["SecurityProfileIds"]
        )

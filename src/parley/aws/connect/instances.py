"""Connect operations on instances, instance attributes and approved origins."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, ConnectContext, page_size
from parley.domain.instance import Instance


class InstanceHandlers:
    def __init__(self, ctx: ConnectContext) -> None:
        self.ctx = ctx

    def _summary(self, instance: Instance) -> dict[str, Any]:
        return {
            "Id": instance.id,
            "Arn": self.ctx.account.instance_arn(instance.id),
            "IdentityManagementType": instance.identity_management_type,
            "InstanceAlias": instance.alias,
            "CreatedTime": instance.created_time,
            "ServiceRole": f"arn:aws:iam::{self.ctx.account.account_id}:role/aws-service-role/"
                           "connect.amazonaws.com/AWSServiceRoleForAmazonConnect",
            "InstanceStatus": instance.status,
            "InboundCallsEnabled": instance.inbound_calls_enabled,
            "OutboundCallsEnabled": instance.outbound_calls_enabled,
            "InstanceAccessUrl": f"{self.ctx.public_url}/connect/",
        }

    async def create_instance(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        instance = await self.ctx.instances.create_instance(
            call.caller, p.get("InstanceAlias") or "", p["IdentityManagementType"], p["InboundCallsEnabled"],
            p["OutboundCallsEnabled"], p.get("Tags"),
        )
        return {"Id": instance.id, "Arn": self.ctx.account.instance_arn(instance.id)}

    async def list_instances(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.instances.list_instances(
            call.caller, call.params.get("NextToken"), page_size(call.params, 10)
        )
        return {"InstanceSummaryList": [self._summary(i) for i in rows], "NextToken": token}

    async def describe_instance(self, call: ConnectCall) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.caller, call.params["InstanceId"])
        return {"Instance": {**self._summary(instance), "Tags": instance.tags or None}}

    async def describe_instance_attribute(self, call: ConnectCall) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.caller, call.params["InstanceId"])
        name = call.params["AttributeType"]
        return {"Attribute": {"AttributeType": name, "Value": instance.attribute(name)}}

    async def update_instance_attribute(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.instances.set_attribute(call.caller, p["InstanceId"], p["AttributeType"], p["Value"])

    async def list_instance_attributes(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.instances.list_attributes(
            call.caller, call.params["InstanceId"], call.params.get("NextToken"), page_size(call.params, 7)
        )
        return {"Attributes": [{"AttributeType": n, "Value": v} for n, v in rows], "NextToken": token}

    async def list_approved_origins(self, call: ConnectCall) -> dict[str, Any]:
        rows, token = await self.ctx.instances.list_origins(
            call.caller, call.params["InstanceId"], call.params.get("NextToken"), page_size(call.params, 25)
        )
        return {"Origins": rows, "NextToken": token}

    async def associate_approved_origin(self, call: ConnectCall) -> None:
        await self.ctx.instances.associate_origin(call.caller, call.params["InstanceId"], call.params["Origin"])

    async def disassociate_approved_origin(self, call: ConnectCall) -> None:
        await self.ctx.instances.disassociate_origin(call.caller, call.params["InstanceId"], call.params["Origin"])

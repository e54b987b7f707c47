"""Connect operations on instances, instance attributes and approved origins."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectContext, page_size
from parley.aws.restjson import Call
from parley.domain.instance import Instance
from parley.service.paging import paginate


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

    async def create_instance(self, call: Call) -> dict[str, Any]:
        p = call.params
        instance = await self.ctx.instances.create_instance(
            p.get("InstanceAlias") or "", p["IdentityManagementType"], p["InboundCallsEnabled"],
            p["OutboundCallsEnabled"], p.get("Tags"),
        )
        return {"Id": instance.id, "Arn": self.ctx.account.instance_arn(instance.id)}

    async def list_instances(self, call: Call) -> dict[str, Any]:
        rows, token = await self.ctx.instances.list_instances(call.params.get("NextToken"), page_size(call.params, 10))
        return {"InstanceSummaryList": [self._summary(i) for i in rows], "NextToken": token}

    async def describe_instance(self, call: Call) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.params["InstanceId"])
        return {"Instance": {**self._summary(instance), "Tags": instance.tags or None}}

    async def describe_instance_attribute(self, call: Call) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.params["InstanceId"])
        name = call.params["AttributeType"]
        return {"Attribute": {"AttributeType": name, "Value": instance.attribute(name)}}

    async def update_instance_attribute(self, call: Call) -> None:
        p = call.params
        await self.ctx.instances.set_attribute(p["InstanceId"], p["AttributeType"], p["Value"])

    async def list_instance_attributes(self, call: Call) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.params["InstanceId"])
        attributes = sorted(instance.all_attributes())
        rows, token = paginate(attributes, call.params.get("NextToken"), page_size(call.params, 7),
                               lambda a: (a[0], a[0]))
        return {"Attributes": [{"AttributeType": n, "Value": v} for n, v in rows], "NextToken": token}

    async def list_approved_origins(self, call: Call) -> dict[str, Any]:
        instance = await self.ctx.instances.get_instance(call.params["InstanceId"])
        rows, token = paginate(sorted(instance.approved_origins), call.params.get("NextToken"),
                               page_size(call.params, 25), lambda o: (o, o))
        return {"Origins": rows, "NextToken": token}

    async def associate_approved_origin(self, call: Call) -> None:
        await self.ctx.instances.associate_origin(call.params["InstanceId"], call.params["Origin"])

    async def disassociate_approved_origin(self, call: Call) -> None:
        await self.ctx.instances.disassociate_origin(call.params["InstanceId"], call.params["Origin"])

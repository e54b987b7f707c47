"""Connect operations on quick connects, their queue associations, and contact flows."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, ConnectContext, page_size
from parley.domain.resources import ContactFlow, QuickConnect
from parley.service.quick_connects import QuickConnectConfig


def _config(raw: dict[str, Any]) -> QuickConnectConfig:
    user = raw.get("UserConfig") or {}
    queue = raw.get("QueueConfig") or {}
    phone = raw.get("PhoneConfig") or {}
    flow = raw.get("FlowConfig") or {}
    kind = raw["QuickConnectType"]
    flow_id = {"USER": user, "QUEUE": queue, "FLOW": flow}.get(kind, {}).get("ContactFlowId")
    return QuickConnectConfig(
        kind, user_id=user.get("UserId"), queue_id=queue.get("QueueId"), contact_flow_id=flow_id,
        phone_number=phone.get("PhoneNumber"),
    )


class QuickConnectHandlers:
    def __init__(self, ctx: ConnectContext) -> None:
        self.ctx = ctx

    def _arn(self, qc: QuickConnect) -> str:
        return self.ctx.arn(qc.instance_id, qc.KIND, qc.id)

    def _summary(self, qc: QuickConnect) -> dict[str, Any]:
        return {"Id": qc.id, "Arn": self._arn(qc), "Name": qc.name, "QuickConnectType": qc.quick_connect_type,
                **self.ctx.modified(qc.modified)}

    def _config_out(self, qc: QuickConnect) -> dict[str, Any]:
        config: dict[str, Any] = {"QuickConnectType": qc.quick_connect_type}
        if qc.quick_connect_type == "USER":
            config["UserConfig"] = {"UserId": qc.user_id, "ContactFlowId": qc.contact_flow_id}
        elif qc.quick_connect_type == "QUEUE":
            config["QueueConfig"] = {"QueueId": qc.queue_id, "ContactFlowId": qc.contact_flow_id}
        elif qc.quick_connect_type == "PHONE_NUMBER":
            config["PhoneConfig"] = {"PhoneNumber": qc.phone_number}
        else:
            config["FlowConfig"] = {"ContactFlowId": qc.contact_flow_id}
        return config

    async def create_quick_connect(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        qc = await self.ctx.quick_connects.create(
            call.caller, p["InstanceId"], p["Name"], p.get("Description"), _config(p["QuickConnectConfig"]),
            p.get("Tags"),
        )
        return {"QuickConnectARN": self._arn(qc), "QuickConnectId": qc.id}

    async def describe_quick_connect(self, call: ConnectCall) -> dict[str, Any]:
        qc = await self.ctx.quick_connects.get(call.caller, call.params["InstanceId"], call.params["QuickConnectId"])
        return {"QuickConnect": {
            "QuickConnectARN": self._arn(qc), "QuickConnectId": qc.id, "Name": qc.name,
            "Description": qc.description, "QuickConnectConfig": self._config_out(qc), "Tags": qc.tags or None,
            **self.ctx.modified(qc.modified),
        }}

    async def list_quick_connects(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token = await self.ctx.quick_connects.list_quick_connects(
            call.caller, p["InstanceId"], p.get("QuickConnectTypes"), p.get("NextToken"), page_size(p, 100)
        )
        return {"QuickConnectSummaryList": [self._summary(qc) for qc in rows], "NextToken": token}

    async def update_quick_connect_config(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.quick_connects.update_config(
            call.caller, p["InstanceId"], p["QuickConnectId"], _config(p["QuickConnectConfig"])
        )

    async def update_quick_connect_name(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.quick_connects.update_name(
            call.caller, p["InstanceId"], p["QuickConnectId"], p.get("Name"), p.get("Description")
        )

    async def delete_quick_connect(self, call: ConnectCall) -> None:
        await self.ctx.quick_connects.delete(call.caller, call.params["InstanceId"], call.params["QuickConnectId"])

    async def associate_queue_quick_connects(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.quick_connects.associate_with_queue(
            call.caller, p["InstanceId"], p["QueueId"], p["QuickConnectIds"]
        )

    async def disassociate_queue_quick_connects(self, call: ConnectCall) -> None:
        p = call.params
        await self.ctx.quick_connects.disassociate_from_queue(
            call.caller, p["InstanceId"], p["QueueId"], p["QuickConnectIds"]
        )

    async def list_queue_quick_connects(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token, queue = await self.ctx.quick_connects.of_queue(
            call.caller, p["InstanceId"], p["QueueId"], p.get("NextToken"), page_size(p, 100)
        )
        return {"QuickConnectSummaryList": [self._summary(qc) for qc in rows], "NextToken": token,
                **self.ctx.modified(queue.modified)}

    # contact flows ---------------------------------------------------------------------------------
    def _flow_arn(self, f: ContactFlow) -> str:
        return self.ctx.arn(f.instance_id, f.KIND, f.id)

    async def list_contact_flows(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        rows, token = await self.ctx.quick_connects.list_flows(
            call.caller, p["InstanceId"], p.get("ContactFlowTypes"), p.get("NextToken"), page_size(p, 100)
        )
        return {"ContactFlowSummaryList": [
            {"Id": f.id, "Arn": self._flow_arn(f), "Name": f.name, "ContactFlowType": f.flow_type,
             "ContactFlowState": f.state, "ContactFlowStatus": f.status}
            for f in rows
        ], "NextToken": token}

    async def describe_contact_flow(self, call: ConnectCall) -> dict[str, Any]:
        f = await self.ctx.quick_connects.get_flow(call.caller, call.params["InstanceId"], call.params["ContactFlowId"])
        return {"ContactFlow": {
            "Arn": self._flow_arn(f), "Id": f.id, "Name": f.name, "Type": f.flow_type, "State": f.state,
            "Status": f.status, "Description": f.description, "Content": f.content, "Tags": f.tags or None,
            **self.ctx.modified(f.modified),
        }}

"""Connect operations of enhanced chat monitoring: MonitorContact."""

from __future__ import annotations

from typing import Any

from parley.aws.connect.context import ConnectCall, ConnectContext
from parley.service.monitoring import MonitorRequest


class MonitoringHandlers:
    def __init__(self, ctx: ConnectContext) -> None:
        self.ctx = ctx

    async def monitor_contact(self, call: ConnectCall) -> dict[str, Any]:
        p = call.params
        monitoring = await self.ctx.monitoring.monitor(call.caller, MonitorRequest(
            instance_id=p["InstanceId"], contact_id=p["ContactId"], user_id=p["UserId"],
            capabilities=p.get("AllowedMonitorCapabilities"), client_token=p.get("ClientToken"),
        ))
        return {"ContactId": monitoring.id,
                "ContactArn": self.ctx.arn(monitoring.instance_id, monitoring.KIND, monitoring.id)}

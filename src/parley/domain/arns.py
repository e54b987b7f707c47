"""Amazon Resource Names of Connect resources, in the formats of the AWS service reference."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    """Where an instance lives: the partition, region and account id written into ARNs."""

    region: str
    account_id: str
    partition: str = "aws"

    def instance_arn(self, instance_id: str) -> str:
        return f"arn:{self.partition}:connect:{self.region}:{self.account_id}:instance/{instance_id}"

    def arn(self, instance_id: str, kind: str, resource_id: str) -> str:
        """ARN of a resource inside an instance; ``kind`` is the ARN path word (``agent``, ``queue``, …)."""
        return f"{self.instance_arn(instance_id)}/{kind}/{resource_id}"


# The ARN path word of each resource kind, from the AWS service authorization reference.
ARN_WORDS: dict[str, str] = {
    "user": "agent",
    "queue": "queue",
    "quick_connect": "transfer-destination",
    "contact": "contact",
    "contact_flow": "contact-flow",
    "routing_profile": "routing-profile",
    "security_profile": "security-profile",
    "hours_of_operation": "operating-hours",
    "agent_status": "agent-state",
}


def parse_resource_arn(arn: str) -> tuple[str, str, str] | None:
    """Split ``arn:…:instance/{iid}/{word}/{id}`` into (instance id, word, id), or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "connect":
        return None
    path = parts[5].split("/")
    if len(path) != 4 or path[0] != "instance":
        return None
    return path[1], path[2], path[3]

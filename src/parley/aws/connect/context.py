"""What Connect handlers share: the services, the account ARNs are written for, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.aws.restjson import Call
from parley.domain.arns import ARN_WORDS, Account
from parley.domain.callers import Operator
from parley.service.chat import ChatService
from parley.service.contacts import ContactService
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.monitoring import MonitoringService
from parley.service.quick_connects import QuickConnectService

# Connect's default page size for listings that do not give MaxResults.
DEFAULT_PAGE = 100

# What a Connect handler gets: the caller is the SigV4 principal, passed to every use case.
ConnectCall = Call[Operator]


@dataclass(frozen=True)
class ConnectContext:
    account: Account
    public_url: str
    instances: InstanceService
    directory: DirectoryService
    quick_connects: QuickConnectService
    contacts: ContactService
    chat: ChatService
    monitoring: MonitoringService

    def arn(self, instance_id: str, kind: str, resource_id: str) -> str:
        return self.account.arn(instance_id, ARN_WORDS[kind], resource_id)

    def modified(self, when: datetime) -> dict[str, Any]:
        return {"LastModifiedTime": when, "LastModifiedRegion": self.account.region}


def page_size(params: dict[str, Any], default: int = DEFAULT_PAGE) -> int:
    return int(params.get("MaxResults") or default)

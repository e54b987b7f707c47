"""One handler per CTI operation the worker calls; quick connects arrive as StreamsJS endpoints."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, Protocol

from parley.aws.cti.api import CtiError, CtiHandler, opt_str, required_obj, required_str
from parley.aws.cti.snapshot import render_snapshot, version_of
from parley.aws.shapes import iso
from parley.domain.agents import STATUS_TYPES, AgentSession
from parley.domain.arns import Account, parse_resource_arn
from parley.domain.clock import utcnow
from parley.domain.permissions import OUTBOUND_CALL
from parley.domain.resources import Queue
from parley.service.agents import AgentService
from parley.service.chat import ChatService
from parley.service.monitoring import MonitoringService
from parley.service.ports import AgentSignals

# The longest a snapshot long poll is held (StreamsJS asks for 30 s and times out a little later).
MAX_POLL_SECONDS = 25.0
# A long poll that comes back with the version this node answered the agent with at most this long ago, with no
# poke for the agent since, waits for a poke before reading the snapshot (it would read the same one).
SAME_ANSWER_SECONDS = 2.0
# Agents whose last answer is remembered (the oldest are forgotten first; forgetting costs one read).
REMEMBERED_ANSWERS = 10_000
# Endpoint type of each quick connect type, as StreamsJS's EndpointType names them.
ENDPOINT_TYPES = {"USER": "agent", "QUEUE": "queue", "PHONE_NUMBER": "phone_number", "FLOW": "queue"}


class AgentWebsocketTickets(Protocol):
    """Where ``CreateTransport`` gets the agent websocket's URL (``parley.web.agent_socket.AgentSockets``): a port,
    so this edge does not depend on the web edge."""

    async def ticket_url(self, who: AgentSession) -> tuple[str, int, datetime]:
        """The URL with a fresh one-use ticket, its lifetime in seconds, and when the ticket expires."""
        ...


class CtiHandlers:
    def __init__(self, agents: AgentService, chat: ChatService, signals: AgentSignals, account: Account,
                 agent_websocket: AgentWebsocketTickets, monitoring: MonitoringService) -> None:
        self.monitoring = monitoring
        self.agents = agents
        self.chat = chat
        self.signals = signals
        self.account = account
        self.agent_websocket = agent_websocket
        # user id -> (the version of the snapshot last answered, the agent's poke count before it was read, when)
        self._answered: dict[str, tuple[str, int, float]] = {}

    def table(self) -> dict[str, CtiHandler]:
        return {
            "GetAgentSnapshot": self.get_agent_snapshot,
            "GetAgentConfiguration": self.get_agent_configuration,
            "GetAgentPermissions": self.get_agent_permissions,
            "GetAgentStates": self.get_agent_states,
            "PutAgentState": self.put_agent_state,
            "GetRoutingProfileQueues": self.get_routing_profile_queues,
            "GetEndpoints": self.get_endpoints,
            "GetDialableCountryCodes": self.get_dialable_country_codes,
            "CreateTransport": self.create_transport,
            "AcceptContact": self.accept_contact,
            "RejectContact": self.reject_contact,
            "AddNewConnection": self.add_new_connection,
            "CreateAdditionalConnection": self.add_new_connection,
            "TransferContact": self.transfer_contact,
            "DestroyConnection": self.destroy_connection,
            "ClearContact": self.clear_contact,
            "CompleteContact": self.complete_contact,
            "UpdateMonitorParticipantState": self.update_monitor_participant_state,
            "SendClientLogs": self.send_client_logs,
        }

    def _arn(self, who: AgentSession, word: str, resource_id: str) -> str:
        return self.account.arn(who.instance_id, word, resource_id)

    def _queue_arn(self, who: AgentSession, queue: Queue) -> str:
        """Agent queues have ARNs ending in ``queue/agent/{userId}``; StreamsJS finds the agent's id there."""
        if queue.queue_type == "AGENT" and queue.owner_user_id:
            return self._arn(who, "queue", f"agent/{queue.owner_user_id}")
        return self._arn(who, "queue", queue.id)

    async def _queue_ids(self, who: AgentSession, arns: list[Any]) -> list[str]:
        config = await self.agents.configuration(who)
        by_arn = {self._queue_arn(who, q): q.id for q in config.queues}
        return [by_arn[a] for a in arns if isinstance(a, str) and a in by_arn]

    async def get_agent_snapshot(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        token = opt_str(body, "nextToken")
        timeout = body.get("timeout")
        wait = MAX_POLL_SECONDS
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            wait = max(0.0, min(MAX_POLL_SECONDS, timeout / 1000.0))
        deadline = utcnow() + timedelta(seconds=wait)
        seen = self.signals.mark(who.user_id)
        if token is not None and wait > 0 and self._same_answer(who.user_id, token, seen):
            # A CCP asks again as soon as it has its answer; nothing about the agent changed since (no poke).
            await self.signals.wait(who.user_id, wait, since=seen)
        while True:
            seen = self.signals.mark(who.user_id)
            snapshot = render_snapshot(await self.agents.view(who), self.account, utcnow())
            version = version_of(snapshot)
            remaining = (deadline - utcnow()).total_seconds()
            if token != version or remaining <= 0:
                self._remember(who.user_id, version, seen)
                return {"snapshot": snapshot, "nextToken": version}
            await self.signals.wait(who.user_id, remaining, since=seen)

    def _same_answer(self, user_id: str, token: str, seen: int) -> bool:
        last = self._answered.get(user_id)
        return (last is not None and last[0] == token and last[1] == seen
                and time.monotonic() - last[2] < SAME_ANSWER_SECONDS)

    def _remember(self, user_id: str, version: str, seen: int) -> None:
        self._answered.pop(user_id, None)  # re-inserted last: the dict's order is oldest first
        self._answered[user_id] = (version, seen, time.monotonic())
        if len(self._answered) > REMEMBERED_ANSWERS:
            del self._answered[next(iter(self._answered))]

    async def get_agent_configuration(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        config = await self.agents.configuration(who)
        user, profile = config.user, config.profile
        default = config.default_queue
        return {"configuration": {
            "name": " ".join(x for x in (user.identity.first_name, user.identity.last_name) if x) or user.username,
            "username": user.username,
            "agentARN": self._arn(who, "agent", user.id),
            "softphoneEnabled": False,
            "softphoneAutoAccept": False,
            "extension": "",
            "routingProfile": {
                "name": profile.name,
                "routingProfileARN": self._arn(who, "routing-profile", profile.id),
                "defaultOutboundQueue": {"queueARN": self._queue_arn(who, default), "name": default.name}
                if default else None,
                "channelConcurrencyMap": {m.channel: m.concurrency for m in profile.media_concurrencies},
            },
            "agentPreferences": {"LANGUAGE": "en_US"},
        }}

    async def get_agent_permissions(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        config = await self.agents.configuration(who)
        permissions = ["outboundCall"] if OUTBOUND_CALL in config.permissions else []
        return {"permissions": permissions, "nextToken": None}

    async def get_agent_states(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        states = [
            {"agentStateARN": self._arn(who, "agent-state", s.id),
             "type": STATUS_TYPES.get(s.status_type, "not_routable"), "name": s.name, "startTimestamp": None}
            for s in await self.agents.states(who)
        ]
        return {"states": states, "nextToken": None}

    async def put_agent_state(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        state = required_obj(body, "state")
        arn = state.get("agentStateARN")
        parsed = parse_resource_arn(arn) if isinstance(arn, str) else None
        name = state.get("name") if isinstance(state.get("name"), str) else None
        if parsed is None and name is None:
            raise CtiError("InvalidParameterException", "state needs an agentStateARN or a name.")
        await self.agents.set_state(who, parsed[2] if parsed else None, name)
        return {}

    async def get_routing_profile_queues(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        config = await self.agents.configuration(who)
        queues = [{"queueARN": self._queue_arn(who, q), "name": q.name} for q in config.queues]
        return {"queues": queues, "nextToken": None}

    async def get_endpoints(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        arns = body.get("queueARNs")
        queue_ids = None
        if isinstance(arns, list) and arns:
            queue_ids = await self._queue_ids(who, arns)
        endpoints = []
        for qc, target in await self.agents.endpoints(who, queue_ids):
            endpoints.append({
                "endpointARN": self._arn(who, "transfer-destination", qc.id),
                "type": ENDPOINT_TYPES.get(qc.quick_connect_type, "agent"),
                "name": qc.name, "displayName": target, "phoneNumber": qc.phone_number, "agentLogin": None,
                "queue": None,
            })
        return {"endpoints": endpoints, "nextToken": None}

    async def get_dialable_country_codes(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        return {"countryCodes": ["us", "ca", "gb"], "nextToken": None}

    async def create_transport(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        kind = required_str(body, "transportType")
        if kind == "chat_token":
            contact_id = required_str(body, "contactId")
            _segment, token = await self.agents.participant_token(who, contact_id)
            grant = await self.chat.create_connection(token, ["CONNECTION_CREDENTIALS"], False)
            assert grant.connection_token and grant.connection_expiry
            return {"chatTokenTransport": {"participantToken": grant.connection_token,
                                           "expiry": iso(grant.connection_expiry)}}
        if kind == "web_socket":
            url, lifetime, expiry = await self.agent_websocket.ticket_url(who)
            return {"webSocketTransport": {"url": url, "transportLifeTimeInSeconds": lifetime, "expiry": iso(expiry)}}
        raise CtiError("InvalidParameterException",
                       f"Parley supports the transport types web_socket and chat_token, not {kind!r}.")

    async def accept_contact(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await self.agents.accept(who, required_str(body, "contactId"))
        return {}

    async def reject_contact(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await self.agents.reject(who, required_str(body, "contactId"))
        return {}

    async def add_new_connection(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = required_obj(body, "endpoint")
        await self.agents.invite(who, required_str(body, "contactId"), opt_str(endpoint, "endpointARN"),
                                 str(endpoint.get("type") or ""))
        return {}

    async def transfer_contact(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = required_obj(body, "endpoint")
        await self.agents.transfer(who, required_str(body, "contactId"), opt_str(endpoint, "endpointARN"),
                                   str(endpoint.get("type") or ""))
        return {}

    async def destroy_connection(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await self.agents.destroy_connection(who, required_str(body, "contactId"), required_str(body, "connectionId"))
        return {}

    async def clear_contact(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await self.agents.clear(who, required_str(body, "contactId"))
        return {}

    async def complete_contact(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        await self.agents.complete(who, required_str(body, "contactId"))
        return {}

    async def update_monitor_participant_state(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        """``contact.updateMonitorParticipantState(mode)`` / ``bargeIn()`` on the supervisor's monitoring contact."""
        await self.monitoring.switch_mode(who, required_str(body, "contactId"), required_str(body, "targetMonitorMode"))
        return {}

    async def send_client_logs(self, who: AgentSession, body: dict[str, Any]) -> dict[str, Any]:
        return {}

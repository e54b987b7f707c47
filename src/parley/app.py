"""The composition root: reads the config, opens storage, builds the services and mounts every surface."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute

from parley.aws.connect.api import build_connect_api
from parley.aws.connect.context import ConnectContext
from parley.aws.cti.api import CtiApi
from parley.aws.cti.handlers import CtiHandlers
from parley.aws.model import Service
from parley.aws.participant.api import build_participant_api
from parley.aws.participant.attachments import AttachmentHandlers
from parley.aws.participant.handlers import ParticipantHandlers
from parley.aws.participant.items import chat_frame
from parley.aws.ratelimit import (
    CONNECT_DEFAULT,
    CONNECT_RATES,
    PARTICIPANT_RATES,
    Rate,
    RateLimiter,
    participant_limiter,
)
from parley.aws.ratelimit import connect_limiter as connect_limiter_for
from parley.config import Config, load_access_keys
from parley.domain.agents import AgentSession
from parley.domain.arns import Account
from parley.fanout import open_bus
from parley.fanout.agent_signals import AgentSignals
from parley.fanout.hub import Hub
from parley.service.agents import AgentService
from parley.service.appends import Appender
from parley.service.attachments import AttachmentService
from parley.service.auth import AuthService
from parley.service.chat import ChatService
from parley.service.contacts import ContactService
from parley.service.demo import Demo, ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.notify import ChatNotifier
from parley.service.passwords import Passwords
from parley.service.ports import Storage
from parley.service.quick_connects import QuickConnectService
from parley.service.routing import Router
from parley.service.timers import Timers
from parley.service.token_instances import TokenInstances
from parley.storage import open_storage
from parley.storage.files import LocalFileStore
from parley.web.agent_socket import AgentSockets
from parley.web.attachments import AttachmentFiles
from parley.web.ccp import CcpPages
from parley.web.front import FrontDoor
from parley.web.health import health_endpoint
from parley.web.libraries import Libraries, find_node_modules
from parley.web.login import SESSION_COOKIE, LoginPages
from parley.web.websocket import ParticipantSocket

ALL_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]


@dataclass
class Parley:
    """A built server: the ASGI app and what must be closed when it stops."""

    config: Config
    app: FrontDoor
    storage: Storage
    access_keys: dict[str, str]
    demo: Demo | None = None
    notes: list[str] = field(default_factory=list)

    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for closer in reversed(self.closers):
            await closer()
        await self.storage.close()


async def build(config: Config) -> Parley:
    bus = await open_bus(config.bus_url)
    storage = await open_storage(config.storage)
    notifier = ChatNotifier(bus, chat_frame)
    passwords = Passwords()
    auth = AuthService(storage, passwords)
    instances = InstanceService(storage)
    directory = DirectoryService(storage, passwords)
    quick_connects = QuickConnectService(storage)
    contacts = ContactService(storage, notifier)
    # SQLite takes one writer at a time; on PostgreSQL a few batches overlap their round trips.
    appender = Appender(storage, notifier, parallel=1 if storage.is_sqlite else 4)
    chat = ChatService(storage, notifier, appender)
    access_keys, note = load_access_keys(config)
    ctx = ConnectContext(
        account=Account(config.region, config.account_id), public_url=config.base_url,
        instances=instances, directory=directory, quick_connects=quick_connects, contacts=contacts, chat=chat,
    )
    connect_limiter = participant_limits = None
    if config.limits_on:
        overrides = {op: Rate(*value) for op, value in config.rate_overrides.items()}
        connect_limiter = connect_limiter_for(RateLimiter({**CONNECT_RATES, **overrides}, CONNECT_DEFAULT))
        participant_limits = participant_limiter(
            RateLimiter({**PARTICIPANT_RATES, **overrides}), TokenInstances(storage).instance_of
        )
    connect_api = build_connect_api(Service.load("connect", "2017-08-08"), ctx, access_keys, connect_limiter)
    hub = Hub(storage, bus, chat_frame)
    attachments = AttachmentService(storage, LocalFileStore(config.data_dir / "attachments"), chat, notifier)
    participant_api = build_participant_api(
        Service.load("connectparticipant", "2018-09-07"),
        ParticipantHandlers(chat, websocket_base(config.base_url), hub),
        AttachmentHandlers(attachments, config.base_url),
        limiter=participant_limits,
    )
    demo = await ensure_demo(storage, instances, directory, quick_connects) if config.demo else None
    await hub.start()
    signals = AgentSignals(bus)
    await signals.start()
    router = Router(storage, notifier, config.offer_seconds)
    router.start()
    agents = AgentService(storage, notifier, router)
    agent_sockets = AgentSockets(storage, agents, hub, signals, websocket_base(config.base_url))
    account = Account(config.region, config.account_id)

    async def resolve_agent(token: str) -> AgentSession | None:
        who = await auth.resolve_access_token(token)
        if who is not None:
            await agents.check_ccp_access(who)
        return who

    cti_api = CtiApi(CtiHandlers(agents, chat, signals, account, agent_sockets).table(), resolve_agent)
    timers = Timers(storage, chat)
    timers.start()
    libraries = Libraries(find_node_modules())

    async def frame_origins(request: Request) -> list[str]:
        """The approved origins of the signed-in agent's instance (of every instance before sign-in)."""
        session = await auth.session(request.cookies.get(SESSION_COOKIE, ""))
        if session is not None:
            return list((await instances.get_instance(session.instance_id)).approved_origins)
        everything, _ = await instances.list_instances(None, 1000)
        return [origin for instance in everything for origin in instance.approved_origins]

    routes = [
        Route("/health", health_endpoint(storage), methods=["GET"]),  # type: ignore[arg-type]
        Route("/participant/attachments/{attachment_id}", AttachmentFiles(attachments).handle,
              methods=["GET", "PUT", "OPTIONS"]),
        # Other paths under /participant/attachments/ (the rest of /participant/ never reaches Starlette).
        Route("/participant/{operation:path}", participant_api.__call__, methods=[*ALL_METHODS, "OPTIONS"]),
        Route("/api", cti_api.handle, methods=["POST"]),
        Route("/connect/api", cti_api.handle, methods=["POST"]),
        WebSocketRoute("/connect/agent-ws", agent_sockets.handle),
        *LoginPages(auth, secure_cookies=config.base_url.startswith("https")).routes(),
        *CcpPages(libraries, config.region, frame_origins).routes(),
        *libraries.routes(),
        # The Connect API (rest-json, SigV4) answers every other path, with its own errors for unknown ones.
        Route("/{path:path}", connect_api.__call__, methods=[*ALL_METHODS, "OPTIONS"]),
    ]
    # The Participant Service's operations and websocket are dispatched before Starlette (see FrontDoor).
    app = FrontDoor(Starlette(routes=routes), participant_api,
                    ParticipantSocket(chat, hub, config.websocket_lifetime))
    parley = Parley(config, app, storage, access_keys, demo, [note] if note else [])
    parley.closers += [bus.close, hub.stop, signals.stop, router.stop, timers.stop, appender.close]
    return parley


def websocket_base(base_url: str) -> str:
    """``ws://`` for ``http://`` and ``wss://`` for ``https://`` (ChatJS accepts wss:// or ws://127.0.0.1:)."""
    scheme, rest = base_url.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest


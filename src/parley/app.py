"""The composition root: reads the config, opens storage, builds the services and mounts every surface."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from parley import __version__
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
from parley.aws.restjson import Limiter
from parley.config import Config, load_access_keys
from parley.domain.arns import Account
from parley.fanout import open_bus
from parley.fanout.agent_signals import AgentSignals
from parley.fanout.hub import Hub
from parley.fanout.local import LocalBus
from parley.fanout.redis import RedisBus
from parley.pages.assets import Assets
from parley.pages.console.desk import Services as ConsoleServices
from parley.pages.console.pages import ConsolePages
from parley.pages.home import DemoFacts, HomePage, NotFoundPage
from parley.pages.templating import Pages
from parley.pages.unavailable import storage_unavailable
from parley.pages.widget.api import WidgetApi
from parley.pages.widget.pages import WidgetPages
from parley.pages.workspace.pages import WorkspacePages
from parley.service.agents import AgentService
from parley.service.appends import Appender
from parley.service.attachments import AttachmentService
from parley.service.audit import AuditService
from parley.service.auth import AuthService
from parley.service.canned import CannedResponseService
from parley.service.chat import ChatService
from parley.service.chat_starts import configured_limiter
from parley.service.contacts import ContactService
from parley.service.demo import DEMO_USERS, Demo, ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.live import LiveService
from parley.service.monitoring import MonitoringService
from parley.service.notify import Notifier
from parley.service.passwords import Passwords
from parley.service.ports import Storage, StorageUnavailable
from parley.service.quick_connects import QuickConnectService
from parley.service.realtime import RealtimeService
from parley.service.routing import Router
from parley.service.telemetry import Telemetry
from parley.service.timers import Timers
from parley.service.token_instances import TokenInstances
from parley.service.widgets import WidgetService
from parley.storage import check_current, head_revision, open_storage
from parley.storage.activity import count_activity
from parley.storage.database import SqlStorage
from parley.storage.files import LocalFileStore
from parley.web.admission import (
    Admission,
    ConnectPaths,
    EarlyRefusal,
    LoopLag,
    QueueDelay,
    Settings,
    ThreadCpu,
    connect_admission,
)
from parley.web.agent_socket import AgentSockets
from parley.web.attachments import AttachmentFiles
from parley.web.ccp import CcpPages
from parley.web.front import FrontDoor
from parley.web.health import health_endpoint
from parley.web.libraries import Libraries, find_node_modules
from parley.web.login import SESSION_COOKIE, LoginPages
from parley.web.metrics import MetricsAccess, MetricsEndpoint, ParleyCollector, Sources
from parley.web.ready import ready_endpoint
from parley.web.signin_gate import SigninGate
from parley.web.tracking import Tracking
from parley.web.websocket import ParticipantSocket
from parley.web.wsframes import TextFrames

ALL_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]


@dataclass
class Parley:
    """A built server: the ASGI app and what must be closed when it stops."""

    config: Config
    app: ASGIApp
    storage: Storage
    access_keys: dict[str, str]
    demo: Demo | None = None
    notes: list[str] = field(default_factory=list)

    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Set when the server starts draining (parley.server): long polls answer at once.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Load shedding's refusal as soon as a request head is parsed (parley.web.server.httpprotocol); None: shedding off.
    refuse: EarlyRefusal | None = None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            await closer()
        await self.storage.close()


@dataclass
class Services:
    """The services of one node over one storage and one bus; every edge is a thin layer over these."""

    storage: SqlStorage
    bus: LocalBus | RedisBus
    notifier: Notifier
    telemetry: Telemetry  # what /metrics reports (parley.web.metrics)
    auth: AuthService
    instances: InstanceService
    directory: DirectoryService
    quick_connects: QuickConnectService
    contacts: ContactService
    appender: Appender
    chat: ChatService
    monitoring: MonitoringService  # MonitorContact and the CCP's barge-in
    realtime: RealtimeService  # the real-time figures of the Connect API and the console's live view
    attachments: AttachmentService
    widgets: WidgetService
    router: Router
    agents: AgentService
    timers: Timers


def build_services(config: Config, storage: SqlStorage, bus: LocalBus | RedisBus) -> Services:
    notifier = Notifier(bus, chat_frame)
    passwords = Passwords()
    auth = AuthService(storage, passwords)
    contacts = ContactService(storage, notifier)
    telemetry = Telemetry()
    # SQLite takes one writer at a time; on PostgreSQL a few batches overlap their round trips.
    appender = Appender(storage, notifier, parallel=1 if storage.is_sqlite else 4, telemetry=telemetry)
    chat = ChatService(storage, notifier, appender)
    router = Router(storage, notifier, config.offer_seconds)
    return Services(
        storage, bus, notifier, telemetry, auth, InstanceService(storage), DirectoryService(storage, passwords),
        QuickConnectService(storage), contacts, appender, chat, MonitoringService(storage, notifier),
        RealtimeService(storage),
        AttachmentService(storage, LocalFileStore(config.data_dir / "attachments"), chat, notifier),
        WidgetService(storage, contacts, auth, base_url=config.base_url, demo=config.demo,
                      limiter=configured_limiter(config.limits_on, config.rate_overrides)),
        router, AgentService(storage, notifier, router), Timers(storage, chat),
    )


def load_shedding(config: Config, appender: Appender) -> tuple[LoopLag, Admission | None]:
    """New requests are refused with 429 while work waits too long in this process (None: shedding off)."""
    loop_lag = LoopLag(cpu=ThreadCpu())
    if not config.admission:
        return loop_lag, None
    admission = Admission(QueueDelay(loop_lag, appender.oldest_wait, loop_lag.busy),
                          Settings(target=config.admission_target), arrival=loop_lag.arrival)
    appender.wait_limit = admission.wait_limit  # once shedding, what waited too long is refused, not committed
    return loop_lag, admission


def rate_limits(config: Config, storage: Storage, admission: Admission | None) -> tuple[Limiter | None,
                                                                                      Limiter | None]:
    """The Connect API's and the Participant Service's limiters (Connect's quotas, unless limits are off);
    the Connect API's also sheds load."""
    connect_limiter = participant_limits = None
    if config.limits_on:
        overrides = {op: Rate(*value) for op, value in config.rate_overrides.items()}
        connect_limiter = connect_limiter_for(RateLimiter({**CONNECT_RATES, **overrides}, CONNECT_DEFAULT))
        participant_limits = participant_limiter(
            RateLimiter({**PARTICIPANT_RATES, **overrides}), TokenInstances(storage).instance_of
        )
    if admission is not None:
        connect_limiter = connect_admission(admission, connect_limiter)
    return connect_limiter, participant_limits


async def build(config: Config) -> Parley:
    bus = await open_bus(config.bus_url)
    storage = await open_storage(config.storage)
    s = build_services(config, storage, bus)
    access_keys, note = load_access_keys(config)
    account = Account(config.region, config.account_id)
    loop_lag, admission = load_shedding(config, s.appender)
    connect_limiter, participant_limits = rate_limits(config, storage, admission)
    connect_api = build_connect_api(
        Service.load("connect", "2017-08-08"),
        ConnectContext(account=account, public_url=config.base_url, instances=s.instances, directory=s.directory,
                       quick_connects=s.quick_connects, contacts=s.contacts, chat=s.chat, monitoring=s.monitoring),
        access_keys, connect_limiter, s.realtime)
    hub = Hub(storage, bus, chat_frame, s.telemetry)
    participant_api = build_participant_api(
        Service.load("connectparticipant", "2018-09-07"),
        ParticipantHandlers(s.chat, websocket_base(config.base_url), hub),
        AttachmentHandlers(s.attachments, config.base_url),
        limiter=participant_limits,
    )
    demo = (await ensure_demo(storage, s.instances, s.directory, s.quick_connects, s.widgets)
            if config.demo else None)
    signals = AgentSignals(bus)
    await hub.start()
    await signals.start()
    s.router.start()
    s.timers.start()
    frames = TextFrames()  # one per node: a message's frame is encoded once for its participant and agent sockets
    agent_sockets = AgentSockets(s.auth, s.agents, hub, signals, websocket_base(config.base_url), frames)
    stopping = asyncio.Event()
    cti_api = CtiApi(CtiHandlers(s.agents, s.chat, signals, account, agent_sockets, s.monitoring).table(),
                     s.auth.resolve_agent, stopping)
    node_modules = find_node_modules()
    libraries = Libraries(node_modules)
    page_renderer = Pages(Assets(node_modules), site={
        "public_url": config.base_url, "region": config.region, "version": __version__,
        "ccp_path": f"/connect/{demo.instance.alias}/ccp-v2/" if demo and demo.instance.alias else "/connect/ccp-v2/",
    })
    connect_json = request_response(connect_api.__call__)
    demo_facts = DemoFacts.of(demo, tuple(u for u in DEMO_USERS if u.startswith("agent"))) if demo else None
    routes = [
        Route("/", HomePage(page_renderer, connect_json, demo_facts, public_url=config.base_url,
                            region=config.region, access_key_id=next(iter(access_keys), None))),
        Route("/health", health_endpoint(storage), methods=["GET"]),  # type: ignore[arg-type]
        Route("/ready", ready_endpoint(readiness_checks(storage, bus)), methods=["GET"]),
        Route("/metrics", metrics_endpoint(config, s.telemetry, storage, hub, admission, s.appender).handle,
              methods=["GET"]),
        Route("/participant/attachments/{attachment_id}", AttachmentFiles(s.attachments).handle,
              methods=["GET", "PUT", "OPTIONS"]),
        # Other paths under /participant/attachments/ (the rest of /participant/ never reaches Starlette).
        Route("/participant/{operation:path}", participant_api, methods=[*ALL_METHODS, "OPTIONS"]),
        Route("/api", cti_api.handle, methods=["POST"]),
        Route("/connect/api", cti_api.handle, methods=["POST"]),
        WebSocketRoute("/connect/agent-ws", agent_sockets.handle),
        *page_routes(config, s, page_renderer, libraries, account, demo),
        *libraries.routes(),
        *page_renderer.assets.routes(),
    ]
    # A route that finds the database down answers 503 with Retry-After (a page for a browser), never a 500.
    pages = Starlette(routes=routes, exception_handlers={StorageUnavailable: storage_unavailable(page_renderer)})
    # The Connect API (rest-json, SigV4) answers every other HTTP request, with its own errors for unknown paths:
    # as the router's default rather than a "/{path:path}" route, whose pattern does not match a path holding a
    # newline (%0A), which would get Starlette's plain 404 instead of an AWS-style error.
    # A browser's GET that no route takes gets an HTML page instead (parley.pages.home.NotFoundPage).
    pages.router.default = NotFoundPage(page_renderer, connect_default(connect_json, pages.router.not_found))
    # The Participant Service's operations and websocket are dispatched before Starlette (see FrontDoor); sign-in
    # posts from an address that must wait are refused before it too (SigninGate).
    app = FrontDoor(SigninGate(pages, s.auth.throttle), participant_api,
                    ParticipantSocket(s.chat, hub, bus.slots, config.websocket_lifetime,
                                      config.websocket_subscribe_timeout, frames), admission)
    connect_api.requests = s.telemetry.requests["connect"]
    participant_api.api.requests = s.telemetry.requests["participant"]
    cti_api.requests = s.telemetry.requests["cti"]
    parley = Parley(config, Tracking(app, s.telemetry), storage, access_keys, demo, [note] if note else [],
                    stopping=stopping)
    parley.closers += [bus.close, hub.stop, signals.stop, s.router.stop, s.timers.stop, s.appender.close]
    if admission is not None:
        parley.refuse = EarlyRefusal(admission, ConnectPaths.of(connect_api.service.model, [
            path for route in routes if isinstance(path := getattr(route, "path", None), str)]))
        loop_lag.start(admission.observe)
        parley.closers.append(loop_lag.stop)
    return parley


def page_routes(config: Config, s: Services, renderer: Pages, libraries: Libraries, account: Account,
                demo: Demo | None) -> list[BaseRoute]:
    """The pages for people: sign-in and the CCP (``parley.web``), the widget, workspace and console
    (``parley.pages``)."""
    return [
        *LoginPages(renderer, s.auth, s.instances, secure_cookies=config.base_url.startswith("https")).routes(),
        *CcpPages(renderer, libraries, config.region, s.auth, s.instances).routes(),
        *WidgetApi(s.widgets, config.base_url, config.region, session_cookie=SESSION_COOKIE).routes(),
        *WidgetPages(renderer, s.widgets, public_url=config.base_url).routes(),
        *WorkspacePages(renderer, s.auth, s.instances, CannedResponseService(s.storage), public_url=config.base_url,
                        session_cookie=SESSION_COOKIE, offer_seconds=config.offer_seconds).routes(),
        *ConsolePages(renderer, ConsoleServices(s.auth, s.instances, s.directory, s.quick_connects, s.widgets,
                                                LiveService(s.realtime), AuditService(s.storage), s.monitoring),
                      account, public_url=config.base_url, session_cookie=SESSION_COOKIE,
                      default_instance=demo.instance.alias if demo else "").routes(),
    ]


def readiness_checks(storage: SqlStorage, bus: LocalBus | RedisBus) -> dict[str, Callable[[], Awaitable[object]]]:
    """What ``/ready`` checks: the database answers, the bus answers, the schema is the code's head."""
    head = head_revision()

    async def storage_answers() -> None:
        async with storage.transaction() as uow:
            await uow.instances.find("ready-check")

    return {"storage": storage_answers, "bus": bus.ping, "migrations": lambda: check_current(storage, head)}


def metrics_endpoint(config: Config, telemetry: Telemetry, storage: SqlStorage, hub: Hub,
                     admission: Admission | None, appender: Appender) -> MetricsEndpoint:
    """``/metrics``: this server's own registry (never prometheus-client's global one) with Parley's metrics and
    the process's (CPU, memory, open files, garbage collections)."""
    registry = CollectorRegistry(auto_describe=False)
    collector = ParleyCollector(telemetry, Sources(
        chat_feeds=lambda: len(hub.feeds),
        # Refused as their heads were read, and refused by the group commit for the time they had waited.
        shed_requests=(lambda: admission.refused + appender.expired) if admission is not None else None,
    ))
    registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return MetricsEndpoint(registry, collector, lambda: count_activity(storage),
                           MetricsAccess(config.metrics_public, config.metrics_token))


def connect_default(connect: ASGIApp, not_found: ASGIApp) -> ASGIApp:
    """What answers a request no route matched: the Connect API for HTTP, Starlette's refusal for websockets."""

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        await (connect if scope["type"] == "http" else not_found)(scope, receive, send)

    return default


def websocket_base(base_url: str) -> str:
    """``ws://`` for ``http://`` and ``wss://`` for ``https://`` (ChatJS accepts wss:// or ws://127.0.0.1:)."""
    scheme, rest = base_url.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest


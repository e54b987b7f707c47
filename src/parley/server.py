"""Runs a built Parley under uvicorn (uvloop, httptools) until SIGTERM or Ctrl-C, then drains and closes it.

Draining (:class:`DrainingServer`): the listening socket closes (a load balancer sends new connections to
another node), every request in progress and every request that starts on an open connection meanwhile is
answered with ``Connection: close`` (:meth:`parley.web.server.httpprotocol.ParleyHttpToolsProtocol.shutdown`), idle
keep-alive connections close after a moment, snapshot long polls are answered at once with the current state,
and websockets are closed with 1001 so their clients reconnect (:mod:`parley.web.goingaway`); all within the
drain timeout, after which what is left is cancelled. Then the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import resource
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from parley.app import Parley, build
from parley.collector import Collector
from parley.config import Config
from parley.logformat import configure as configure_logging
from parley.service.demo import DEMO_PASSWORD, DEMO_USERS
from parley.web.goingaway import GoingAwayWebSocketProtocol
from parley.web.server.accept import accept_in_batches
from parley.web.server.httpprotocol import ConnectionGuard

TICKET = re.compile(r"ticket=[^&\s\"']+")
# How long an idle keep-alive connection stays open: longer than HTTP clients keep theirs by default (httpx:
# 5 s), so a client does not send a request on a connection the server is closing at that very moment
# (uvicorn's default, 5 s, equals httpx's: such requests failed now and then with a reset connection).
KEEP_ALIVE_SECONDS = 75
# File descriptors kept out of the connection limit for everything else the process opens (the SQLite database
# and its WAL, PostgreSQL and Redis pools, attachment files, logs): a full connection table never makes the
# process unable to open them, nor unable to accept (and so evict or refuse) one more connection.
RESERVED_FDS = 256
# The fewest connections the automatic limit allows, whatever the open-file limit says.
MIN_CONNECTIONS = 64
# The longest the close after the drain may take (background tasks, the bus, the database): a stop never hangs.
CLOSE_SECONDS = 10.0
# Signals that start the drain (a second one stops waiting for it).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def banner(parley: Parley) -> str:
    base = parley.config.base_url
    lines = [
        f"Parley is serving on {base}",
        f"  Connect API (boto3 'connect')             endpoint_url={base}",
        f"  Participant Service (ChatJS, boto3)       endpoint_url={base}",
        f"  CCP for StreamsJS (initCCP ccpUrl)        {base}/connect/<instance alias>/ccp-v2/",
        f"  agent sign-in                             {base}/connect/login",
        f"  StreamsJS / ChatJS served from npm        {base}/lib/connect-streams.js  {base}/lib/amazon-connect-chat.js",
        f"  health, readiness, metrics                {base}/health  {base}/ready  {base}/metrics",
        f"  storage                                   {_safe(parley.config.storage)}",
    ]
    lines += [f"  note: {note}" for note in parley.notes]
    if parley.demo is not None:
        instance = parley.demo.instance
        lines += [
            "",
            "Demo instance" + (" (created now)" if parley.demo.created else ""),
            f"  instance id     {instance.id}   alias {instance.alias}   region {parley.config.region}",
            f"  CCP URL         {base}/connect/{instance.alias}/ccp-v2/",
            "  access key      test / test",
            f"  users           {', '.join(DEMO_USERS)} (password {DEMO_PASSWORD})",
        ]
    return "\n".join(lines)


def _safe(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def serve(config: Config) -> None:
    parley = await build(config)
    # What start-up built (the AWS models, routes, caches) and what later lives through a middle-generation
    # collection lives long: kept out of the collector's passes, so they stay short under load (parley.collector).
    collector = Collector()
    collector.start()
    try:
        guard = ConnectionGuard(config.header_timeout, config.max_connections or automatic_max_connections(),
                                parley.refuse)
        server = DrainingServer(uvicorn.Config(
            parley.app, host=config.host, port=config.port, log_level=config.log_level,
            http=guard.protocol(), ws=GoingAwayWebSocketProtocol, lifespan="off",
            access_log=config.log_level == "debug",
            ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
            ssl_keyfile=str(config.tls_key) if config.tls_key else None,
            # Long polls are answered as the drain starts (parley.aws.cti.api), so the drain is bounded by the
            # slowest request in progress; what is still running after this long is cancelled.
            timeout_graceful_shutdown=math.ceil(config.drain_timeout),  # uvicorn takes whole seconds
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            # JSON logs: uvicorn's loggers keep no handlers of their own and write through the root's JSON one.
            log_config=None if config.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        ), parley.stopping)
        for name in ("uvicorn.error", "uvicorn.access", "uvicorn"):
            logging.getLogger(name).addFilter(RedactSecrets())
        if config.log_format == "json":  # every line of the output is then one JSON object
            logging.getLogger("parley").info(banner(parley))
        else:
            print(banner(parley), flush=True)
        await server.serve()
    finally:
        await collector.stop()
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await parley.close()
        except TimeoutError:
            logging.getLogger(__name__).error("closing took longer than %g s; exiting anyway", CLOSE_SECONDS)


def automatic_max_connections() -> int:
    """The connection limit when none is configured: what the open-file limit leaves after :data:`RESERVED_FDS`."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(MIN_CONNECTIONS, soft - RESERVED_FDS)


class DrainingServer(uvicorn.Server):
    """uvicorn's server that drains on SIGTERM or SIGINT and then returns (the process exits 0).

    uvicorn raises the signal again once it has shut down, so SIGTERM killed the process (status -15) after its
    drain; here the signal only starts the drain, and a second one stops waiting for it.
    """

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True  # asked twice: stop waiting for the drain
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit or not self.started:
            return
        config = self.config
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:  # what uvicorn's own server makes for each connection
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)

        # uvloop's server accepts one connection per loop turn (parley.web.server.accept).
        self.servers = accept_in_batches(self.servers, protocol, config.ssl)  # type: ignore[assignment]

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.set()  # long polls answer now; set before the connections are told to close
        await super().shutdown(sockets)


class RedactSecrets(logging.Filter):
    """Keeps bearer secrets carried in URLs (websocket and attachment tickets) out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str) and "ticket=" in record.msg:
            record.msg = TICKET.sub("ticket=***", record.msg)
        return True


def run(config: Config) -> int:
    configure_logging(config.log_level, config.log_format)
    try:
        import uvloop

        uvloop.run(serve(config))
    except ImportError:
        asyncio.run(serve(config))
    return 0

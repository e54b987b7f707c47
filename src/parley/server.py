"""Runs a built Parley under uvicorn (uvloop, httptools) until Ctrl-C, then closes it cleanly."""

from __future__ import annotations

import asyncio
import logging
import re

import uvicorn

from parley.app import Parley, build
from parley.collector import Collector
from parley.config import Config
from parley.service.demo import DEMO_PASSWORD, DEMO_USERS
from parley.web.httpprotocol import ParleyHttpToolsProtocol
from parley.web.wsprotocol import ParleyWebSocketProtocol

TICKET = re.compile(r"ticket=[^&\s\"']+")
# How long an idle keep-alive connection stays open: longer than HTTP clients keep theirs by default (httpx:
# 5 s), so a client does not send a request on a connection the server is closing at that very moment
# (uvicorn's default, 5 s, equals httpx's: such requests failed now and then with a reset connection).
KEEP_ALIVE_SECONDS = 75


def banner(parley: Parley) -> str:
    base = parley.config.base_url
    lines = [
        f"Parley is serving on {base}",
        f"  Connect API (boto3 'connect')             endpoint_url={base}",
        f"  Participant Service (ChatJS, boto3)       endpoint_url={base}",
        f"  CCP for StreamsJS (initCCP ccpUrl)        {base}/connect/ccp-v2/",
        f"  agent sign-in                             {base}/connect/login",
        f"  StreamsJS / ChatJS served from npm        {base}/lib/connect-streams.js  {base}/lib/amazon-connect-chat.js",
        f"  health                                    {base}/health",
        f"  storage                                   {_safe(parley.config.storage)}",
    ]
    lines += [f"  note: {note}" for note in parley.notes]
    if parley.demo is not None:
        instance = parley.demo.instance
        lines += [
            "",
            "Demo instance" + (" (created now)" if parley.demo.created else ""),
            f"  instance id     {instance.id}   alias {instance.alias}   region {parley.config.region}",
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
        server = uvicorn.Server(uvicorn.Config(
            parley.app, host=config.host, port=config.port, log_level=config.log_level,
            http=ParleyHttpToolsProtocol, ws=ParleyWebSocketProtocol, lifespan="off",
            access_log=config.log_level == "debug",
            ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
            ssl_keyfile=str(config.tls_key) if config.tls_key else None,
            # Agents' snapshot long polls may be held 25 s; Ctrl-C should not wait for them.
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        ))
        for name in ("uvicorn.error", "uvicorn.access", "uvicorn"):
            logging.getLogger(name).addFilter(RedactSecrets())
        print(banner(parley), flush=True)
        await server.serve()
    finally:
        await collector.stop()
        await parley.close()


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
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        import uvloop

        uvloop.run(serve(config))
    except ImportError:
        asyncio.run(serve(config))
    return 0

"""Parley's settings, read once from the command line and the environment."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from parley.domain.ids import new_token

DEMO_ACCESS_KEY = ("test", "test")


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8800
    data_dir: Path = Path("parley-data")
    storage_url: str | None = None
    bus_url: str = "local://"
    public_url: str | None = None
    demo: bool = False
    access_keys: dict[str, str] = field(default_factory=dict)
    region: str = "us-west-2"
    account_id: str = "123456789012"
    rate_limits: bool | None = None
    rate_overrides: dict[str, tuple[float, int]] = field(default_factory=dict)
    # Load shedding (parley.web.admission): on unless turned off, with its queue-delay target in seconds.
    admission: bool = True
    admission_target: float = 0.025
    websocket_lifetime: float = 7200.0
    # Seconds a participant websocket may stay open without aws/subscribe before it is closed (1008).
    websocket_subscribe_timeout: float = 30.0
    offer_seconds: float = 20.0
    # Seconds a connection has to send a whole request head (parley.web.server.httpprotocol).
    header_timeout: float = 10.0
    # Open connections at most; 0: what the open-file limit allows (parley.server.automatic_max_connections).
    max_connections: int = 0
    # Seconds a stop waits for requests in progress, long polls and websocket closes (parley.server).
    drain_timeout: float = 10.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str = "info"
    # "text" or "json" (one object per line, with the request id; parley.logformat).
    log_format: str = "text"
    # /metrics (parley.web.metrics): loopback clients only, unless public or asked with this bearer token.
    metrics_public: bool = False
    metrics_token: str | None = None

    @property
    def storage(self) -> str:
        return self.storage_url or f"sqlite:///{(self.data_dir / 'parley.db').resolve()}"

    @property
    def base_url(self) -> str:
        """The URL Parley writes into what it hands out (websocket URLs, download links)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def limits_on(self) -> bool:
        """Rate limits are on unless turned off; ``--demo`` turns them off unless asked for."""
        return (not self.demo) if self.rate_limits is None else self.rate_limits


def parse_access_keys(text: str) -> dict[str, str]:
    """``ID:SECRET[,ID:SECRET…]`` as in ``PARLEY_ACCESS_KEYS``."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError(f"access key {item!r} is not in the form ID:SECRET")
        keys[key_id] = secret
    return keys


def load_access_keys(config: Config) -> tuple[dict[str, str], str | None]:
    """The keys Connect API callers sign with, and a note to print when Parley made a new one.

    Keys come from ``--access-key`` / ``PARLEY_ACCESS_KEYS``; ``--demo`` adds ``test``/``test``. With
    none given, Parley makes one pair on first start and keeps it in ``DATA_DIR/access-keys.json``.
    """
    keys = dict(config.access_keys)
    env = os.environ.get("PARLEY_ACCESS_KEYS")
    if env:
        keys.update(parse_access_keys(env))
    if config.demo:
        keys.setdefault(*DEMO_ACCESS_KEY)
    if keys:
        return keys, None
    path = config.data_dir / "access-keys.json"
    if path.exists():
        return dict(json.loads(path.read_text())), None
    key_id = "PARLEY" + secrets.token_hex(8).upper()
    secret = new_token(30)  # 40 characters like an AWS secret key, never starting with '-'
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only from the first byte: never a moment (or a crash) with the secret at 0644.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps({key_id: secret}))
    os.replace(partial, path)
    return {key_id: secret}, f"created access key {key_id} (secret in {path})"

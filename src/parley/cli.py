"""The ``parley`` command: ``parley serve`` runs the server, ``parley migrate`` brings its database up to date,
``parley widget`` manages the embeddable chat widgets, ``parley canned`` the canned responses of the workspace.

Every long flag of a subcommand can also come from a ``PARLEY_<FLAG>`` environment variable (``--offer-timeout``
from ``PARLEY_OFFER_TIMEOUT``), for systemd ``EnvironmentFile``s and container specs; the command line wins.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from parley import __version__
from parley.aws.ratelimit import parse_rate
from parley.canned_cli import CANNED_ENV_FLAGS, add_canned_parser, run_canned_command
from parley.config import Config, parse_access_keys
from parley.widget_cli import WIDGET_ENV_FLAGS, add_widget_parser, run_widget_command

DESCRIPTION = """\
Parley: a self-hosted multi-party chat contact center that speaks Amazon Connect's wire protocols.
Point boto3, the AWS CLI, ChatJS and StreamsJS at it instead of an Amazon Connect instance."""

SERVE_EPILOG = """\
environment:
  PARLEY_ACCESS_KEYS   ID:SECRET[,ID:SECRET...] access keys that may sign Connect API calls.
                       With none given (and no --demo), Parley creates one pair on first start
                       and keeps it in DATA_DIR/access-keys.json.
  PARLEY_<FLAG>        any flag above, e.g. PARLEY_STORAGE=postgresql://..., PARLEY_DEMO=true,
                       PARLEY_RATE_LIMIT=SendMessage=200,GetTranscript=20 (a comma list for
                       repeatable flags). A flag given on the command line wins.

examples:
  parley serve --demo
  parley serve --storage postgresql://127.0.0.1:5432/parley --public-url https://chat.example.com
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the server", description="Run the Parley server on one port: the Connect API, "
        "the Participant Service and its websockets, the CCP for custom agent pages (sign-in, CTI API, agent "
        "websocket), the vendor libraries and the health endpoint.", epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8800, help="port to listen on (default: 8800)")
    serve.add_argument("--data-dir", type=Path, default=Path("parley-data"),
                       help="where the SQLite database, keys and attachments live (default: ./parley-data)")
    serve.add_argument("--storage", metavar="URL",
                       help="database URL: sqlite:///PATH (default: DATA_DIR/parley.db) or "
                            "postgresql://USER@HOST:PORT/DB")
    serve.add_argument("--bus", metavar="URL", default="local://",
                       help="message bus between nodes: local:// (default, one process) or redis://HOST:PORT/DB "
                            "(several processes sharing a PostgreSQL --storage)")
    serve.add_argument("--public-url", metavar="URL",
                       help="base URL written into URLs Parley hands out (default: http://HOST:PORT)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM",
                       help="serve HTTPS and wss:// with this certificate chain (with --tls-key)")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument("--demo", action="store_true",
                       help="create the demo instance (users agent1..agent5, quick connects, origins) "
                            "if it does not exist, and accept access key test/test")
    serve.add_argument("--access-key", action="append", default=[], metavar="ID:SECRET",
                       help="an access key that may sign Connect API calls (repeatable)")
    serve.add_argument("--region", default="us-west-2",
                       help="region written into ARNs and required in SigV4 credential scopes (default: us-west-2)")
    serve.add_argument("--account-id", default="123456789012",
                       help="account id written into ARNs (default: 123456789012)")
    serve.add_argument("--rate-limits", choices=["on", "off"],
                       help="per-instance request rate limits with Connect's default quotas, answered with 429 "
                            "ThrottlingException (default: on, off with --demo)")
    serve.add_argument("--rate-limit", action="append", default=[], metavar="OPERATION=RATE[/BURST]",
                       help="override one operation's rate, e.g. SendMessage=200/300 (repeatable)")
    serve.add_argument("--admission", choices=["on", "off"], default="on",
                       help="load shedding: while the server is saturated (its queue delay over the target for "
                            "50 ms, with 64 requests or more meanwhile), answer new Participant Service and "
                            "Connect API requests with 429 ThrottlingException so accepted ones keep their latency "
                            "(default: on)")
    serve.add_argument("--admission-target", type=float, default=25.0, metavar="MS",
                       help="the queue delay (event-loop lag or the group commit's wait) that, standing, starts "
                            "load shedding; while shedding the delay is held at 40%% of it, and a SendMessage that "
                            "waited longer than the target for the group commit is refused (default: 25)")
    serve.add_argument("--websocket-lifetime", type=float, default=7200.0, metavar="SECONDS",
                       help="close participant websockets after this long; clients reconnect (default: 7200, "
                            "as API Gateway websockets)")
    serve.add_argument("--websocket-subscribe-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="close a participant websocket that has not sent aws/subscribe this long after it "
                            "opened (default: 30; ChatJS subscribes at once)")
    serve.add_argument("--offer-timeout", type=float, default=20.0, metavar="SECONDS",
                       help="how long an agent has to accept a chat offer before it is missed (default: 20, as "
                            "Connect)")
    serve.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="close a connection that has not sent a whole request head this long after it opened "
                            "or after its head started (default: 10)")
    serve.add_argument("--max-connections", type=int, default=0, metavar="N",
                       help="open connections at most; over it a new connection evicts the one waiting longest "
                            "for a request head (default: 0, the open-file limit less 256)")
    serve.add_argument("--drain-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="on SIGTERM or Ctrl-C, how long to wait for requests in progress and websocket closes "
                            "before exiting (default: 10)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                       help="log verbosity (default: info)")
    serve.add_argument("--log-format", default="text", choices=["text", "json"],
                       help="log lines as text, or as one JSON object each with time, level, logger, message and "
                            "the request id (the x-amzn-RequestId answered) of the request it was written for "
                            "(default: text)")
    serve.add_argument("--metrics-public", action="store_true",
                       help="serve /metrics to every client (default: only to clients on this machine that do not "
                            "come through a proxy, and to those sending --metrics-token)")
    serve.add_argument("--metrics-token", metavar="TOKEN",
                       help="serve /metrics to any client sending 'Authorization: Bearer TOKEN' (better given as "
                            "PARLEY_METRICS_TOKEN, out of the process list)")
    migrate = commands.add_parser(
        "migrate", help="bring the database schema to this release and exit",
        description="Apply the database migrations of this release and exit (parley serve also applies them at "
        "start-up; run this once before starting several nodes of a new release).",
    )
    migrate.add_argument("--data-dir", type=Path, default=Path("parley-data"),
                         help="where the SQLite database lives (default: ./parley-data)")
    migrate.add_argument("--storage", metavar="URL",
                         help="database URL: sqlite:///PATH (default: DATA_DIR/parley.db) or "
                              "postgresql://USER@HOST:PORT/DB")
    add_widget_parser(commands)
    add_canned_parser(commands)
    return parser


ENV_PREFIX = "PARLEY_"
# Environment words that turn a switch such as --demo on or off (systemd and Kubernetes write either style).
SWITCH_ON = frozenset({"1", "true", "yes", "on"})
SWITCH_OFF = frozenset({"0", "false", "no", "off", ""})
# Flags whose environment variable has its own older form, read by parley.config instead (PARLEY_ACCESS_KEYS).
OWN_VARIABLE = frozenset({"--access-key"})


def env_name(flag: str) -> str:
    """``--offer-timeout`` -> ``PARLEY_OFFER_TIMEOUT``."""
    return ENV_PREFIX + flag.removeprefix("--").upper().replace("-", "_")


def environment_args(command: argparse.ArgumentParser, given: list[str], environ: Mapping[str, str]) -> list[str]:
    """Flags for ``command`` from ``PARLEY_<FLAG>`` variables, for the flags not already in ``given``."""
    out: list[str] = []
    for action in command._actions:
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or flag in ("--help", *OWN_VARIABLE):
            continue
        value = environ.get(env_name(flag))
        if value is None or any(t == o or t.startswith(o + "=") for t in given for o in action.option_strings):
            continue
        if action.nargs == 0:
            word = value.strip().lower()
            if word not in SWITCH_ON | SWITCH_OFF:
                raise ValueError(f"{env_name(flag)}={value!r}: use true or false")
            out += [flag] if word in SWITCH_ON else []
        elif isinstance(action, argparse._AppendAction):
            out += [f"{flag}={item.strip()}" for item in value.split(",") if item.strip()]
        else:
            out.append(f"{flag}={value}")
    return out


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen: argparse.ArgumentParser = commands.choices[name]
    return chosen


def _migrate(url: str) -> int:
    import asyncio

    from parley.server import _safe
    from parley.storage import migrate

    try:
        done = asyncio.run(migrate(url))
    except Exception as exc:  # any failure to reach or migrate the database: say it, exit non-zero
        print(f"parley migrate: {_safe(url)}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if done.before == done.after:
        print(f"{_safe(url)}: already at revision {done.after}")
    else:
        print(f"{_safe(url)}: migrated from revision {done.before or '(empty)'} to {done.after}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is not None:
        given = list(sys.argv[1:] if argv is None else argv)
        try:
            command = _subcommand(parser, args.command)
            if getattr(args, "action", None):  # parley widget ACTION: only where the database is, from the environment
                command = _subcommand(command, args.action)
            extra = environment_args(command, given, os.environ)
            if args.command == "widget":
                extra = [flag for flag in extra if flag.split("=", 1)[0] in WIDGET_ENV_FLAGS]
            if args.command == "canned":
                extra = [flag for flag in extra if flag.split("=", 1)[0] in CANNED_ENV_FLAGS]
        except ValueError as exc:
            parser.error(str(exc))
        if extra:
            args = parser.parse_args([*given, *extra])
    if args.command == "migrate":
        return _migrate(args.storage or Config(data_dir=args.data_dir).storage)
    if args.command == "widget":
        if args.action is None:
            _subcommand(parser, "widget").print_help()
            return 2
        return run_widget_command(args)
    if args.command == "canned":
        if args.action is None:
            _subcommand(parser, "canned").print_help()
            return 2
        return run_canned_command(args)
    if args.command != "serve":
        parser.print_help()
        return 0 if args.command is None else 2
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if not args.admission_target > 0:
        parser.error("--admission-target must be a positive number of milliseconds")
    if not args.websocket_subscribe_timeout > 0:
        parser.error("--websocket-subscribe-timeout must be a positive number of seconds")
    if not (args.header_timeout > 0 and args.drain_timeout >= 0 and args.max_connections >= 0):
        parser.error("--header-timeout must be positive; --drain-timeout and --max-connections at least 0")
    try:
        keys = parse_access_keys(",".join(args.access_key))
        overrides = {op: (rate.per_second, rate.burst) for op, rate in map(parse_rate, args.rate_limit)}
    except ValueError as exc:
        parser.error(str(exc))
    config = Config(
        host=args.host, port=args.port, data_dir=args.data_dir, storage_url=args.storage, bus_url=args.bus,
        public_url=args.public_url, demo=args.demo, access_keys=keys, region=args.region,
        account_id=args.account_id, log_level=args.log_level, websocket_lifetime=args.websocket_lifetime,
        websocket_subscribe_timeout=args.websocket_subscribe_timeout,
        header_timeout=args.header_timeout, max_connections=args.max_connections, drain_timeout=args.drain_timeout,
        offer_seconds=args.offer_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key,
        rate_limits=None if args.rate_limits is None else args.rate_limits == "on", rate_overrides=overrides,
        admission=args.admission == "on", admission_target=args.admission_target / 1000,
        log_format=args.log_format, metrics_public=args.metrics_public, metrics_token=args.metrics_token or None,
    )
    from parley.server import run

    try:
        return run(config)
    except KeyboardInterrupt:
        return 0
    except (ValueError, OSError) as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    logging.basicConfig()
    raise SystemExit(main())

"""The ``parley`` command: ``parley serve`` runs the server."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from parley import __version__
from parley.aws.ratelimit import parse_rate
from parley.config import Config, parse_access_keys

DESCRIPTION = """\
Parley: a self-hosted multi-party chat contact center that speaks Amazon Connect's wire protocols.
Point boto3, the AWS CLI, ChatJS and StreamsJS at it instead of an Amazon Connect instance."""

SERVE_EPILOG = """\
environment:
  PARLEY_ACCESS_KEYS   ID:SECRET[,ID:SECRET...] access keys that may sign Connect API calls.
                       With none given (and no --demo), Parley creates one pair on first start
                       and keeps it in DATA_DIR/access-keys.json.

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
    serve.add_argument("--region", default="us-west-2", help="region written into ARNs (default: us-west-2)")
    serve.add_argument("--account-id", default="123456789012",
                       help="account id written into ARNs (default: 123456789012)")
    serve.add_argument("--rate-limits", choices=["on", "off"],
                       help="per-instance request rate limits with Connect's default quotas, answered with 429 "
                            "ThrottlingException (default: on, off with --demo)")
    serve.add_argument("--rate-limit", action="append", default=[], metavar="OPERATION=RATE[/BURST]",
                       help="override one operation's rate, e.g. SendMessage=200/300 (repeatable)")
    serve.add_argument("--websocket-lifetime", type=float, default=7200.0, metavar="SECONDS",
                       help="close participant websockets after this long; clients reconnect (default: 7200, "
                            "as API Gateway websockets)")
    serve.add_argument("--offer-timeout", type=float, default=20.0, metavar="SECONDS",
                       help="how long an agent has to accept a chat offer before it is missed (default: 20, as "
                            "Connect)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                       help="log verbosity (default: info)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "serve":
        parser.print_help()
        return 0 if args.command is None else 2
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    try:
        keys = parse_access_keys(",".join(args.access_key))
        overrides = {op: (rate.per_second, rate.burst) for op, rate in map(parse_rate, args.rate_limit)}
    except ValueError as exc:
        parser.error(str(exc))
    config = Config(
        host=args.host, port=args.port, data_dir=args.data_dir, storage_url=args.storage, bus_url=args.bus,
        public_url=args.public_url, demo=args.demo, access_keys=keys, region=args.region,
        account_id=args.account_id, log_level=args.log_level, websocket_lifetime=args.websocket_lifetime,
        offer_seconds=args.offer_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key,
        rate_limits=None if args.rate_limits is None else args.rate_limits == "on", rate_overrides=overrides,
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

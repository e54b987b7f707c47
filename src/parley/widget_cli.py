"""``parley widget``: create, list, show, change and delete chat widgets from the command line, on the database
directly (with or without the server running), through the same use cases as every other edge
(:class:`parley.service.widgets.WidgetService`)."""

from __future__ import annotations

import argparse
import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from parley.aws.participant.items import chat_frame
from parley.cli_common import instance_id_of, run_reporting
from parley.config import Config
from parley.domain.callers import SYSTEM
from parley.domain.errors import InvalidRequest, NotFound
from parley.domain.ids import looks_like_uuid
from parley.domain.resources import ContactFlow
from parley.domain.widgets import Widget
from parley.fanout.local import LocalBus
from parley.service.auth import AuthService
from parley.service.contacts import ContactService
from parley.service.instances import SAMPLE_INBOUND_FLOW, InstanceService
from parley.service.notify import Notifier
from parley.service.passwords import Passwords
from parley.service.ports import Storage
from parley.service.widgets import WidgetChanges, WidgetService
from parley.storage import open_storage

# The flags ``PARLEY_<FLAG>`` environment variables may give ``parley widget`` (where the database is, and the
# server's URL, as for ``parley serve``); a widget's settings come from the command line only.
WIDGET_ENV_FLAGS = frozenset({"--storage", "--data-dir", "--public-url"})
KEY_NOTE = ("shown only now: keep it on your website's server, which signs the widget tokens (JWT, HS256, "
            "sub = the widget id) with it")

WIDGET_EPILOG = """\
examples:
  parley widget create --instance demo --name "Support" --origin https://www.example.com
  parley widget create --name "Account help" --origin https://app.example.com --secure
  parley widget show WIDGET_ID --public-url https://chat.example.com
  parley widget update WIDGET_ID --title "Talk to us" --primary-color "#0b6e4f"
"""


def add_widget_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    widget = commands.add_parser(
        "widget", help="manage the embeddable chat widgets",
        description="Create, list, show, change and delete the chat widgets websites embed (a <script> tag). Works "
        "on the database directly, with or without the server running.", epilog=WIDGET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = widget.add_subparsers(dest="action", metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("parley-data"),
                        help="where the SQLite database lives (default: ./parley-data)")
    common.add_argument("--storage", metavar="URL", help="database URL: sqlite:///PATH (default: "
                        "DATA_DIR/parley.db) or postgresql://USER@HOST:PORT/DB")
    common.add_argument("--public-url", metavar="URL", default="http://127.0.0.1:8800",
                        help="the server's public base URL, written into the embed snippet "
                             "(default: http://127.0.0.1:8800)")
    settings = argparse.ArgumentParser(add_help=False)
    settings.add_argument("--name", help="the widget's name, unique in its instance (1-100 characters)")
    settings.add_argument("--contact-flow", metavar="ID_OR_NAME",
                          help="the contact flow its chats start in (create: default 'Sample inbound flow')")
    settings.add_argument("--origin", action="append", metavar="URL",
                          help="a website allowed to start chats, scheme://host[:port] (repeatable, at most 20; "
                               "on update the list replaces the current one). Parley's own origin is always allowed")
    settings.add_argument("--title", help="the chat window's title (at most 60 characters; default 'Chat with us')")
    settings.add_argument("--greeting", help="the first line the chat window shows (at most 500 characters; "
                          "an empty text removes it)")
    settings.add_argument("--primary-color", metavar="#RRGGBB", help="the launcher's and header's colour "
                          "(default #2457c5)")
    settings.add_argument("--on-primary-color", metavar="#RRGGBB", help="the text colour on the primary colour, "
                          "at least 4.5:1 contrast with it (default #ffffff)")
    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("widget_id", metavar="WIDGET_ID")
    create = actions.add_parser(
        "create", parents=[common, settings], help="create a widget; prints its id (and its security key once)",
        description="Create a widget and print its id, its embed snippet and, with --secure, its security key "
        "(shown this once: keep it on your website's server, which signs the widget tokens).")
    create.add_argument("--instance", metavar="ID_OR_ALIAS",
                        help="the widget's instance (default: the only instance, when there is one)")
    create.add_argument("--secure", action="store_true",
                        help="give the widget a security key: chats start only with a token (JWT, HS256) the "
                             "website's server signs with it")
    listing = actions.add_parser("list", parents=[common], help="list an instance's widgets",
                                 description="List an instance's widgets: id, whether it has a security key, "
                                 "its number of allowed origins, and its name.")
    listing.add_argument("--instance", metavar="ID_OR_ALIAS",
                         help="the instance (default: the only instance, when there is one)")
    actions.add_parser("show", parents=[common, one], help="show a widget's settings and its embed snippet",
                       description="Show a widget's settings and the <script> snippet to paste into a website "
                       "(never its security key: use rotate-key to get a new one).")
    update = actions.add_parser("update", parents=[common, one, settings], help="change a widget's settings",
                                description="Change the settings given; the others stay as they are.")
    update.add_argument("--clear-origins", action="store_true",
                        help="allow no other website than Parley's own pages")
    security = update.add_mutually_exclusive_group()
    security.add_argument("--secure", action="store_true",
                          help="add a security key when the widget has none (printed once)")
    security.add_argument("--not-secure", action="store_true",
                          help="remove the security key: chats start without a token")
    actions.add_parser("delete", parents=[common, one], help="delete a widget (websites embedding it stop working)",
                       description="Delete a widget; pages that embed it can no longer start chats.")
    actions.add_parser("rotate-key", parents=[common, one], help="give a widget a new security key (printed once)",
                       description="Replace the widget's security key with a new one and print it once; tokens "
                       "signed with the old key are refused from now on.")


def run_widget_command(args: argparse.Namespace) -> int:
    """Run ``parley widget ACTION``; 1 with the reason on stderr when it is refused."""
    return run_reporting("widget", _run(args))


Action = Callable[[WidgetService, InstanceService, argparse.Namespace], Awaitable[int]]


async def _run(args: argparse.Namespace) -> int:
    storage = await open_storage(args.storage or Config(data_dir=args.data_dir).storage)
    try:
        # The start use cases are not used here; the service is built as the server builds it.
        contacts = ContactService(storage, Notifier(LocalBus(), chat_frame))
        widgets = WidgetService(storage, contacts, AuthService(storage, Passwords(fast=True)),
                                base_url=args.public_url.rstrip("/"))
        return await ACTIONS[args.action](widgets, InstanceService(storage), args)
    finally:
        await storage.close()


async def _instance_id(instances: InstanceService, ref: str | None) -> str:
    return await instance_id_of(instances, ref, "Name the widget's instance with --instance (its alias or id).")


async def _flow_id(storage: Storage, instance_id: str, ref: str) -> str:
    """A contact flow's id from its id, ARN or name."""
    if looks_like_uuid(ref) or ref.startswith("arn:"):
        return ref
    found = None
    if "\x00" not in ref:
        async with storage.transaction() as uow:
            found = await uow.resources.find_by_name(ContactFlow, instance_id, ref)
    if found is None:
        raise NotFound(f"The instance has no contact flow named '{ref[:100]}'.")
    return found.id


def snippet(base_url: str, widget_id: str) -> str:
    """The tag a website adds to its pages to show the widget."""
    src = html.escape(f"{base_url.rstrip('/')}/widget.js", quote=True)
    return f'<script src="{src}" data-widget-id="{html.escape(widget_id, quote=True)}" async></script>'


def _show(widget: Widget, base_url: str, *, new_key: bool = False) -> None:
    origins = ", ".join(widget.allowed_origins) or "none"
    if new_key:
        key = f"{widget.security_key}\n{'':16}({KEY_NOTE})"
    else:
        key = "set (chats need a signed token; rotate-key gives a new one)" if widget.needs_token else "none"
    rows = [
        ("id", widget.id), ("name", widget.name), ("instance", widget.instance_id),
        ("contact flow", widget.contact_flow_id),
        ("allowed origins", f"{origins} (and Parley's own pages)"), ("title", widget.title),
        ("greeting", widget.greeting or "none"),
        ("colours", f"{widget.on_primary_color} text on {widget.primary_color}"), ("security key", key),
        ("embed snippet", snippet(base_url, widget.id)),
    ]
    for label, value in rows:
        print(f"{label:<16}{value}")


async def _create(widgets: WidgetService, instances: InstanceService, args: argparse.Namespace) -> int:
    if not args.name:
        raise InvalidRequest("Give the widget a name with --name.")
    instance_id = await _instance_id(instances, args.instance)
    flow = await _flow_id(widgets.storage, instance_id, args.contact_flow or SAMPLE_INBOUND_FLOW)
    settings = {k: v for k, v in {"title": args.title, "greeting": args.greeting, "primary_color": args.primary_color,
                                  "on_primary_color": args.on_primary_color}.items() if v is not None}
    widget = await widgets.create(SYSTEM, instance_id, args.name, flow, allowed_origins=tuple(args.origin or ()),
                                  secure=args.secure, **settings)
    print(f"Created widget '{widget.name}'.")
    _show(widget, args.public_url, new_key=widget.needs_token)
    return 0


async def _list(widgets: WidgetService, instances: InstanceService, args: argparse.Namespace) -> int:
    instance_id = await _instance_id(instances, args.instance)
    found = await widgets.list_widgets(SYSTEM, instance_id)
    if not found:
        print("This instance has no widgets yet (parley widget create --name NAME).")
        return 0
    print(f"{'ID':<38}{'KEY':<5}{'ORIGINS':<9}NAME")
    for widget in found:
        print(f"{widget.id:<38}{'yes' if widget.needs_token else 'no':<5}{len(widget.allowed_origins):<9}{widget.name}")
    return 0


async def _show_one(widgets: WidgetService, _instances: InstanceService, args: argparse.Namespace) -> int:
    _show(await widgets.describe(SYSTEM, args.widget_id), args.public_url)
    return 0


async def _update(widgets: WidgetService, _instances: InstanceService, args: argparse.Namespace) -> int:
    before = await widgets.describe(SYSTEM, args.widget_id)
    flow = await _flow_id(widgets.storage, before.instance_id, args.contact_flow) if args.contact_flow else None
    origins = () if args.clear_origins else tuple(args.origin) if args.origin else None
    secure = True if args.secure else False if args.not_secure else None
    widget = await widgets.update(SYSTEM, before.id, WidgetChanges(
        name=args.name, contact_flow_id=flow, allowed_origins=origins, title=args.title, greeting=args.greeting,
        primary_color=args.primary_color, on_primary_color=args.on_primary_color, secure=secure,
    ))
    print(f"Updated widget '{widget.name}'.")
    _show(widget, args.public_url, new_key=widget.needs_token and not before.needs_token)
    return 0


async def _delete(widgets: WidgetService, _instances: InstanceService, args: argparse.Namespace) -> int:
    widget = await widgets.describe(SYSTEM, args.widget_id)
    await widgets.delete(SYSTEM, widget.id)
    print(f"Deleted widget '{widget.name}' ({widget.id}).")
    return 0


async def _rotate(widgets: WidgetService, _instances: InstanceService, args: argparse.Namespace) -> int:
    widget = await widgets.rotate_key(SYSTEM, args.widget_id)
    print(f"New security key of widget '{widget.name}'; tokens signed with the old key are refused from now on.")
    _show(widget, args.public_url, new_key=True)
    return 0


ACTIONS: dict[str, Action] = {
    "create": _create, "list": _list, "show": _show_one, "update": _update, "delete": _delete,
    "rotate-key": _rotate,
}

"""``parley canned``: list, add, change and delete canned responses (the saved replies agents insert from the
workspace by typing ``/``) from the command line, on the database directly (with or without the server running),
through the same use cases as the workspace (:class:`parley.service.canned.CannedResponseService`).

Without ``--user`` an action works on the instance's shared list; with ``--user USERNAME``, on that agent's own.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path

from parley.cli_common import instance_id_of, run_reporting
from parley.config import Config
from parley.domain.callers import SYSTEM
from parley.domain.canned import CannedResponse
from parley.domain.errors import InvalidRequest, NotFound
from parley.domain.resources import User
from parley.service.canned import CannedResponseService
from parley.service.instances import InstanceService
from parley.storage import open_storage

# The flags ``PARLEY_<FLAG>`` environment variables may give ``parley canned``: where the database is.
CANNED_ENV_FLAGS = frozenset({"--storage", "--data-dir"})
# How much of a text the list shows on its line.
PREVIEW = 60

CANNED_EPILOG = """\
examples:
  parley canned list --instance demo
  parley canned add --name "Greeting" --text "Hello, how can I help you today?"
  parley canned add --user agent1 --name "Refunds" --text "Refunds reach your card within 5 days."
  parley canned update RESPONSE_ID --text "Hello! How can I help?"
  parley canned delete RESPONSE_ID
"""


def add_canned_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    canned = commands.add_parser(
        "canned", help="manage the canned responses agents insert in chats",
        description="List, add, change and delete canned responses: the instance's shared list, or one agent's own "
        "with --user. Agents insert them from the workspace's message box by typing '/'. Works on the database "
        "directly, with or without the server running.", epilog=CANNED_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = canned.add_subparsers(dest="action", metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("parley-data"),
                        help="where the SQLite database lives (default: ./parley-data)")
    common.add_argument("--storage", metavar="URL", help="database URL: sqlite:///PATH (default: "
                        "DATA_DIR/parley.db) or postgresql://USER@HOST:PORT/DB")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--instance", metavar="ID_OR_ALIAS",
                       help="the instance (default: the only instance, when there is one)")
    where.add_argument("--user", metavar="USERNAME", help="an agent's own list instead of the instance's")
    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("response_id", metavar="RESPONSE_ID")
    actions.add_parser("list", parents=[common, where], help="list the instance's (or an agent's) responses",
                       description="List a list's canned responses: id, name and the start of the text.")
    add = actions.add_parser("add", parents=[common, where], help="add a canned response; prints its id",
                             description="Add a canned response to the instance's list (or --user's own).")
    add.add_argument("--name", required=True, help="what agents search for, unique in its list (1-100 characters)")
    add.add_argument("--text", required=True, help="what it inserts into the message box (1-4000 characters)")
    actions.add_parser("show", parents=[common, one], help="show a canned response",
                       description="Show a canned response's name, list and whole text.")
    update = actions.add_parser("update", parents=[common, one], help="change a canned response's name or text",
                                description="Change the name and/or text given; the other stays as it is.")
    update.add_argument("--name", help="a new name, unique in its list")
    update.add_argument("--text", help="a new text")
    actions.add_parser("delete", parents=[common, one], help="delete a canned response",
                       description="Delete a canned response from its list.")


def run_canned_command(args: argparse.Namespace) -> int:
    """Run ``parley canned ACTION``; 1 with the reason on stderr when it is refused."""
    return run_reporting("canned", _run(args))


Action = Callable[[CannedResponseService, InstanceService, argparse.Namespace], Awaitable[int]]


async def _run(args: argparse.Namespace) -> int:
    storage = await open_storage(args.storage or Config(data_dir=args.data_dir).storage)
    try:
        return await ACTIONS[args.action](CannedResponseService(storage), InstanceService(storage), args)
    finally:
        await storage.close()


async def _list_of(canned: CannedResponseService, instances: InstanceService,
                   args: argparse.Namespace) -> tuple[str, str | None]:
    """The instance's id and the owner's user id (None: the instance's shared list) the flags name."""
    instance_id = await instance_id_of(instances, args.instance, "Name the instance with --instance (its alias or id).")
    if not args.user:
        return instance_id, None
    user = None
    if "\x00" not in args.user:
        async with canned.storage.transaction() as uow:
            user = await uow.resources.find_by_name(User, instance_id, args.user)
    if user is None:
        raise NotFound(f"The instance has no user named '{args.user[:100]}'.")
    return instance_id, user.id


def _whose(response: CannedResponse) -> str:
    return "the instance's list" if response.shared else f"the own list of user {response.owner_user_id}"


async def _list(canned: CannedResponseService, instances: InstanceService, args: argparse.Namespace) -> int:
    instance_id, owner = await _list_of(canned, instances, args)
    found = await canned.list_responses(SYSTEM, instance_id, owner_user_id=owner)
    if not found:
        print("This list has no canned responses yet (parley canned add --name NAME --text TEXT).")
        return 0
    print(f"{'ID':<38}{'NAME':<32}TEXT")
    for response in found:
        text = " ".join(response.text.split())
        shown = text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"
        print(f"{response.id:<38}{response.name[:30]:<32}{shown}")
    return 0


async def _add(canned: CannedResponseService, instances: InstanceService, args: argparse.Namespace) -> int:
    instance_id, owner = await _list_of(canned, instances, args)
    response = await canned.create(SYSTEM, instance_id, args.name, args.text, owner_user_id=owner)
    where = f"{args.user}'s own list" if owner else "the instance's list"
    print(f"Added canned response '{response.name}' ({response.id}) to {where}.")
    return 0


async def _show(canned: CannedResponseService, _instances: InstanceService, args: argparse.Namespace) -> int:
    response = await canned.describe(SYSTEM, args.response_id)
    for label, value in (("id", response.id), ("name", response.name), ("instance", response.instance_id),
                         ("list", _whose(response)), ("text", response.text)):
        print(f"{label:<10}{value}")
    return 0


async def _update(canned: CannedResponseService, _instances: InstanceService, args: argparse.Namespace) -> int:
    if args.name is None and args.text is None:
        raise InvalidRequest("Give a new --name and/or --text.")
    response = await canned.update(SYSTEM, args.response_id, name=args.name, text=args.text)
    print(f"Updated canned response '{response.name}' ({response.id}).")
    return 0


async def _delete(canned: CannedResponseService, _instances: InstanceService, args: argparse.Namespace) -> int:
    response = await canned.delete(SYSTEM, args.response_id)
    print(f"Deleted canned response '{response.name}' ({response.id}) from {_whose(response)}.")
    return 0


ACTIONS: dict[str, Action] = {"list": _list, "add": _add, "show": _show, "update": _update, "delete": _delete}

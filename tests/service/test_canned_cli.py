"""``parley canned`` on a demo database: list the demo's shared responses, add one to the shared list and one to an
agent's own, show, change and delete them; refusals exit 1 with the reason on stderr and change nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from parley.cli import main
from parley.domain.callers import SYSTEM
from parley.domain.resources import User
from parley.service.canned import DEMO_RESPONSES, CannedResponseService
from parley.service.demo import ensure_demo
from parley.service.directory import DirectoryService
from parley.service.instances import InstanceService
from parley.service.passwords import Passwords
from parley.service.quick_connects import QuickConnectService
from parley.storage import open_storage

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _setup(url: str) -> None:
    storage = await open_storage(url)
    try:
        await ensure_demo(storage, InstanceService(storage), DirectoryService(storage, Passwords(fast=True)),
                          QuickConnectService(storage))
    finally:
        await storage.close()


async def _own_names(url: str, username: str) -> list[str]:
    storage = await open_storage(url)
    try:
        instance = await InstanceService(storage).find_instance("demo")
        assert instance is not None
        async with storage.transaction() as uow:
            user = await uow.resources.find_by_name(User, instance.id, username)
        assert user is not None
        listed = await CannedResponseService(storage).list_responses(SYSTEM, instance.id, owner_user_id=user.id)
        return [r.name for r in listed]
    finally:
        await storage.close()


def test_parley_canned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    asyncio.run(_setup(url))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["canned", *args, "--storage", url])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("list", "--instance", "demo")
    assert code == 0
    for name, _text in DEMO_RESPONSES:
        assert name in out

    code, out, _ = run("add", "--name", "Shipping", "--text", "Parcels ship within 2 days.")
    assert code == 0 and "to the instance's list" in out  # the only instance: no --instance needed
    shared_id = ID.search(out).group(0)  # type: ignore[union-attr]
    code, out, _ = run("add", "--user", "agent1", "--name", "My sign-off", "--text", "Cheers,\nAgent1")
    assert code == 0
    own_id = ID.search(out).group(0)  # type: ignore[union-attr]
    assert asyncio.run(_own_names(url, "agent1")) == ["My sign-off"]

    code, out, _ = run("list", "--user", "agent1")
    assert code == 0 and "My sign-off" in out and "Shipping" not in out
    code, out, _ = run("show", own_id)
    assert code == 0 and "Cheers,\nAgent1" in out and "own list of user" in out
    code, out, _ = run("update", shared_id, "--text", "Parcels ship within 1 day.")
    assert code == 0
    code, out, _ = run("show", shared_id)
    assert "Parcels ship within 1 day." in out

    # Refusals: a duplicate name, an empty text, an unknown user, an unknown id; nothing changes.
    code, _, err = run("add", "--name", "Shipping", "--text", "again")
    assert code == 1 and "already has a canned response named 'Shipping'" in err
    code, _, err = run("add", "--name", "Blank", "--text", "   ")
    assert code == 1 and "needs a text" in err
    code, _, err = run("add", "--user", "nobody", "--name", "X", "--text", "Y")
    assert code == 1 and "no user named 'nobody'" in err
    code, _, err = run("delete", "not-an-id")
    assert code == 1 and "was not found" in err
    code, _, err = run("update", shared_id)
    assert code == 1 and "--name and/or --text" in err

    code, out, _ = run("delete", own_id)
    assert code == 0 and "Deleted canned response 'My sign-off'" in out
    assert asyncio.run(_own_names(url, "agent1")) == []
    assert main(["canned"]) == 2  # no action: the help

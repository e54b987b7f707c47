"""SQLite's WAL under writes that never pause: the checkpointer (``storage/sqlite.py``) copies it back off the
event loop, and a RESTART checkpoint lets the next commit start it over, so it does not grow without end (the
first commit after a pause used to truncate hundreds of MB with the event loop stopped)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from parley.storage import sqlite as database
from parley.storage.database import open_storage


async def test_the_wal_starts_over_while_writes_never_pause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.05)
    monkeypatch.setattr(database, "RESTART_FRAMES", 20)
    storage = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    wal = tmp_path / "parley.db-wal"
    salts: set[bytes] = set()  # salt-1 and salt-2 of the WAL header change each time the WAL starts over
    keys: list[tuple[str, str]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    try:
        while len(salts) < 4 and loop.time() < deadline:
            batch = [("test", str(uuid.uuid4())) for _ in range(20)]
            async with storage.transaction() as uow:
                await uow.appends.save_answers([(scope, token, {"n": len(keys)}) for scope, token in batch])
            keys += batch
            salts.add(wal.read_bytes()[16:24])
            await asyncio.sleep(0)  # one loop turn: the checkpointer's task runs, the writes do not pause
    finally:
        await storage.close()
    assert len(salts) >= 4, f"the WAL never started over in {len(keys) // 20} commits"
    reopened = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    try:  # every commit survived the checkpoints and restarts
        async with reopened.transaction() as uow:
            found = await uow.appends.find_answers(keys[:50] + keys[-50:])
    finally:
        await reopened.close()
    assert len(found) == 100


async def test_the_restart_comes_after_the_file_is_synced_and_copied_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a RESTART holds writers off for is left small: the checkpointer syncs the database file, copies the
    WAL again and syncs again first, none of it holding the write lock; meanwhile every commit goes through."""
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.05)
    monkeypatch.setattr(database, "RESTART_FRAMES", 20)
    steps: list[str] = []
    checkpoint, sync = database.Checkpointer._checkpoint, database.Checkpointer._sync

    path = str(tmp_path / "parley.db")

    # Only this test's checkpointer: another storage of the session (a fixture's) runs one too, on its own thread.
    def record_checkpoint(self: database.Checkpointer, mode: str) -> int:
        if self.path == path:
            steps.append(mode)
        return checkpoint(self, mode)

    def record_sync(self: database.Checkpointer) -> None:
        if self.path == path:
            steps.append("sync")
        sync(self)

    monkeypatch.setattr(database.Checkpointer, "_checkpoint", record_checkpoint)
    monkeypatch.setattr(database.Checkpointer, "_sync", record_sync)
    storage = await open_storage(f"sqlite:///{path}")
    keys: list[tuple[str, str]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    try:
        while steps.count("RESTART") < 3 and loop.time() < deadline:
            batch = [("test", str(uuid.uuid4())) for _ in range(20)]
            async with storage.transaction() as uow:
                await uow.appends.save_answers([(scope, token, {"n": len(keys)}) for scope, token in batch])
            keys += batch
            await asyncio.sleep(0)
    finally:
        await storage.close()
    assert steps.count("RESTART") >= 3, steps
    for i, step in enumerate(steps):
        if step == "RESTART":
            assert steps[i - 4:i] == ["PASSIVE", "sync", "PASSIVE", "sync"], steps
    reopened = await open_storage(f"sqlite:///{tmp_path / 'parley.db'}")
    try:
        async with reopened.transaction() as uow:
            found = [len(await uow.appends.find_answers(keys[i:i + 100])) for i in range(0, len(keys), 100)]
        assert sum(found) == len(keys)
    finally:
        await reopened.close()

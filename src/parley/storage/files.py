"""Attachment bytes as files in a directory (the data dir), written atomically."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad file key {key!r}")
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            os.replace(partial, path)

        await asyncio.to_thread(write)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], size: int) -> int:
        """Write ``chunks`` to a partial file as they arrive and move it into place only if they were exactly
        ``size`` bytes; reading stops at the first byte past ``size``. Answers the bytes received."""
        path = self._path(key)
        # Its own partial file, so two uploads to one URL at once cannot interleave their bytes.
        partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.partial")

        def open_partial() -> BinaryIO:
            path.parent.mkdir(parents=True, exist_ok=True)
            return partial.open("wb")

        received = 0
        out = await asyncio.to_thread(open_partial)
        try:
            async for chunk in chunks:
                received += len(chunk)
                if received > size:
                    break
                if chunk:
                    await asyncio.to_thread(out.write, chunk)
        finally:
            await asyncio.to_thread(out.close)
        if received == size:
            await asyncio.to_thread(os.replace, partial, path)
        else:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(partial.unlink)
        return received

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return await asyncio.to_thread(lambda: path.read_bytes() if path.exists() else None)

    async def size(self, key: str) -> int | None:
        path = self._path(key)
        return await asyncio.to_thread(lambda: path.stat().st_size if path.exists() else None)

"""The pages' own ES modules, minified as they are served (esbuild, from npm like the other browser libraries).

The files in the apps' ``static`` folders stay the readable source, with their comments; browsers get them
without comments and whitespace, with short local names (the chat widget's window: 26 KB gzipped as written, 18 KB
minified). Each file is minified once per version of it (its modification time and size) and kept. Without
esbuild installed (``npm`` missing), or when it refuses a file, the file is served as written.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

# esbuild's options: every minification, output in UTF-8 (the modules' text, not \u escapes), ES modules kept.
ESBUILD_ARGS = ("--minify", "--charset=utf8", "--loader=js", "--format=esm", "--log-level=error")
TIMEOUT_SECONDS = 30.0


class ScriptMinifier:
    def __init__(self, node_modules: Path | None) -> None:
        found = node_modules / ".bin" / "esbuild" if node_modules else None
        self.esbuild = found if found is not None and found.exists() else None
        # path -> (modification time in ns, size, minified bytes)
        self._done: dict[Path, tuple[int, int, bytes]] = {}
        self._lock = asyncio.Lock()

    async def script(self, path: Path) -> bytes:
        """``path``'s text minified (the file's own bytes when it cannot be)."""
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        done = self._done.get(path)
        if done is not None and done[:2] == key:
            return done[2]
        async with self._lock:  # one esbuild at a time: a page's first load asks for a dozen modules at once
            done = self._done.get(path)
            if done is not None and done[:2] == key:
                return done[2]
            source = path.read_bytes()
            minified = await asyncio.to_thread(self.minify, path, source)
            self._done[path] = (*key, minified)
            return minified

    def minify(self, path: Path, source: bytes) -> bytes:
        """``source`` (the text of ``path``) minified, or as it is; blocks while esbuild runs."""
        if self.esbuild is None:
            return source
        try:
            done = subprocess.run([str(self.esbuild), *ESBUILD_ARGS], input=source, capture_output=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("esbuild could not run (%s): %s is served as written", exc, path.name)
            return source
        if done.returncode != 0 or not done.stdout:
            log.warning("esbuild refused %s (%s): it is served as written", path, done.stderr.decode(errors="replace"))
            return source
        return done.stdout

"""A tiny static page server for the StreamsJS e2e tests: serves registered in-memory pages and a directory
(``examples/custom-ccp``) from ``http://127.0.0.1:<port>``, a port the test picks because the approved
origins name it (8080 for the demo). A taken port fails the test with a clear message instead of skipping."""

from __future__ import annotations

import errno
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class PageServer:
    """``add(path, body)`` registers a page; ``mount(prefix, directory)`` serves files under a prefix."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.mounts: dict[str, Path] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                found = server.lookup(path)
                if found is None:
                    self.send_error(404)
                    return
                body, kind = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                pytest.fail(f"127.0.0.1:{port} is taken by another process; these tests must serve pages from "
                            f"exactly {self.origin} (an approved origin of the demo instance): stop that process "
                            f"(e.g. `ss -ltnp 'sport = :{port}'`) and run again")
            raise
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: str | bytes, kind: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (body.encode() if isinstance(body, str) else body, kind)
        return self.origin + path

    def mount(self, prefix: str, directory: Path) -> str:
        self.mounts[prefix.rstrip("/") + "/"] = directory.resolve()
        return self.origin + prefix.rstrip("/") + "/"

    def lookup(self, path: str) -> tuple[bytes, str] | None:
        if path in self.pages:
            return self.pages[path]
        for prefix, directory in self.mounts.items():
            if not path.startswith(prefix):
                continue
            name = path[len(prefix):] or "index.html"
            file = (directory / name).resolve()
            if directory not in file.parents or not file.is_file():
                return None
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind == "application/javascript":
                kind += "; charset=utf-8"
            return file.read_bytes(), kind
        return None

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

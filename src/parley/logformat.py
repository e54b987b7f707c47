"""How the server's log lines look: text for people (the default) or one JSON object per line for collectors.

``--log-format json`` writes each record as ``{"time", "level", "logger", "message"}``, plus ``request_id`` when
the record was written while serving a request (the ``x-amzn-RequestId`` the client got back,
:data:`parley.web.tracking.REQUEST_ID`) and ``exception`` with the traceback when there is one. uvicorn's own
loggers are routed through the same handler, so every line of the process has one format.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

from parley.web.tracking import REQUEST_ID

# The formats ``--log-format`` accepts.
FORMATS = ("text", "json")
# The text format's line (the one Parley always had).
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Read where the record is written: handlers run in the task that logs, so this is that request's id.
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str, log_format: str) -> None:
    """Set the root logger's level and format (``text`` or ``json``)."""
    if log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level.upper(), format=TEXT_FORMAT)

"""``GET /health``: is the process up and can it reach its database."""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import __version__
from parley.service.ports import Storage


def health_endpoint(storage: Storage) -> object:
    async def health(_request: Request) -> JSONResponse:
        try:
            async with storage.transaction() as uow:
                await uow.instances.find("health-check")
        except Exception as exc:
            return JSONResponse({"status": "unhealthy", "storage": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__, "pid": os.getpid()})

    return health

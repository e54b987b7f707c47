"""``GET /ready``: may a load balancer send this node traffic (storage and bus answer, schema current)?

``/health`` says the process is alive; ``/ready`` runs every readiness check the composition root hands it (each
an awaitable that raises when its dependency is not usable) and answers 200 when all pass, else 503 with a JSON
body naming each failed check and why, so an operator reading the balancer's log knows what to fix.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import __version__

# A check that has not answered after this long fails: a balancer's health check (HAProxy's default timeout
# is its interval, 2 s) should hear "not ready" rather than time out and guess.
CHECK_SECONDS = 1.5

Check = Callable[[], Awaitable[object]]


async def _run(check: Check) -> str | None:
    """None when ``check`` passes, else a one-line reason."""
    try:
        await asyncio.wait_for(check(), CHECK_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS} s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def ready_endpoint(checks: Mapping[str, Check]) -> Callable[[Request], Awaitable[JSONResponse]]:
    names = list(checks)

    async def ready(_request: Request) -> JSONResponse:
        reasons = await asyncio.gather(*(_run(checks[name]) for name in names))
        failed = {name: reason for name, reason in zip(names, reasons, strict=True) if reason is not None}
        body: dict[str, object] = {
            "status": "not ready" if failed else "ready", "version": __version__, "pid": os.getpid(),
            "checks": {name: "failed" if name in failed else "ok" for name in names},
        }
        if failed:
            body["failed"] = failed
        return JSONResponse(body, status_code=503 if failed else 200)

    return ready

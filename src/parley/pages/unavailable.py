"""What a page answers while the database cannot be reached: 503 with ``Retry-After``, never a 500 — a page for a
browser that says to try again, a small JSON error for a script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from parley.pages.templating import Pages, wants_html

RETRY_SECONDS = 1


def storage_unavailable(pages: Pages) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A Starlette exception handler for :class:`parley.service.ports.StorageUnavailable`."""

    async def handle(request: Request, _exc: Exception) -> Response:
        headers = {"Retry-After": str(RETRY_SECONDS)}
        if wants_html(request):
            return pages.render(request, "unavailable.html", {}, status=503, headers=headers)
        return JSONResponse({"Code": "ServiceUnavailable", "Message": "Parley cannot reach its database right "
                             "now: try again in a moment."}, 503, {**headers, "Cache-Control": "no-store"})

    return handle

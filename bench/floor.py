"""The floor: a minimal chat broadcast server on Parley's own stack, for ratios measured in the same run.

uvicorn (uvloop, httptools, ``ws="websockets-sansio"``, the websockets library Parley runs on) + Starlette, as
``parley serve`` configures them. No persistence, no auth, no validation. ``POST /send`` takes
``{"room", "pid", "content"}``, wraps the content in a Connect-like item (uuid Id, ISO time, the ``aws/chat``
envelope with the item as a JSON string, so frames are about as large as Parley's) and writes it to every
socket of the room, the sender's included, before answering. ``/ws?room=R&pid=P`` is a room socket; it
answers ``aws/subscribe`` and ``aws/heartbeat`` like Parley, so the benchmark's clients are the same.

Run: ``python -m bench.floor PORT``.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

rooms: dict[str, set[WebSocket]] = {}
SUBSCRIBED = '{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}'


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def send(request: Request) -> Response:
    body = orjson.loads(await request.body())
    room = str(body["room"])
    item = {"AbsoluteTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "Content": body["content"], "ContentType": "text/plain", "Id": str(uuid.uuid4()), "Type": "MESSAGE",
            "ParticipantId": str(body["pid"]), "DisplayName": "someone", "ParticipantRole": "AGENT",
            "InitialContactId": room, "ContactId": room}
    frame = orjson.dumps({"topic": "aws/chat", "contentType": "application/json",
                          "content": orjson.dumps(item).decode()}).decode()
    for ws in list(rooms.get(room, ())):
        try:
            await ws.send_text(frame)
        except Exception:
            rooms.get(room, set()).discard(ws)
    return Response(orjson.dumps({"Id": item["Id"], "AbsoluteTime": item["AbsoluteTime"]}),
                    media_type="application/json")


async def socket(ws: WebSocket) -> None:
    room = ws.query_params.get("room", "")
    await ws.accept()
    members = rooms.setdefault(room, set())
    try:
        while True:
            text = await ws.receive_text()
            if '"aws/subscribe"' in text:
                members.add(ws)
                await ws.send_text(SUBSCRIBED)
            elif '"aws/heartbeat"' in text:
                await ws.send_text('{"topic":"aws/heartbeat"}')
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(ws)


app = Starlette(routes=[Route("/health", health), Route("/send", send, methods=["POST"]),
                        WebSocketRoute("/ws", socket)])


def main() -> None:
    port = int(sys.argv[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http="httptools",
                            ws="websockets-sansio", lifespan="off", access_log=False)
    import uvloop

    uvloop.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()

"""The ceiling: a bare aiohttp WebSocket server that answers the widget protocol with nothing behind it."""

from __future__ import annotations

import argparse
import json

from aiohttp import WSMsgType, web


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Welcome on hello; acknowledge every message at once (no NLU, no storage)."""
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        if frame.get("type") == "hello":
            await socket.send_json({"type": "welcome", "resumed": False, "history": []})
        elif frame.get("type") == "message":
            await socket.send_json({"type": "ack", "id": frame["id"], "seq": 0, "duplicate": False})
    return socket


def main() -> None:
    """Serve on the given port."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/ws", websocket)
    app.router.add_get("/ready", lambda request: web.json_response({"status": "ready"}))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

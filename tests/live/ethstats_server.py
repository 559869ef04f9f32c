#!/usr/bin/env python3
"""A minimal ethstats server: what the live test runs in place of the ethstats image.

Speaks the part of the protocol geth's ethstats client needs (websocket at /api):
`hello` with the node name and secret is answered with `ready` (or the connection
is closed when the secret is wrong, as the real server does), `node-ping` with
`node-pong`; `block`, `pending`, `stats`, `latency` and `history` reports are
recorded. Reads PORT and WS_SECRET from the environment, like the real server.
GET /nodes answers what it has seen as JSON, for the test to read.
"""
from __future__ import annotations

import http
import json
import os
import threading
import time

from websockets.sync.server import serve

SEEN: dict[str, dict] = {}
LOCK = threading.Lock()
SECRET = os.environ.get("WS_SECRET", "")


def record(name: str, **update) -> None:
    with LOCK:
        node = SEEN.setdefault(name, {"hello": 0, "rejected": 0, "blocks": [], "stats": 0, "pending": 0})
        for key, value in update.items():
            if key == "block":
                node["blocks"] = (node["blocks"] + [value])[-50:]
            elif key in ("hello", "rejected", "stats", "pending"):
                node[key] += value
            else:
                node[key] = value


def handle(ws) -> None:
    name = None
    for raw in ws:
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        emit = msg.get("emit") if isinstance(msg, dict) else None
        if not emit:
            continue
        cmd, arg = emit[0], (emit[1] if len(emit) > 1 else {})
        if cmd == "hello":
            name = arg.get("id")
            if arg.get("secret") != SECRET:
                record(name or "?", rejected=1)
                ws.close()
                return
            record(name, hello=1, info=arg.get("info", {}))
            ws.send(json.dumps({"emit": ["ready"]}))
        elif name is None:
            continue
        elif cmd == "node-ping":
            ws.send(json.dumps({"emit": ["node-pong", {"clientTime": arg.get("clientTime"),
                                                       "serverTime": int(time.time() * 1000)}]}))
        elif cmd == "block":
            block = arg.get("block", {})
            record(name, block=block.get("number"))
        elif cmd == "stats":
            record(name, stats=1, last_stats=arg.get("stats", {}))
        elif cmd == "pending":
            record(name, pending=1)


def process_request(connection, request):
    if request.path == "/nodes":
        with LOCK:
            body = json.dumps(SEEN)
        return connection.respond(http.HTTPStatus.OK, body)
    if request.headers.get("Upgrade", "").lower() != "websocket" or request.path != "/api":
        return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
    return None


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    with serve(handle, "0.0.0.0", port, process_request=process_request) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()

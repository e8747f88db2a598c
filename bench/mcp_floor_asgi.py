"""B10's floor: a bare ASGI app answering MCP's JSON-RPC with canned responses recorded from the shop.

No Django, no MCP server, no database: each POST to /mcp gets the recorded answer for its method (the
request's id put in), a notification 202, a GET 405. What a client measures against it is the transport
(daphne or uvicorn, HTTP on loopback) and the client's own work alone. `bench/mcp_profile.py` records
the answers (MCP_FLOOR_ANSWERS: a JSON file, method -> {"headers": [...], "body": {...}}) and serves this.
"""

import json
import os

with open(os.environ["MCP_FLOOR_ANSWERS"]) as recorded:
    ANSWERS = json.load(recorded)


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    status, headers, payload = 405, [], b""
    if scope["method"] == "POST":
        message = json.loads(await _body(receive))
        answer = ANSWERS.get(message.get("method", ""))
        if "id" not in message:
            status = 202
        elif answer is not None:
            status = 200
            headers = [(name.encode(), value.encode()) for name, value in answer["headers"]]
            payload = json.dumps({**answer["body"], "id": message["id"]}).encode()
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

"""A local, scripted OpenAI-compatible server: `POST /v1/chat/completions` streamed as SSE.

A real HTTP server in a thread, so tests drive the real `openai` client (which uses httpx2, where
respx-style mocks do not reach). Each request takes the next entry of the script:

- `reply(text, tool_calls)`: a streamed answer, text in small deltas, tool calls in fragments;
- `{"status": 500}` (optionally with `"headers"`): an error answer;
- `{"sleep": seconds, ...}`: wait first (to trip the client's timeout);
- `{"cut": True, "text": ...}`: stream part of an answer, then drop the connection mid-body;
- a callable taking the request body and returning one of the above (a model that reads).

Every request body is kept in `requests`. Like OpenAI's endpoint, it answers 400 to messages in an
order the endpoint refuses (`message_order_error`): a tool call not followed directly by all its results,
or a tool result that answers no call just before it.
"""

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply(text: str = "", tool_calls: list | None = None, *, finish: str | None = None) -> dict:
    """Return a scripted answer; `tool_calls` are (id, name, arguments dict or raw JSON text)."""
    calls = [
        {"id": call_id, "name": name, "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)}
        for call_id, name, arguments in tool_calls or []
    ]
    return {"text": text, "tool_calls": calls, "finish": finish or ("tool_calls" if calls else "stop")}


def message_order_error(messages: list[dict]) -> str | None:
    """Return OpenAI's complaint about the order of `messages`, or None if it accepts them."""
    waiting: list[str] = []  # the calls of the last assistant message still without a result
    for message in messages:
        if waiting and message.get("role") != "tool":
            break
        if message.get("role") == "tool":
            if message.get("tool_call_id") not in waiting:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'."
                )
            waiting.remove(message["tool_call_id"])
        elif message.get("role") == "assistant" and message.get("tool_calls"):
            waiting = [call["id"] for call in message["tool_calls"]]
    if waiting:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(waiting)}"
        )
    return None


def _chunk(delta: dict, finish=None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def stream_chunks(answer: dict) -> list[bytes]:
    """Split an answer into SSE events the way real servers do: small text deltas, argument fragments."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    text = answer.get("text", "")
    for start in range(0, len(text), 4):
        chunks.append(_chunk({"content": text[start : start + 4]}))
    for index, call in enumerate(answer.get("tool_calls", [])):
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["name"]}}
        head["function"]["arguments"] = ""
        chunks.append(_chunk({"tool_calls": [head]}))
        arguments = call["arguments"]
        for start in range(0, len(arguments), 7):
            fragment = {"index": index, "function": {"arguments": arguments[start : start + 7]}}
            chunks.append(_chunk({"tool_calls": [fragment]}))
    if not answer.get("cut"):
        chunks.append(_chunk({}, finish=answer.get("finish", "stop")))
        chunks.append(b"data: [DONE]\n\n")
    return chunks


class FakeOpenAI:
    def __init__(self, script=None):
        self.script = list(script or [])
        self.requests: list[dict] = []
        self.refusals: list[str] = []  # the 400s answered to a refused message order
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake.lock:
                    fake.requests.append(body)
                    refusal = message_order_error(body.get("messages", []))
                    if refusal:
                        fake.refusals.append(refusal)
                        step = {"status": 400, "message": refusal, "type": "invalid_request_error"}
                    else:
                        step = fake.script.pop(0) if fake.script else reply("(script exhausted)")
                if callable(step):
                    step = step(body)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up: fine
                    self._answer(step)

            def _answer(self, step: dict):
                if step.get("sleep"):
                    time.sleep(step["sleep"])
                if step.get("status"):
                    error = {
                        "message": step.get("message", "scripted failure"),
                        "type": step.get("type", "server_error"),
                    }
                    payload = json.dumps({"error": error}).encode()
                    self.send_response(step["status"])
                    for name, value in (step.get("headers") or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in stream_chunks(step):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                if step.get("cut"):
                    # Drop the connection without the closing chunk: the body is incomplete.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(b"0\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def last_messages(self) -> list[dict]:
        return self.requests[-1]["messages"]

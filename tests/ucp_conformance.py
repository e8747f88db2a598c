"""Run the UCP conformance suite (../shared/ucp-conformance) against this shop: `make ucp-conformance`.

One run: a FRESH database (SQLite in a temporary directory; with UCP_DATABASE_URL a PostgreSQL database of
that name, dropped and created again), migrated, the suite's flower_shop data loaded through the shop's
importers (`import_flower_shop`), the shop served on a free loopback port (daphne, as `make run`) with a job
worker polling every 0.1 s (order webhooks must arrive within ~2 s; the search queue, embedding the products
for search by meaning, is left out: nothing of the suite searches), in USD with a simulation secret and the
outbound allow-list opened for loopback (the suite's mock agent and webhook receiver). Then the suite's
`run.sh` runs against it; the server and the worker are stopped whatever happens (failure, Ctrl-C,
SIGTERM). The last line printed is the runner's `ucp conformance: P passed, F failed of N`; the exit status
is the runner's (0 only with F = 0; 2 for a setup error).

`--all` (what `make test` runs) does it on SQLite, then on PostgreSQL (POSTGRES_TEST_URL's server, database
`mcpshop_ucp_conformance`), one after the other: the suite's mock servers hold fixed ports. A missing suite
or PostgreSQL server is skipped with a loud notice, a failure with CI=true.

Settings: UCP_SUITE (the suite's folder, default ../shared/ucp-conformance from the repository root),
UCP_DATABASE_URL, UCP_PORT (default: a free port). Runs from several worktrees wait for each other (a lock
in the temporary directory): two at once would fight over the suite's ports.
"""

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(os.environ.get("UCP_SUITE") or ROOT.parent / "shared" / "ucp-conformance")
PYTHON = sys.executable
POSTGRES_URL = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/mcpshop")
SUMMARY = re.compile(r"^ucp conformance: \d+ passed, \d+ failed of \d+$")
LOCK = Path(tempfile.gettempdir()) / "mcpshop-ucp-conformance.lock"
# Payment handlers the suite's discovery test expects besides the test provider's mock_payment_handler
# (ids google_pay and shop_pay, shop_pay's config with a shop_id); URLs from the UCP spec's examples and
# Shopify's handler documentation. Credentials for them are charged through PAYMENT_PROVIDER (test).
PAYMENT_HANDLERS = json.dumps(
    [
        {
            "id": "shop_pay",
            "name": "com.shopify.shop_pay",
            "version": "2026-01-11",
            "spec": "https://shopify.dev/docs/agents/checkout/shop-pay-handler",
            "config_schema": "https://shopify.dev/docs/agents/checkout/shop-pay-handler",
            "instrument_schemas": [],
            "config": {"shop_id": "mcpshop-conformance"},
        },
        {
            "id": "google_pay",
            "name": "com.google.pay",
            "version": "2024-12-03",
            "spec": "https://ucp.dev/handlers/google_pay",
            "config_schema": "https://ucp.dev/handlers/google_pay/config.json",
            "instrument_schemas": ["https://ucp.dev/handlers/google_pay/card_payment_instrument.json"],
            "config": {},
        },
    ]
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def banner(text: str) -> None:
    line = "=" * 78
    print(f"\n{line}\n  {text}\n{line}\n", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_postgres(url: str) -> None:
    """Drop and create the database `url` names (on its server, through the `postgres` database)."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or "") or name in ("postgres", "mcpshop"):
        raise SystemExit(f"UCP_DATABASE_URL: {name!r} is not a database this may drop (lower case, not the shop's).")
    with psycopg.connect(
        host=config["HOST"] or config.get("OPTIONS", {}).get("host"),
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    ) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop(process: subprocess.Popen | None) -> None:
    """Stop a process group started here, its leader gone or not: SIGTERM (a worker ends its job in hand), then
    SIGKILL for what is left after 10 s."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_server(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the shop's server exited at start (status {server.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise SystemExit(f"the shop's server did not listen on port {port} within {timeout:.0f} s")


def run_once(database_url: str | None) -> int:
    """One conformance run on a fresh database; return the runner's exit status (2: setup error)."""
    work = Path(tempfile.mkdtemp(prefix="mcpshop-ucp-"))
    port = int(os.environ.get("UCP_PORT") or free_port())
    secret = secrets.token_urlsafe(18)
    url = database_url or f"sqlite:///{work / 'shop.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOP_CURRENCY": "USD",
        "PAYMENT_PROVIDER": "test",
        "UCP_SIMULATION_SECRET": secret,
        "UCP_PAYMENT_HANDLERS": PAYMENT_HANDLERS,
        "OUTBOUND_ALLOW_HOSTS": "localhost",  # the suite's mock agent and webhook receiver, by name
        # The suite's webhook receiver listens only during webhook_test.py, so every order placed before
        # it fails its delivery; retried, those events reached a later test's receiver and were taken for
        # its own (CI, stop 18: WebhookTest.test_webhook_order_address_known_customer on both databases).
        "WEBHOOK_MAX_ATTEMPTS": "1",
        "SHOP_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    where = "PostgreSQL" if database_url else "SQLite"
    print(f"UCP conformance on {where} ({url}), shop at http://127.0.0.1:{port}, logs in {work}", flush=True)
    server = worker = runner = None
    summary, status = None, 2
    try:
        if database_url:
            from other_databases import has_pgvector

            fresh_postgres(database_url)
            if not has_pgvector(database_url):  # Debian's PostgreSQL 15: vectors in the numpy store
                env["PGVECTOR"] = "off"
        setup_log = (work / "setup.log").open("w")
        manage = [PYTHON, str(ROOT / "manage.py")]
        for step in (["migrate", "--noinput"], ["import_flower_shop", str(SUITE / "suite/test_data/flower_shop")]):
            done = subprocess.run([*manage, *step], env=env, cwd=ROOT, stdout=setup_log, stderr=subprocess.STDOUT)
            if done.returncode:
                raise SystemExit(f"manage.py {step[0]} failed (status {done.returncode}): see {work / 'setup.log'}")
        server = subprocess.Popen(
            [str(Path(PYTHON).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "mcpshop_site.asgi:application"],
            env=env,
            cwd=ROOT,
            stdout=(work / "server.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this script, which stops the group itself
        )
        worker = subprocess.Popen(
            [
                *manage,
                "run_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--exclude-queues",
                "search",
            ],
            env=env,
            cwd=ROOT,
            stdout=(work / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_server(port, server)
        runner = subprocess.Popen(
            ["bash", str(SUITE / "run.sh"), f"http://127.0.0.1:{port}/ucp", secret],
            cwd=ROOT,
            env={**os.environ, "UCP_LOG_DIR": str(work / "suite")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its test processes and mock servers are stopped with it on Ctrl-C
        )
        for line in runner.stdout:
            print(line, end="", flush=True)
            if SUMMARY.match(line.strip()):
                summary = line.strip()
        status = runner.wait()
    except SystemExit as error:
        print(f"setup error: {error}", flush=True)
    except KeyboardInterrupt:
        print("Interrupted: stopping the suite, the server and the worker.", flush=True)
        summary, status = "ucp conformance: interrupted", 130
    finally:
        stop(runner)
        stop(worker)
        stop(server)
    if status == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"Logs kept in {work} (server.log, worker.log, setup.log, suite/).", flush=True)
    print(summary or f"ucp conformance: not run (setup error, status {status})", flush=True)
    return status


def run_all() -> int:
    """SQLite, then PostgreSQL; a missing suite or server is a loud skip (a failure with CI=true)."""
    from other_databases import reachable

    problems = []
    if not (SUITE / "run.sh").is_file():
        banner(f"UCP conformance suite NOT FOUND at {SUITE}: {'FAILING (CI=true)' if in_ci() else 'SKIPPING it'}")
        return 1 if in_ci() else 0
    statuses = {"SQLite": run_once(None)}
    problem = reachable("PostgreSQL", POSTGRES_URL)
    if problem:
        banner(
            f"PostgreSQL NOT REACHABLE at {POSTGRES_URL}: {problem}: {'FAILING (CI=true)' if in_ci() else 'SKIPPING'}"
        )
        if in_ci():
            problems.append("PostgreSQL unreachable")
    else:
        statuses["PostgreSQL"] = run_once(POSTGRES_URL.rpartition("/")[0] + "/mcpshop_ucp_conformance")
    print("UCP conformance: " + ", ".join(f"{name} exit {code}" for name, code in statuses.items()), flush=True)
    return 1 if problems or any(statuses.values()) else 0


def main() -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: `finally` stops everything started
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    if not (SUITE / "run.sh").is_file() and "--all" not in sys.argv:
        print(f"The UCP conformance suite is not at {SUITE} (set UCP_SUITE).")
        print("ucp conformance: not run (no suite)")
        return 2
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("Waiting for another UCP conformance run to end (the suite's ports are shared)...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if "--all" in sys.argv:
            return run_all()
        return run_once(os.environ.get("UCP_DATABASE_URL") or None)


if __name__ == "__main__":
    sys.exit(main())

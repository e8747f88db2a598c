"""What every benchmark script needs: a free port, a core of its own, latency summaries, the machine."""

import datetime
import itertools
import json
import os
import platform
import socket
import statistics
from importlib.metadata import version
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

RESULTS = Path(__file__).resolve().parent / "results"
SERVERS = ("daphne", "uvicorn", "gunicorn")  # the HTTP servers the benchmarks compare
# The UCP webhooks' signing key production requires (a throwaway one: benchmarks send no webhook out).
BENCH_UCP_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


def shop_env(database_url: str, **settings: str) -> dict[str, str]:
    """The shop's environment variables for a benchmark: production settings (DEBUG=0) without TLS, `database_url`,
    no model, no embeddings and the test payment provider; `settings` add to them or override them."""
    return {
        "DJANGO_SETTINGS_MODULE": "mcpshop_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k" * 50,
        "JWT_SIGNING_KEY": "bench-jwt-" + "j" * 50,
        "UCP_SIGNING_KEY": BENCH_UCP_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "EMBEDDING_BACKEND": "none",
        "OPENAI_API_KEY": "",
        "PAYMENT_TEST_MODE": "1",  # the `test` payment provider: benchmarks take no money
        **settings,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin(core: int) -> None:
    """Run this process (and what it starts afterwards) on `core` only, where the machine has it."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > core:
        os.sched_setaffinity(0, {core})


def summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000, 3),
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def machine(*packages: str) -> dict:
    """The host, CPU, load and the versions of `packages`, for a results file."""
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        **{package: version(package) for package in packages},
    }


def create_database(name: str, url: str) -> str | None:
    """Create database `url` on its server (`name` "mariadb" or "postgresql") if missing; return why not if the
    server is not there."""
    import environ

    config = environ.Env.db_url_config(url)
    try:
        if name == "mariadb":
            import MySQLdb

            connection = MySQLdb.connect(
                host=config["HOST"], port=int(config["PORT"] or 3306), user=config["USER"], password=config["PASSWORD"]
            )
            connection.cursor().execute(
                f"CREATE DATABASE IF NOT EXISTS `{config['NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            connection.close()
        else:
            import psycopg

            with psycopg.connect(
                host=config["HOST"],
                port=config["PORT"] or 5432,
                user=config["USER"],
                dbname="postgres",
                autocommit=True,
            ) as connection:
                if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
                    connection.execute(f'CREATE DATABASE "{config["NAME"]}"')
    except Exception as error:  # no server here: reported in the results instead
        return f"{type(error).__name__}: {error}"
    return None


def save(name: str, report: dict, text: str) -> Path:
    """Write `report` as JSON and `text` as markdown to bench/results/<UTC date>-<name>[-N].{json,md}, never over
    an earlier run's files (annotated results of the same day keep their reading). The date is UTC's: Django
    sets the process's time zone to the shop's (Asia/Shanghai), which named files a day ahead."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    first = RESULTS / f"{datetime.datetime.now(datetime.UTC).date().isoformat()}-{name}"
    stem = next(
        candidate
        for candidate in itertools.chain([first], (first.with_name(f"{first.name}-{n}") for n in itertools.count(2)))
        if not candidate.with_suffix(".json").exists() and not candidate.with_suffix(".md").exists()
    )
    stem.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    stem.with_suffix(".md").write_text(text)
    return stem

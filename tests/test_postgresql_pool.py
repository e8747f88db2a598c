"""The PostgreSQL pool's check (mcpshop_site/postgresql): no round trip for a quiet connection, and a connection
the server dropped is never handed to a request. The restart of a whole server is in
tests/security/test_faults_database.py."""

from unittest import mock

import pytest
from django.db import connection, connections
from psycopg import Connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection pool"),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Checks:
    """The empty statements sent straight on a connection: the pool's check (psycopg_pool's and Django's)."""

    def __init__(self):
        self.count = 0

    def __call__(self, real):
        def execute(conn, query, *args, **kwargs):
            self.count += query == ""
            return real(conn, query, *args, **kwargs)

        return execute


@pytest.fixture
def server_checks():
    checks = Checks()
    with mock.patch.object(Connection, "execute", checks(Connection.execute)):
        yield checks


def test_a_quiet_connection_is_lent_without_a_round_trip(server_checks):
    assert connection.pool is not None
    for _ in range(3):
        backend_pid()
        connection.close()  # back to the pool, as at the end of a request
    assert server_checks.count == 0


def test_connections_the_server_dropped_are_replaced(server_checks):
    backend_pid()
    connection.close()  # back to the pool, with any others it holds
    other = connections.create_connection("default")  # another session ends them, as a restart would
    try:
        with other.cursor() as cursor:
            # Waiting (up to 10 s) until each has exited, its farewell already on the socket: without the wait
            # the pool may look before a backend has written it (seen in CI), a race no check can close.
            cursor.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        other.close()
    backend_pid()  # no error: the dropped connections were checked and thrown away
    assert server_checks.count >= 1

"""Django's PostgreSQL backend with a cheaper check of the pool's connections (settings: the ENGINE on PostgreSQL).

The pool hands out no connection that a restart or crash of the server killed: Django's check of pooled
connections (CONN_HEALTH_CHECKS) sends an empty statement each time one is taken, which is on every request,
a round trip as dear as a cached page's whole database work. A connection idle in the pool has nothing to
read; one the server dropped (a restart, a crash, an idle timeout, pg_terminate_backend) has its farewell or
end-of-file waiting on its socket. So the socket is polled, at no round trip, and only a connection with
something waiting gets psycopg_pool's check; one that fails it goes back to the pool, which throws it away,
and another is taken. A connection cut without a word (a network partition) is not caught here, as it is not
by any check made before the cut: its first statement fails.
"""

import select

from django.db.backends.postgresql import base
from psycopg import Error
from psycopg_pool import ConnectionPool


def _has_news(connection) -> bool:
    """Return whether the server sent anything on this idle connection (an error, a notice, its end)."""
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return bool(readable)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        while True:
            connection = super().get_new_connection(conn_params)
            if self.pool is None or not _has_news(connection):
                return connection
            try:
                ConnectionPool.check_connection(connection)
            except Error:
                self.pool.putconn(connection)  # broken: the pool discards it
            else:
                return connection

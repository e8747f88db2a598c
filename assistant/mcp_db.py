"""Worker threads for the MCP server's ORM calls, keeping their database connections between calls.

Async code never touches the ORM directly. `database_sync_to_async` would close and reopen the
connection around every call (CONN_MAX_AGE is 0 under ASGI), which costs more than a tool call
itself on SQLite and MySQL (about 0.8 ms here, twice per MCP request: the token, then the tool).
These few threads keep theirs for up to `KEEP_SECONDS`; a connection that saw an error and no
longer answers, is left inside a transaction, or is too old is closed after the call, with Django's
own `close_if_unusable_or_obsolete`. Each call runs in its own thread, so one slow call does not
hold up the other MCP sessions (unlike Channels' single shared thread).
"""

import asyncio
import contextlib
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

KEEP_SECONDS = 60
WORKERS = 4
_local = threading.local()


def tidy_connections() -> None:
    """Close this thread's connections that are broken, mid-transaction or older than KEEP_SECONDS.

    A thread that serves many calls (these workers, the assistant's turn threads) calls this after
    each one instead of closing its connections: the next call finds its connection open.
    """
    seen = getattr(_local, "seen", None)
    if seen is None:
        seen = _local.seen = {}
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None:
            continue
        if seen.get(connection.alias) is not raw:  # opened by this call: keep it for a while
            seen[connection.alias] = raw
            connection.close_at = time.monotonic() + KEEP_SECONDS
        if connection.in_atomic_block:
            connection.close()
        else:
            connection.close_if_unusable_or_obsolete()


def _job(function, args, kwargs):
    try:
        return function(*args, **kwargs)
    finally:
        tidy_connections()


class DatabaseThreads:
    """A small pool of threads for synchronous ORM work called from the event loop."""

    def __init__(self, workers: int = WORKERS):
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._started = 0
        self._lock = threading.Lock()

    def _count_worker(self) -> None:
        with self._lock:
            self._started += 1

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._started = 0
                self._executor = ThreadPoolExecutor(
                    self.workers, thread_name_prefix="mcp-db", initializer=self._count_worker
                )
            return self._executor

    async def run(self, function, *args, **kwargs):
        """Run `function(*args, **kwargs)` in a worker thread (with the caller's context) and return its result."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), context.run, _job, function, args, kwargs)

    def close(self) -> None:
        """Close every worker's connections and stop the workers (a later call starts new ones)."""
        with self._lock:
            executor, self._executor, started = self._executor, None, self._started
        if executor is None:
            return
        if started:
            # One job per worker, each holding its thread at the barrier until all are taken, so
            # every worker closes its own connections (Django connections belong to their thread).
            barrier = threading.Barrier(started)

            def close_own():
                connections.close_all()
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)

            for _ in range(started):
                executor.submit(close_own)
        executor.shutdown(wait=True)


database_threads = DatabaseThreads()

"""The assistant's threads for synchronous ORM work called from the event loop (chat turns and MCP calls).

Async code never touches the ORM directly. Channels runs every consumer's sync calls on one shared thread, so
one slow call holds up every chat; a new thread per call would open a new connection each time, which costs
more than a tool call itself on SQLite and MySQL (about 0.8 ms here, twice per MCP request: the token, then
the tool; ~1.2 ms on SQLite, where Django registers its SQL functions on each new connection). So each use
borrows a thread of its own, and gives it back with its connection for the next use: a chat turn for all its
steps (`run_turn`), an MCP request for one call (`run`). A connection that saw an error and no longer answers,
is left inside a transaction, or is older than `KEEP_SECONDS` is closed after the call (`tidy_connections`,
Django's own `close_if_unusable_or_obsolete`). At most `keep` idle threads wait.
"""

import asyncio
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.utils import translation

KEEP_SECONDS = 60
KEEP_IDLE = 32
_local = threading.local()


def tidy_connections() -> None:
    """Close this thread's connections that are broken, mid-transaction or older than KEEP_SECONDS.

    A thread that serves many calls calls this after each one instead of closing its connections: the
    next call finds its connection open.
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


def _job(language, function, args, kwargs):
    try:
        with translation.override(language):  # asgiref's Local (Django's active language) stays in its thread
            return function(*args, **kwargs)
    finally:
        tidy_connections()


class DatabaseThreads:
    """Threads lent to one user at a time (a turn, an MCP call) and kept, with their connections, when it ends."""

    def __init__(self, keep: int = KEEP_IDLE):
        self.keep = keep
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()

    def borrow(self) -> ThreadPoolExecutor:
        """Return an idle thread (with the connection it kept), or a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        """Keep the thread of a use that ended cleanly for the next one (or retire it, if enough wait)."""
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(executor)
                return
        self.retire(executor)

    @staticmethod
    def retire(executor: ThreadPoolExecutor, *, wait: bool = False) -> None:
        """End the thread once its work is done, closing its connections first (a cancelled use's too)."""
        executor.submit(connections.close_all)
        executor.shutdown(wait=wait)

    async def run(self, function, *args, **kwargs):
        """Run `function(*args, **kwargs)` in a borrowed thread (with the caller's context) and return its result."""
        executor = self.borrow()
        context = contextvars.copy_context()
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                executor, context.run, _job, translation.get_language(), function, args, kwargs
            )
        except asyncio.CancelledError:  # the call may still be running there: that thread is not lent again
            self.retire(executor)
            raise
        except BaseException:
            self.give_back(executor)
            raise
        self.give_back(executor)
        return result

    def close(self) -> None:
        """Close every idle thread's connections and stop it (later uses start new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for executor in idle:
            self.retire(executor, wait=True)


database_threads = DatabaseThreads()

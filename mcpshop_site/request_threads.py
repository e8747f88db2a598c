"""The long-lived threads that serve sync views under ASGI (mcpshop_site/handlers.py), with their connections.

A request's whole sync work (signals, middleware, view, close) runs as one job on one of `HTTP_THREADS`
threads, taken from one queue by whichever thread is free. The threads live as long as the process, so
each keeps its database connections from one request to the next (`CONN_MAX_AGE`, checked by
`CONN_HEALTH_CHECKS`; on PostgreSQL the psycopg pool's) instead of opening one per request and leaving it
to the garbage collector when a per-request thread dies. When the process stops (`close_all`: at exit,
and at the ASGI lifespan's shutdown, since uvicorn ends on the signal itself) every thread finishes the job
in hand, then closes its own connections.
"""

import asyncio
import atexit
import contextvars
import queue
import threading
import weakref
from concurrent.futures import Future

from django.db import connections

STOP_WAIT_SECONDS = 10  # at exit, how long to wait for a thread's job in hand
_running: weakref.WeakSet = weakref.WeakSet()


class RequestThreads:
    """`size` threads taking jobs from one queue, started on the first job and stopped at exit."""

    def __init__(self, size: int):
        self.size = size
        self._jobs = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def run(self, function, *args):
        """Run `function(*args)` on a free thread, in a copy of the caller's context, and return its result.

        The job is never cut short: a caller cancelled meanwhile (a client gone) stops waiting, not the job.
        """
        if not self._threads:
            self._start()
        future = Future()
        self._jobs.put((future, contextvars.copy_context(), function, args))
        return await asyncio.shield(asyncio.wrap_future(future))

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            self._threads = [
                threading.Thread(target=self._work, name=f"http-{number}", daemon=True) for number in range(self.size)
            ]
            for thread in self._threads:
                thread.start()
            _running.add(self)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, context, function, args = job
            future.set_running_or_notify_cancel()
            try:
                future.set_result(context.run(function, *args))
            except BaseException as error:  # handed to the awaiting request, as an executor does
                future.set_exception(error)
        connections.close_all()

    def close(self) -> None:
        """Let each thread finish its job in hand, close its connections and end (a later job starts new ones)."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join(STOP_WAIT_SECONDS)


@atexit.register
def close_all() -> None:
    """Close every running pool of request threads (their connections closed by each thread)."""
    for threads in list(_running):
        threads.close()

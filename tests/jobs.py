"""Run queued jobs in the test's own process, with the worker code `manage.py run_worker` runs.

    from tests.jobs import run_jobs
    run_jobs()                              # every job due now, on every queue, until none is left
    run_jobs(queue="search")                # the embedding jobs only
    run_jobs(at=order.payment_due_at)       # the jobs due by then, run as if it were then

Jobs enqueued by the jobs run are run too, when due. Retries (mcpshop_site.jobs.retries) apply as in a
worker: a failing job with a retry policy goes back to the queue for later, and a `run_jobs(at=...)`
past its backoff runs it again. Returns the results (django-tasks TaskResult) of the attempts it ran,
in order: `[r.status for r in run_jobs()]`, `r.return_value`, `r.errors`. `queued(task)` lists the
arguments of a task's jobs waiting in the queue. `WorkerProcess` runs `manage.py run_worker` as a real
process on the test database (committed data: `django_db(transaction=True)`).
"""

import os
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from datetime import datetime
from unittest import mock

from django_tasks import TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from mcpshop_site.jobs.queue import worker_id
from tests.assistant.mcp_live import ROOT, server_env


def run_jobs(*, queue: str = "*", at: datetime | None = None) -> list:
    worker = db_worker.Worker(
        queue_names=queue.split(","),
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id(),
        excluded_queue_names=[],
    )
    finished = []

    def collect(sender, task_result, **kwargs):
        finished.append(task_result)

    with ExitStack() as stack:
        # The worker closes connections that are not in autocommit between jobs: inside a test's
        # transaction that would end the test's database; a worker process has no such transaction.
        stack.enter_context(mock.patch.object(db_worker, "close_old_connections", lambda: None))
        if at is not None:  # django.utils.timezone.now, for the queue and the jobs alike
            stack.enter_context(mock.patch("django.utils.timezone.now", return_value=at))
        task_finished.connect(collect, dispatch_uid="tests.jobs.run_jobs")
        stack.callback(task_finished.disconnect, dispatch_uid="tests.jobs.run_jobs")
        worker.run()
    return finished


def queued(task) -> list[list]:
    """Return the arguments of the jobs of `task` waiting in the queue, oldest first."""
    jobs = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task.module_path)
    return [job.args_kwargs["args"] for job in jobs.order_by("enqueued_at")]


class WorkerProcess:
    """`manage.py run_worker` in its own process on the test database, polling every 0.1 s."""

    def __init__(self, *arguments: str, **env):
        self.output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-u", "manage.py", "run_worker", "--no-reload", "--no-startup-delay", "--interval",
             "0.1", *arguments],
            cwd=ROOT, env=server_env(LOG_LEVEL="INFO", JOBS_UPKEEP_SECONDS="0.2", **env), stdout=self.output,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def kill(self) -> None:
        """Kill the worker as the kernel's OOM killer or a lost host would: no chance to finish anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def log(self) -> str:
        """Return what the worker has written so far (read at an offset: the worker's own file offset stays put)."""
        return os.pread(self.output.fileno(), 1 << 20, 0).decode(errors="replace")

    def stop(self) -> str:
        """Stop the worker (SIGTERM, as a supervisor does: the job in hand ends first); return its output."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.output.closed:
            self.output.seek(0)
            self.text = self.output.read()
            self.output.close()
        return self.text

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

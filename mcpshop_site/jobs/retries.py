"""Retries with backoff for tasks run by the database worker (django-tasks has none built in).

    @retrying(attempts=5, backoff=30)
    @task()
    def send_order_email(order_id: int, kind: str) -> None: ...

A failed attempt stays visible on the job (its exception and traceback, in the admin) and the same job
goes back to the queue, to run `backoff * 2 ** (attempt - 1)` seconds later (at most `max_backoff`);
after the last attempt it stays FAILED. Only the exceptions in `on` are retried: leave permanent errors
(the order is gone) out of it. A job whose worker died counts as an attempt (queue.requeue_abandoned),
and a job interrupted by a worker's forced shutdown (a second Ctrl-C) goes back to the queue at once.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks.signals import task_finished

from mcpshop_site.jobs.queue import requeue

logger = logging.getLogger(__name__)

INTERRUPTED = {"builtins.SystemExit", "builtins.KeyboardInterrupt"}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    backoff: float
    max_backoff: float
    on: tuple[type[BaseException], ...]

    def delay(self, attempt: int) -> timedelta:
        """Return how long to wait after failed attempt number `attempt` (1 for the first)."""
        return timedelta(seconds=min(self.backoff * 2 ** (attempt - 1), self.max_backoff))


POLICIES: dict[str, RetryPolicy] = {}  # task path -> policy


def retrying(*, attempts: int = 5, backoff: float = 30.0, max_backoff: float = 3600.0, on=(Exception,)):
    """Decorate a task (above `@task()`) so that a failure in `on` runs it again later, up to `attempts` times."""

    def register(task: Task) -> Task:
        POLICIES[task.module_path] = RetryPolicy(attempts=attempts, backoff=backoff, max_backoff=max_backoff, on=on)
        return task

    return register


def _retry_failed(sender, task_result, **kwargs) -> None:
    job = getattr(task_result, "db_result", None)  # only the database backend's results
    if job is None or task_result.status != TaskResultStatus.FAILED:
        return
    attempt = len(job.worker_ids)
    if job.exception_class_path in INTERRUPTED:
        run_after = None
    else:
        policy = POLICIES.get(job.task_path)
        if policy is None or attempt >= policy.attempts or not _raised(task_result, policy.on):
            return
        run_after = timezone.now() + policy.delay(attempt)
    if requeue(job, status=TaskResultStatus.FAILED, run_after=run_after):
        logger.warning("Job id=%s path=%s: attempt %d failed, it will run again", job.pk, job.task_path, attempt)


def _raised(task_result, kinds) -> bool:
    try:
        return issubclass(task_result.errors[-1].exception_class, kinds)
    except (ImportError, ValueError):
        return False  # an exception class defined in a function, or gone since: not one of `kinds`


def connect() -> None:
    task_finished.connect(_retry_failed, dispatch_uid="mcpshop_site.jobs.retries")

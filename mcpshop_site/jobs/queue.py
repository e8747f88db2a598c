"""Putting jobs (back) in the queue: batching many small requests, and recovering jobs whose worker died.

django-tasks-db marks a job RUNNING when a worker takes it and nothing ever looks at it again: a worker
killed mid-job (SIGKILL, out of memory, a host lost) leaves it RUNNING for ever. `requeue_abandoned`
puts such jobs back: at once when the worker ran on this host and its process is gone, after
JOBS_LEASE_SECONDS when it ran elsewhere (its host may be gone). Jobs are therefore run at least once,
and must be idempotent (embedding a product twice writes the same vector; an order expires once).
"""

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

ABANDON_LIMIT = 3  # a job whose worker died this many times is marked failed (it may be what kills them)


class WorkerLost(Exception):
    """The job's worker stopped mid-job too many times (recorded as the job's error)."""


def worker_id() -> str:
    """Return a new worker id naming this host and process, so a worker here can tell it is gone."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def requeue(job: DBTaskResult, *, status: str, run_after=None) -> bool:
    """Put a job that is in `status` back in the queue; return False if someone else changed it first."""
    return bool(
        DBTaskResult.objects.filter(pk=job.pk, status=status, started_at=job.started_at).update(
            status=TaskResultStatus.READY, finished_at=None, run_after=run_after or job.run_after
        )
    )


def enqueue_batched(task: Task, items: list, *, limit: int) -> None:
    """Enqueue `task(items)`, or add the items to a job of this task still waiting in the queue.

    Call it inside the transaction that makes the work necessary: the job is stored with it (or not at
    all). A waiting job is taken with a row lock (skipping one another transaction holds, so savers never
    wait for each other), so a worker cannot start it before this transaction commits; it holds at most
    `limit` items. With another backend than the database, each call is one job.
    """
    items = sorted(set(items))
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        task.enqueue(items)
        return
    with transaction.atomic():
        waiting = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(
                status=TaskResultStatus.READY,
                task_path=task.module_path,
                queue_name=task.queue_name,
                backend_name=backend.alias,
                run_after=get_date_max(),  # not a retry waiting for its time
            )
            .only("args_kwargs")
            .order_by("-enqueued_at")  # the newest has room, when one has
            .first()
        )
        if waiting is not None:
            merged = sorted(set(waiting.args_kwargs["args"][0]) | set(items))
            if len(merged) <= limit:
                DBTaskResult.objects.filter(pk=waiting.pk).update(args_kwargs={"args": [merged], "kwargs": {}})
                return
        for start in range(0, len(items), limit):
            task.enqueue(items[start : start + limit])


def enqueue_once(task: Task, job_id: uuid.UUID, *, args=(), kwargs=None, run_after=None) -> bool:
    """Store the job `task(*args, **kwargs)` as `job_id` unless a job has that id; return whether it was stored.

    The database's primary key makes the id unique however many processes try at once: periodic jobs take
    an id per time slot, webhooks one per event. Call it in the transaction that makes the job necessary.
    """
    if DBTaskResult.objects.filter(pk=job_id).exists():
        return False
    try:
        with transaction.atomic():
            DBTaskResult.objects.create(
                id=job_id,
                args_kwargs={"args": list(args), "kwargs": kwargs or {}},
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                backend_name=task.backend,
                run_after=run_after or get_date_max(),
            )
    except IntegrityError:
        return False  # stored by another process since
    return True


def _worker_is_gone(worker: str, *, own: str) -> bool:
    """Return True when `worker` ran on this host and its process no longer exists."""
    try:
        host, pid, _ = worker.rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return False  # not one of ours: only the lease applies
    if host != socket.gethostname()[:40]:
        return False
    if pid == os.getpid():
        return worker != own  # an earlier worker whose process id this one got
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_abandoned(*, own_worker_id: str) -> int:
    """Put back in the queue the RUNNING jobs whose worker is gone; return how many.

    A job abandoned ABANDON_LIMIT times is marked failed with WorkerLost instead.
    """
    lease_start = timezone.now() - timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    requeued = 0
    for job in DBTaskResult.objects.running().only("pk", "worker_ids", "started_at", "run_after", "task_path"):
        if not (_worker_is_gone(job.worker_ids[-1], own=own_worker_id) or job.started_at < lease_start):
            continue
        if len(job.worker_ids) >= ABANDON_LIMIT:
            job.set_failed(WorkerLost(f"The job's worker stopped {len(job.worker_ids)} times before it finished."))
            logger.error("Job id=%s path=%s failed: its worker died %d times", job.pk, job.task_path, ABANDON_LIMIT)
        elif requeue(job, status=TaskResultStatus.RUNNING):
            requeued += 1
            logger.warning("Job id=%s path=%s requeued: worker %s stopped", job.pk, job.task_path, job.worker_ids[-1])
    return requeued

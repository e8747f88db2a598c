"""Periodic jobs (django-tasks has no scheduler): settings.JOBS_PERIODIC maps a function to its period.

    JOBS_PERIODIC = {"orders.services.order_expire_overdue": 60, ...}   # dotted path: seconds

Every worker's upkeep (run_worker) calls `enqueue_due`, which enqueues one `run_periodic` job per
function and period: the job's id is derived from the function and the current time slot, so however
many workers on however many hosts do it at once, the database's primary key stores it once. A worker
down for a while does not run the missed slots again, only the current one. The functions take no
arguments, return something JSON can hold (a count, or None) and must be safe to run twice at once (a
slow run may overlap the next slot's on another worker).
"""

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from mcpshop_site.jobs import queue

SLOTS = uuid.UUID("5d1c7a52-8f0e-4b7e-9a44-1c2f0b9e6a10")  # namespace of the time slots' job ids


@task()
def run_periodic(name: str):
    """Run the periodic function `name` (one of settings.JOBS_PERIODIC)."""
    if name not in settings.JOBS_PERIODIC:
        raise ValueError(f"{name!r} is not in JOBS_PERIODIC")
    return import_string(name)()


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue each periodic function whose current time slot has no job yet; return their names."""
    now = now or timezone.now()
    enqueued = []
    for name, seconds in settings.JOBS_PERIODIC.items():
        slot = int(now.timestamp() // seconds)
        job_id = uuid.uuid5(SLOTS, f"{name}:{seconds}:{slot}")
        run_after = datetime.fromtimestamp(slot * seconds, tz=UTC)
        if not queue.enqueue_once(run_periodic, job_id, args=[name], run_after=run_after):
            continue  # this slot's job is stored already (by another worker, maybe)
        enqueued.append(name)
    return enqueued


def prune_finished_jobs() -> None:
    """Delete the results of jobs finished more than JOBS_KEEP_DAYS ago (django-tasks-db's own command)."""
    call_command("prune_db_task_results", queue_name="*", min_age_days=settings.JOBS_KEEP_DAYS)

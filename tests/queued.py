"""Run the jobs queued in the database, in this process, with django-tasks-db's own worker."""

from unittest import mock

from django_tasks_db.management.commands import db_worker


def run_jobs() -> None:
    """Run every due job, and the jobs those queue when due at once, until none is left.

    The worker's loop closes the database connection between jobs, which would end a test's transaction:
    here it keeps it."""
    worker = db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    with mock.patch.object(db_worker, "close_old_connections"):
        worker.run()

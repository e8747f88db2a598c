"""A real worker process (`manage.py run_worker`) on the test database: killed mid-job, the job is still
done, once; stopped politely, it finishes the job in hand. Runs on SQLite, MariaDB and PostgreSQL."""

import time

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import Category
from tests.jobs import WorkerProcess
from tests.jobs_tasks import create_category

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, *, seconds: float = 30, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_job_whose_worker_is_killed_mid_job_is_done_once_by_the_next_worker(tmp_path):
    started = tmp_path / "started"
    job = create_category.enqueue("kettles", started=str(started), hold_seconds=60)

    first = WorkerProcess()
    wait_for(started.exists, what="the job to start")  # inside its transaction, the category written
    first.kill()
    row = DBTaskResult.objects.get(pk=job.id)
    assert row.status == TaskResultStatus.RUNNING  # what the dead worker left: nothing else will touch it
    assert not Category.objects.filter(slug="kettles").exists()  # its transaction died with it

    with WorkerProcess() as second:
        wait_for(lambda: DBTaskResult.objects.get(pk=job.id).status == TaskResultStatus.SUCCESSFUL, what="the rerun")
    log = second.stop()

    job.refresh()
    assert (job.return_value, job.attempts) == (2, 2)  # done by the second attempt
    assert job.worker_ids[0] != job.worker_ids[1]
    assert Category.objects.filter(slug="kettles").count() == 1
    assert "requeued: worker" in log and "Traceback" not in log


def test_a_stopped_worker_finishes_the_job_in_hand_first(tmp_path):
    started = tmp_path / "started"
    job = create_category.enqueue("mugs", started=str(started), hold_seconds=1)

    worker = WorkerProcess()
    wait_for(started.exists, what="the job to start")
    log = worker.stop()  # SIGTERM, as a supervisor or Ctrl-C sends

    job.refresh()
    assert (job.status, job.return_value) == (TaskResultStatus.SUCCESSFUL, 1)
    assert Category.objects.filter(slug="mugs").count() == 1
    assert "shutting down gracefully" in log and "Traceback" not in log


def test_a_worker_forced_to_stop_mid_job_puts_the_job_back(tmp_path):
    started = tmp_path / "started"
    job = create_category.enqueue("cups", started=str(started), hold_seconds=60)

    worker = WorkerProcess()
    wait_for(started.exists, what="the job to start")
    worker.process.terminate()  # "shutting down gracefully"...
    # Sent before the first is handled, a second SIGTERM merges with it (one pending signal): wait for it.
    wait_for(lambda: "shutting down gracefully" in worker.log(), what="the worker to take the first SIGTERM")
    worker.process.terminate()  # ...and a second time: the job is interrupted
    # Let it put the job back and exit: stop() would send a third SIGTERM, which under load could land in the
    # middle of that (the job is then left RUNNING until a worker finds its worker dead: another test's case).
    worker.process.wait(timeout=60)
    log = worker.stop()

    job.refresh()
    assert (job.status, job.attempts) == (TaskResultStatus.READY, 1)  # back in the queue at once
    assert not Category.objects.filter(slug="cups").exists()
    assert "terminating current task" in log and "it will run again" in log

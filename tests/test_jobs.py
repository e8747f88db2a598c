"""The job queue in the test's process: retries with backoff, periodic jobs, recovery of abandoned jobs."""

import ast
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import Category, Product
from catalog.search import sync
from catalog.services import product_create
from mcpshop_site.jobs import periodic, queue
from tests.jobs import queued, run_jobs
from tests.jobs_tasks import Flaky, create_category, fail_until
from tests.orders.test_concurrency import race

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
READY, RUNNING, FAILED, SUCCESSFUL = (
    TaskResultStatus.READY,
    TaskResultStatus.RUNNING,
    TaskResultStatus.FAILED,
    TaskResultStatus.SUCCESSFUL,
)


# Retries ----------------------------------------------------------------------------------------


def test_a_failing_job_runs_again_after_a_growing_backoff_until_it_succeeds():
    job = fail_until.enqueue(attempt=3)
    start = timezone.now()

    [first] = run_jobs()
    assert first.status == FAILED and first.errors[0].exception_class is Flaky
    row = DBTaskResult.objects.get(pk=job.id)
    assert row.status == READY and "attempt 1" in row.traceback  # waiting, the last error in view
    assert timedelta(seconds=10) <= row.run_after - start < timedelta(seconds=12)
    assert run_jobs(at=start + timedelta(seconds=9)) == []  # not before its time

    [second] = run_jobs(at=start + timedelta(seconds=11))
    assert second.status == FAILED
    row.refresh_from_db()
    assert row.status == READY and timedelta(seconds=20) <= row.run_after - (start + timedelta(seconds=11))

    [third] = run_jobs(at=start + timedelta(seconds=60))
    assert (third.status, third.return_value, third.attempts) == (SUCCESSFUL, 3, 3)
    job.refresh()
    assert job.status == SUCCESSFUL


def test_a_job_fails_for_good_after_its_last_attempt():
    job = fail_until.enqueue(attempt=4)  # three attempts allowed
    later = timezone.now()
    for _ in range(3):
        later += timedelta(hours=1)
        run_jobs(at=later)
    job.refresh()
    assert (job.status, job.attempts) == (FAILED, 3)
    assert run_jobs(at=later + timedelta(days=1)) == []


def test_an_error_the_task_does_not_retry_fails_at_once():
    job = fail_until.enqueue(attempt=2, error="bug")
    [result] = run_jobs()
    job.refresh()
    assert (result.errors[0].exception_class, job.status, job.attempts) == (ValueError, FAILED, 1)


# Periodic jobs ----------------------------------------------------------------------------------


def test_a_periodic_function_is_enqueued_once_per_slot_and_runs(settings):
    settings.JOBS_PERIODIC = {"tests.jobs_tasks.tick": 60}
    slot_start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)

    assert periodic.enqueue_due(slot_start) == ["tests.jobs_tasks.tick"]
    assert periodic.enqueue_due(slot_start + timedelta(seconds=59)) == []  # any worker, the same slot
    assert [result.return_value for result in run_jobs(at=slot_start)] == [1]
    assert periodic.enqueue_due(slot_start + timedelta(seconds=30)) == []  # done, and still its slot

    assert periodic.enqueue_due(slot_start + timedelta(minutes=5)) == ["tests.jobs_tasks.tick"]  # missed slots: one
    assert [result.return_value for result in run_jobs(at=slot_start + timedelta(minutes=5))] == [2]
    assert Category.objects.get(slug="ticks").name == "2"


@pytest.mark.django_db(transaction=True)
def test_workers_ticking_at_once_store_a_slot_s_job_once(settings):
    settings.JOBS_PERIODIC = {"tests.jobs_tasks.tick": 60}
    now = timezone.now()
    outcomes = race(lambda _: periodic.enqueue_due(now), range(8))
    assert sorted(map(str, outcomes)) == ["['tests.jobs_tasks.tick']", *["[]"] * 7]
    assert DBTaskResult.objects.count() == 1


def test_only_listed_functions_run_as_periodic_jobs(settings):
    settings.JOBS_PERIODIC = {}
    periodic.run_periodic.enqueue("tests.jobs_tasks.tick")  # a row someone wrote into the queue
    [result] = run_jobs()
    assert result.status == FAILED and not Category.objects.filter(slug="ticks").exists()


def test_finished_jobs_are_pruned_after_the_days_kept(settings):
    settings.JOBS_KEEP_DAYS = 14
    old, recent, waiting = (create_category.enqueue(slug) for slug in ("old", "recent", "waiting"))
    run_jobs()
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - timedelta(days=15))
    DBTaskResult.objects.filter(pk=waiting.id).update(status=READY, run_after=timezone.now() + timedelta(days=30))
    DBTaskResult.objects.filter(pk=waiting.id).update(enqueued_at=timezone.now() - timedelta(days=30))

    periodic.prune_finished_jobs()

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        DBTaskResult.objects.get(pk=recent.id).pk,
        DBTaskResult.objects.get(pk=waiting.id).pk,
    }


# Batched jobs ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_products_saved_at_once_are_all_queued_for_embedding(category):
    """Savers never wait for one another's waiting job (skip locked) and none of their ids is lost."""
    outcomes = race(
        lambda n: product_create(sku=f"RACE-{n}", name=f"商品 {n}", category=category, price_cents=100), range(12)
    )
    assert all(isinstance(outcome, Product) for outcome in outcomes), outcomes
    assert sorted(pk for (ids,) in queued(sync.embed) for pk in ids) == sorted(outcome.pk for outcome in outcomes)


# Jobs whose worker died -------------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _running(slug: str, *, worker: str, started_minutes_ago: float = 0, attempts: int = 1) -> DBTaskResult:
    job = create_category.enqueue(slug)
    DBTaskResult.objects.filter(pk=job.id).update(
        status=RUNNING,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
        worker_ids=[*(["earlier:1:x"] * (attempts - 1)), worker],
    )
    return DBTaskResult.objects.get(pk=job.id)


def test_a_job_whose_worker_process_is_gone_runs_again(settings):
    settings.JOBS_LEASE_SECONDS = 900
    own = queue.worker_id()
    host = own.split(":")[0]
    dead = _running("dead", worker=f"{host}:{_dead_pid()}:abcdefgh")
    earlier_self = _running("earlier-self", worker=queue.worker_id())  # a dead worker whose pid this one got
    own_job = _running("own", worker=own, started_minutes_ago=5)
    with subprocess.Popen(["sleep", "30"]) as other:
        alive_here = _running("alive", worker=f"{host}:{other.pid}:abcdefgh", started_minutes_ago=5)
        elsewhere = _running("elsewhere", worker="otherhost:4242:abcdefgh", started_minutes_ago=5)
        lost_host = _running("lost-host", worker="otherhost:4242:abcdefgh", started_minutes_ago=16)

        assert queue.requeue_abandoned(own_worker_id=own) == 3
        other.kill()

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[dead.pk] == statuses[earlier_self.pk] == statuses[lost_host.pk] == READY
    assert statuses[own_job.pk] == statuses[alive_here.pk] == statuses[elsewhere.pk] == RUNNING
    results = run_jobs()
    assert sorted(result.args[0] for result in results) == ["dead", "earlier-self", "lost-host"]
    assert {result.attempts for result in results} == {2}


def test_a_job_that_keeps_killing_its_worker_fails_instead(settings):
    host = queue.worker_id().split(":")[0]
    job = _running("poison", worker=f"{host}:{_dead_pid()}:abcdefgh", attempts=queue.ABANDON_LIMIT)

    assert queue.requeue_abandoned(own_worker_id=queue.worker_id()) == 0

    job.refresh_from_db()
    assert job.status == FAILED and job.exception_class_path == "mcpshop_site.jobs.queue.WorkerLost"
    assert run_jobs() == [] and not Category.objects.filter(slug="poison").exists()


# No work that must not be lost in a web process's thread ----------------------------------------

# Every place the shop's code starts a thread or defers work, and why nothing is lost if the process
# dies there. Work that must happen whatever becomes of the process is a job (mcpshop_site.jobs).
ALLOWED = {
    ("assistant/db_threads.py", "ThreadPoolExecutor"): "runs a request's own ORM calls; the request waits for them",
    ("assistant/consumers.py", "create_task"): "the chat turn of an open WebSocket: the shopper waits for it",
    ("assistant/chat.py", "create_task"): "streams the model's answer to the request that waits for it",
    ("assistant/mcp_http.py", "create_task"): "the MCP session manager, serving the process's own requests",
    ("assistant/mcp_http.py", "ensure_future"): "stops the MCP session manager when the process stops",
    ("mcpshop_site/jobs/management/commands/run_worker.py", "Thread"): "the worker's upkeep, in the worker",
    ("catalog/cache.py", "on_commit"): "the catalog's second new version: the first is in the transaction; if the "
    "process dies in between, what was cached meanwhile expires (RESPONSE_CACHE_SECONDS, the cache's timeouts)",
    ("mcpshop_site/request_threads.py", "Thread"): "serves sync views' requests; each request waits for its job",
    ("mcpshop_site/request_threads.py", "atexit"): "closes the request threads' connections as the process ends",
    ("mcpshop_site/handlers.py", "atexit"): "closes the connections gunicorn's threads kept, as the process ends",
    ("mcpshop_site/handlers.py", "create_task"): "notes that the client left, while its request is served",
}
DEFERRING = {"Thread", "Timer", "ThreadPoolExecutor", "create_task", "ensure_future", "on_commit", "atexit"}


def test_no_work_is_deferred_to_a_thread_or_a_commit_hook_of_a_web_process():
    found = set()
    for app in ("accounts", "assistant", "cart", "catalog", "orders", "mcpshop_site"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                name = getattr(node, "attr", None) or getattr(node, "id", None)
                if isinstance(node, ast.Call | ast.Attribute | ast.Name) and name in DEFERRING:
                    found.add((str(path.relative_to(ROOT)), name))
    assert sorted(found - set(ALLOWED)) == []

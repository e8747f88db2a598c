"""The shop's job queue: django-tasks with the database backend (django-tasks-db), plus what they lack.

- `run_worker` (management command): django-tasks-db's `db_worker`, with an upkeep thread that puts
  back in the queue the jobs of workers that died mid-job and enqueues the periodic jobs.
- `retries.retrying`: a task that may fail for a while (a mail server, an API) is retried with backoff.
- `queue.enqueue_batched`: many small requests (one per saved product) become a few jobs.
- `periodic`: the functions run every so many seconds (settings.JOBS_PERIODIC).

Every job must be idempotent: a job whose worker died is run again (at least once, never lost).
"""

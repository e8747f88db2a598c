"""Tasks for the job queue's tests, importable by a worker process (tests/test_jobs*.py)."""

import time
from pathlib import Path

from django.db import transaction
from django_tasks import task

from catalog.models import Category
from mcpshop_site.jobs.retries import retrying


class Flaky(Exception):
    """A failure worth retrying (a mail server that is down)."""


@task(takes_context=True)
def create_category(context, slug: str, *, started: str = "", hold_seconds: float = 0) -> int:
    """Create a category in one transaction: the way a job makes a rerun after a crash safe.

    On the first attempt it writes `started` (a file path) and holds the transaction open for
    `hold_seconds`, so a test can kill its worker mid-job. Return the attempt that did it."""
    with transaction.atomic():
        Category.objects.create(name=slug, slug=slug)
        if context.attempt == 1 and started:
            Path(started).write_text("started")
            time.sleep(hold_seconds)
    return context.attempt


@retrying(attempts=3, backoff=10, on=(Flaky,))
@task(takes_context=True)
def fail_until(context, attempt: int, error: str = "flaky") -> int:
    """Fail (Flaky, or ValueError with error="bug") until the `attempt`-th attempt; return that attempt."""
    if context.attempt < attempt:
        raise Flaky(f"attempt {context.attempt}") if error == "flaky" else ValueError("a bug")
    return context.attempt


def tick() -> int:
    """A periodic function: count its runs in a category's name."""
    category, _ = Category.objects.get_or_create(slug="ticks", defaults={"name": "0"})
    category.name = str(int(category.name) + 1)
    category.save(update_fields=["name"])
    return int(category.name)

"""`manage.py run_worker`: the shop's job worker (the Procfile's `worker`, started by `make run`)."""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import OperationalError, close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker
from django_tasks_db.utils import is_locked_database_exception

from mcpshop_site.jobs import periodic, queue

logger = logging.getLogger("mcpshop_site.jobs")


def upkeep(worker_id: str) -> None:
    """Requeue the jobs of dead workers, then enqueue the periodic jobs that are due."""
    queue.requeue_abandoned(own_worker_id=worker_id)
    periodic.enqueue_due()


class Command(db_worker.Command):
    help = (
        "Run jobs from the database queue (django-tasks-db's db_worker, all queues by default), and every "
        "JOBS_UPKEEP_SECONDS requeue the jobs of workers that died and enqueue the periodic jobs."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", worker_id=queue.worker_id())

    def handle(self, *args, **options):
        reloader_parent = options["reload"] and not options["batch"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if not reloader_parent:  # with --reload, the parent only watches files; its child works
            upkeep(options["worker_id"])
            if not options["batch"]:
                threading.Thread(
                    target=self._upkeep_forever, args=[options["worker_id"]], name="jobs-upkeep", daemon=True
                ).start()
        super().handle(*args, **options)

    def _upkeep_forever(self, worker_id: str) -> None:
        while True:
            time.sleep(settings.JOBS_UPKEEP_SECONDS)
            close_old_connections()
            try:
                upkeep(worker_id)
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    logger.exception("Job upkeep failed")
            except Exception:
                logger.exception("Job upkeep failed")

"""B12: the ACP product feed at 100k products, against a plain `.values()` dump of the same rows.

Standalone: `python bench/product_feed.py [--products 100000] [--database-url URL]` (also run by
`make bench ONLY=B12`). It makes its own database (SQLite in bench/.work unless --database-url), migrated, with
the demo catalog and generated products up to --products, and runs in this process, pinned to core 0:

- dump: `Product.objects.values(*FEED_COLUMNS)` (the rows the feed renders), each row written as one line of
  JSON to a file: the baseline;
- full: `feed_rebuild()` from no feed entries at all (a new shop, or after bulk inserts that sent no signal):
  every product's lines rendered in both feed languages and stored, FEED_BATCH at a time;
- again: `feed_rebuild()` when nothing changed (the daily periodic job): everything rendered, nothing written;
- serve: the English `products.jsonl` as the view streams it (`feed_lines`), written to a file;
- incremental: N products changed through catalog.services (a new price: their lines change) and N saved
  unchanged (their lines come out the same), then the `feed_refresh` jobs that queued, run as the worker runs
  them: the jobs queued, the feed rows written and the SQL statements, for N = 1, 10, 100 and 1,000.

Rounds are interleaved (dump, full, again, serve), `--rounds` times; each figure is its median round.
Target (bench/README.md): full <= 3x the dump; an incremental update writes only the changed rows.
Results: bench/results/<date>-B12-product-feed-<products>.json and .md, with the machine and versions.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, pin, save, shop_env

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("django", "django-tasks", "psycopg")
TARGET = {"full_over_dump": 3.0}
CHANGED = (1, 10, 100, 1000)


def prepare(env: dict, products: int) -> None:
    """Migrate the database and fill it up to `products` products (kept between runs)."""

    def manage(*command: str, capture: bool = False) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
        )
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--if-empty")
    count = int(
        manage(
            "shell", "-c", "from catalog.models import Product; print(Product.objects.count())", capture=True
        ).split()[-1]
    )
    if count < products:
        manage("seed_demo", "--products", str(products - count))


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="default: SQLite in --workdir")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".work"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{workdir / f'b12-{args.products}.sqlite3'}"
    env = {**os.environ, **shop_env(database_url, MEDIA_ROOT=str(workdir / "media"), PGVECTOR="off")}
    prepare(env, args.products)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    pin(0)
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from catalog.feeds.render import FEED_COLUMNS
    from catalog.feeds.services import feed_lines, feed_links, feed_rebuild, feed_refresh
    from catalog.models import FeedEntry, Product
    from catalog.services import product_update

    products = Product.objects.count()
    listed = Product.objects.filter(is_active=True).count()

    def dump() -> int:
        with tempfile.TemporaryFile("w", encoding="utf-8") as out:
            for row in Product.objects.values(*FEED_COLUMNS).iterator(2000):
                out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            return out.tell()

    def no_entries() -> None:
        FeedEntry.objects.all().delete()

    def serve() -> int:
        with tempfile.TemporaryFile("w", encoding="utf-8") as out:
            out.writelines(feed_lines("en"))
            return out.tell()

    feed_links()  # untimed: the URL conf's import on the first link (a worker has done it long before)
    dump()  # untimed: the database's pages read once
    runs = {"dump": [], "full": [], "again": [], "serve": []}
    outputs = {}
    for _ in range(args.rounds):
        for name, run in (("dump", dump), ("full", feed_rebuild), ("again", feed_rebuild), ("serve", serve)):
            if name == "full":
                no_entries()  # untimed
            seconds, outputs[name] = timed(run)
            runs[name].append(seconds)
    median = {name: statistics.median(seconds) for name, seconds in runs.items()}

    refresh_path = feed_refresh.module_path
    incremental = {}
    ids = list(Product.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for count in [n for n in CHANGED if n <= len(ids) // 2]:
        DBTaskResult.objects.filter(task_path=refresh_path).delete()
        repriced, resaved = ids[:count], ids[-count:]
        before = datetime.datetime.now(datetime.UTC)
        change_seconds, _ = timed(
            lambda repriced=repriced, resaved=resaved: [
                *(
                    product_update(product=p, price_cents=p.price_cents + 1)
                    for p in Product.objects.filter(pk__in=repriced)
                ),
                *(product_update(product=p, name=p.name) for p in Product.objects.filter(pk__in=resaved)),
            ]
        )
        jobs = list(DBTaskResult.objects.filter(task_path=refresh_path).values_list("args_kwargs", flat=True))
        with CaptureQueriesContext(connection) as queries:
            job_seconds, written = timed(lambda jobs=jobs: sum(feed_refresh.func(*job["args"]) for job in jobs))
        DBTaskResult.objects.filter(task_path=refresh_path).delete()
        statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
        incremental[count] = {
            "changed_lines": count,
            "saved_unchanged": count,
            "jobs_queued": len(jobs),
            "products_in_jobs": sum(len(job["args"][0]) for job in jobs),
            "rows_written": FeedEntry.objects.filter(changed_at__gte=before).count(),
            "job_return_value": written,
            "statements": len(statements),
            "statements_by_kind": {kind: statements.count(kind) for kind in sorted(set(statements))},
            "job_seconds": round(job_seconds, 4),
            "saves_seconds": round(change_seconds, 3),
        }

    figures = {
        "products": products,
        "listed": listed,
        "seconds": {name: round(value, 3) for name, value in median.items()},
        "all_rounds_seconds": {name: [round(value, 3) for value in values] for name, values in runs.items()},
        "full_over_dump": round(median["full"] / median["dump"], 2),
        "again_over_dump": round(median["again"] / median["dump"], 2),
        "serve_over_dump": round(median["serve"] / median["dump"], 2),
        "full_lines_written": outputs["full"],
        "again_lines_written": outputs["again"],
        "dump_bytes": outputs["dump"],
        "serve_bytes_en": outputs["serve"],
        "products_per_s_full": round(products / median["full"]),
        "incremental": incremental,
    }
    report = {
        "benchmark": "B12 ACP product feed",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "machine": machine(*PACKAGES),
        "target": TARGET,
        "figures": figures,
    }
    seconds = figures["seconds"]
    lines = [
        f"# B12, the ACP product feed at {products:,} products ({connection.vendor}), {report['date']}",
        "",
        f"Machine: {report['machine']}",
        "",
        "| what | seconds (median of rounds) | x the dump |",
        "|---|---|---|",
        f"| dump: `.values(*FEED_COLUMNS)` rows as JSON lines | {seconds['dump']} | 1 |",
        f"| full: `feed_rebuild()` from no entries, both languages stored | {seconds['full']} | "
        f"**{figures['full_over_dump']}** |",
        f"| again: `feed_rebuild()` with nothing changed | {seconds['again']} | {figures['again_over_dump']} |",
        f"| serve: English `products.jsonl` streamed | {seconds['serve']} | {figures['serve_over_dump']} |",
        "",
        "| N changed (+ N saved unchanged) | jobs | feed rows written | statements | job seconds |",
        "|---|---|---|---|---|",
        *(
            f"| {n} | {row['jobs_queued']} | {row['rows_written']} | {row['statements']} | {row['job_seconds']} |"
            for n, row in incremental.items()
        ),
        "",
    ]
    stem = save(f"B12-product-feed-{products}", report, "\n".join(lines))
    print(json.dumps(figures, indent=1))
    print(f"wrote {stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

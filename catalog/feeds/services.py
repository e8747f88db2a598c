"""Keeping the feeds' stored lines (catalog.FeedEntry) in step with the catalog, through the job queue.

Any change of a product that its lines show (a save through any door, a stock change by an import or a cancelled
order, a sale that empties its shelf, its category renamed) marks its entry stale in the same transaction and
queues `feed_refresh` for it, batched as the embedding jobs are (mcpshop_site.jobs.queue.enqueue_batched). The
job renders only the stale entries it was given and writes back only the lines that came out different. A policy
page saved or deleted changes what every line shows (the seller's links): every entry is marked stale and one
`feed_refresh_all` job renders them all.
`feed_rebuild`, a periodic job (settings.JOBS_PERIODIC), renders every entry again (after bulk inserts that sent
no signal, a new SHOP_BASE_URL or currency), in batches, never the whole catalog in memory.

A run takes its entries by writing its own `claim` on them (and clearing `stale`), then writes its lines only
where its claim still stands: a change in between marks the entry stale again, and a later run that claimed it
meanwhile has read newer data, so no run ever writes over newer lines with older ones. A rebuild inserts the
entries of products that had none, rendered, only where none appeared meanwhile: there is nothing to claim.
"""

import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django_tasks import task

from catalog.feeds.push import feed_push_changed
from catalog.feeds.render import FEED_COLUMNS, FEEDS, FeedLines
from catalog.links import ProductLinks
from catalog.models import FeedEntry, Product, ProductFeed
from mcpshop_site.jobs.queue import enqueue_batched
from mcpshop_site.jobs.retries import retrying
from mcpshop_site.mail import shop_link

FEED_NAME = "acp"
FEED_BATCH = 500  # entries rendered and written per statement; also the most a queued job holds
ENTRY_FIELDS = ("product", "stale", "claim", "listed", "changed_at", *FEEDS.values())  # as _insert_entries takes them


def _upsert_target() -> dict:
    """bulk_create's conflict target for FeedEntry rows (MariaDB/MySQL name none: any unique key conflicts)."""
    return {"unique_fields": ["product"]} if connection.features.supports_update_conflicts_with_target else {}


def feed_mark_stale(product_ids) -> None:
    """Mark these products' feed entries stale and queue their refresh, in the caller's transaction."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    FeedEntry.objects.bulk_create(
        [FeedEntry(product_id=pk, stale=True) for pk in ids],
        update_conflicts=True,
        update_fields=["stale"],
        **_upsert_target(),
    )
    enqueue_batched(feed_refresh, ids, limit=FEED_BATCH)


def feed_mark_all_stale() -> None:
    """Mark every feed entry stale and queue one job rendering them all, in the caller's transaction: for a change
    every line shows (the seller's policy links). Only the lines that come out different are written."""
    FeedEntry.objects.filter(stale=False).update(stale=True)
    feed_refresh_all.enqueue()


def feed_stock_changed(stocks: dict[int, tuple[int, int]]) -> None:
    """Mark stale the products whose stock change, `{id: (before, after)}`, changes their lines (in stock or not).

    A feed line tells whether a product is in stock, not how many are left: most sales change no line, and the
    checkout that makes them pays for no feed work.
    """
    feed_mark_stale(pk for pk, (before, after) in stocks.items() if (before > 0) != (after > 0))


def feed_touch() -> None:
    """Record that the feeds changed now (their `updated_at`, the ETag of their files): one UPDATE, as a rebuild
    does after each batch; the first time, the row is made (update_or_create: safe beside another first time)."""
    now = timezone.now()
    if not ProductFeed.objects.filter(name=FEED_NAME).update(updated_at=now):
        ProductFeed.objects.update_or_create(name=FEED_NAME, defaults={"updated_at": now})


def feed_updated_at():
    """Return when the feeds last changed, or None before their first line was written."""
    return ProductFeed.objects.filter(name=FEED_NAME).values_list("updated_at", flat=True).first()


def feed_links() -> ProductLinks:
    """Return the links of feed lines: under SHOP_BASE_URL (else the development server's address)."""
    return ProductLinks(shop_link(""))


def _render(ids: list[int], render: FeedLines) -> int:
    """Render the stale entries among `ids` (at most FEED_BATCH); write the changed ones; return how many changed."""
    claim = uuid.uuid4().hex
    if not FeedEntry.objects.filter(pk__in=ids, stale=True).update(stale=False, claim=claim):
        return 0
    stored = ("feed_entry__listed", *(f"feed_entry__{column}" for column in FEEDS.values()))
    changed = {}
    for row in Product.objects.filter(pk__in=ids, feed_entry__claim=claim).values(*FEED_COLUMNS, *stored):
        new = render(row)
        if row["is_active"] != row["feed_entry__listed"] or any(
            line != row[f"feed_entry__{column}"] for line, column in zip(new, FEEDS.values(), strict=True)
        ):
            changed[row["pk"]] = (row["is_active"], new)
    return _write(changed, claim) if changed else 0


def _write(changed: dict[int, tuple[bool, tuple]], claim: str) -> int:
    """Write the changed lines (`{id: (listed, lines in the order of FEEDS)}`) where this run's claim still
    stands; return how many. The rows are locked first: a claim cannot slip in between the check and the write."""
    with transaction.atomic():
        ours = FeedEntry.objects.select_for_update().filter(pk__in=changed, claim=claim).order_by("pk")
        ours = list(ours.values_list("pk", flat=True))
        if ours:
            _upsert_lines({pk: changed[pk] for pk in ours}, claim)
            feed_touch()
            feed_push_changed(ours)
    return len(ours)


def _upsert_lines(changed: dict[int, tuple[bool, tuple]], claim: str) -> None:
    """Write the entries' lines in one upsert (an UPDATE of many rows needs a CASE). The rows exist and are
    locked: the inserted values are never kept, only the updated columns."""
    rows = _entries(changed, claim)
    _insert_entries(rows, on_conflict=OnConflict.UPDATE, update=("listed", "changed_at", *FEEDS.values()))


def _entries(rendered: dict[int, tuple[bool, tuple]], claim: str) -> list[tuple]:
    """Return FeedEntry rows (values of ENTRY_FIELDS) holding these lines (`{id: (listed, lines in the order of
    FEEDS)}`), written now by the run of `claim`: not stale."""
    stamp = FeedEntry._meta.get_field("changed_at").get_db_prep_save(timezone.now(), connection)
    return [(pk, False, claim, listed, stamp, *lines) for pk, (listed, lines) in rendered.items()]


def _insert_entries(rows: list[tuple], *, on_conflict: OnConflict, update: tuple[str, ...] = ()) -> int:
    """Insert FeedEntry rows (values of ENTRY_FIELDS, ready for the database) as bulk_create writes them, one
    statement a batch; on a conflict, skip the row (OnConflict.IGNORE) or update the `update` columns. Return the
    rows the database reports written.

    bulk_create builds every value of every row through the ORM's compiler: that was about half of a full
    rebuild's time (bench B12). The SQL is the backend's own (insert statement, VALUES, conflict clause).
    """
    meta = FeedEntry._meta
    fields = [meta.get_field(name) for name in ENTRY_FIELDS]
    ops, quote = connection.ops, connection.ops.quote_name
    head = f"{ops.insert_statement(on_conflict=on_conflict)} {quote(meta.db_table)} "
    head += f"({', '.join(quote(field.column) for field in fields)}) "
    conflict = ops.on_conflict_suffix_sql(
        fields, on_conflict, [meta.get_field(name).column for name in update], [meta.pk.column]
    )
    size = ops.bulk_batch_size(fields, rows)  # SQLite's limit on parameters
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            values = ops.bulk_insert_sql(fields, [["%s"] * len(fields)] * len(batch))
            cursor.execute(f"{head}{values} {conflict}", [value for row in batch for value in row])
            written += cursor.rowcount
    return written


def feed_refresh_stale(*, product_ids: list[int] | None = None) -> int:
    """Render the stale entries (of `product_ids`, or all), FEED_BATCH at a time; return how many changed."""
    render = FeedLines(feed_links())
    if product_ids is not None:
        ids = sorted(set(product_ids))
        return sum(_render(ids[start : start + FEED_BATCH], render) for start in range(0, len(ids), FEED_BATCH))
    changed, after = 0, 0
    stale = FeedEntry.objects.filter(stale=True).order_by("pk").values_list("pk", flat=True)
    while ids := list(stale.filter(pk__gt=after)[:FEED_BATCH]):
        changed += _render(ids, render)
        after = ids[-1]
    return changed


@retrying(attempts=5, backoff=30)
@task()
def feed_refresh(product_ids: list[int]) -> int:
    """Render again the stale feed entries of these products (queued by feed_mark_stale); return how many changed."""
    return feed_refresh_stale(product_ids=product_ids)


@retrying(attempts=5, backoff=30)
@task()
def feed_refresh_all() -> int:
    """Render again every stale feed entry (queued by feed_mark_all_stale); return how many changed."""
    return feed_refresh_stale()


def feed_rebuild() -> int:
    """Render every product's feed entry again (a periodic job, and `manage.py product_feed --rebuild`).

    Products that have no entry yet (bulk inserts send no signal) get one, rendered, after the others are marked
    stale (those are rendered next). Returns how many lines changed.
    """
    FeedEntry.objects.filter(stale=False).update(stale=True)
    return _add_missing() + feed_refresh_stale()


def _add_missing() -> int:
    """Render the products that have no feed entry and insert their entries, FEED_BATCH at a time; return how many.

    Nothing to compare with and no claim to take: an entry that appeared meanwhile (its product changed, marking
    it stale) is left as it is, and its own job renders it. Pushing it too is harmless: a push sends the lines
    stored when it runs.
    """
    render = FeedLines(feed_links())
    missing = Product.objects.filter(feed_entry__isnull=True).order_by("pk").values(*FEED_COLUMNS)
    added, after = 0, 0
    while rows := list(missing.filter(pk__gt=after)[:FEED_BATCH]):  # from the last batch on, not from the start
        after = rows[-1]["pk"]
        rendered = {row["pk"]: (row["is_active"], render(row)) for row in rows}
        with transaction.atomic():
            added += _insert_entries(_entries(rendered, ""), on_conflict=OnConflict.IGNORE)
            feed_touch()
            feed_push_changed(list(rendered))
    return added


def feed_lines(feed: str):
    """Yield the stored lines of a feed (FEEDS' keys), products on sale only, each ending in a newline."""
    column = FEEDS[feed]
    for line in FeedEntry.objects.filter(listed=True).order_by("pk").values_list(column, flat=True).iterator(2000):
        yield line + "\n"


def feed_metadata(feed: str) -> dict:
    """Return a feed's FeedMetadata (schema.feed.json): its id, the shop's country and when it last changed."""
    metadata = {"id": feed, "target_country": settings.SHOP_COUNTRY.upper()}
    updated_at = feed_updated_at()
    if updated_at is not None:
        metadata["updated_at"] = updated_at.isoformat().replace("+00:00", "Z")
    return metadata


# Signals: saves through any door (services, admin, API, ORM). Stock changes are queryset updates, which send
# no signal: catalog.services calls feed_mark_stale for them.


def _product_saved(sender, instance: Product, raw=False, **kwargs):
    if not raw:
        feed_mark_stale([instance.pk])


def _product_deleted(sender, instance: Product, **kwargs):
    feed_touch()  # its entry goes with it (CASCADE): the feeds changed


def _category_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or created:
        return
    shelves = [instance.pk, *instance.children.values_list("pk", flat=True)]
    feed_mark_stale(Product.objects.filter(category__in=shelves).values_list("pk", flat=True))


def _policy_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        feed_mark_all_stale()


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from catalog.models import Category
    from policies.models import Policy

    post_save.connect(_product_saved, sender=Product, dispatch_uid="catalog.feeds.product_saved")
    post_delete.connect(_product_deleted, sender=Product, dispatch_uid="catalog.feeds.product_deleted")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="catalog.feeds.category_saved")
    post_save.connect(_policy_changed, sender=Policy, dispatch_uid="catalog.feeds.policy_saved")
    post_delete.connect(_policy_changed, sender=Policy, dispatch_uid="catalog.feeds.policy_deleted")

"""Keep search in step with product changes made through any door (services, admin, API, ORM).

- Keyword search: SQLite and PostgreSQL update their indexes with triggers; for MariaDB/MySQL the
  product's FULLTEXT document is written here, in the same transaction as the product.
- Semantic search: once the transaction commits, the product id is queued and a background thread
  of this process embeds it a moment later (batched, only when its text really changed). Bulk
  inserts (`seed_demo --products`) skip signals: `manage.py embed_products` catches up, and only
  does the missing or stale rows.

Tests set SEARCH_EMBED_ON_SAVE=manual and call `flush()` to embed what is queued, deterministically.
"""

import atexit
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models.signals import post_delete, post_save

from catalog.models import Category, Product, ProductSearchDocument
from catalog.search.embeddings import EmbeddingsUnavailable
from catalog.search.text import mysql_tokens, product_body, product_names

logger = logging.getLogger(__name__)

TEXT_FIELDS = {"sku", "name", "name_en", "description", "description_en", "category", "category_id"}
DEBOUNCE_SECONDS = 0.2

_pending: set[int] = set()
_condition = threading.Condition()
_working = threading.Lock()  # one batch at a time, worker or flush()
_worker: threading.Thread | None = None
_warned: set[str] = set()


# The keyword document (MariaDB/MySQL only) ------------------------------------------------------


def write_documents(products) -> None:
    """Write the FULLTEXT documents of these products (MariaDB/MySQL; elsewhere triggers do it)."""
    if connection.vendor != "mysql":
        return
    products = list(products)
    ProductSearchDocument.objects.filter(product_id__in=[p.pk for p in products]).delete()
    ProductSearchDocument.objects.bulk_create(
        ProductSearchDocument(product_id=p.pk, names=mysql_tokens(product_names(p)), body=mysql_tokens(product_body(p)))
        for p in products
    )


def backfill_documents(*, batch_size: int = 2000) -> int:
    """Write the missing FULLTEXT documents (after bulk inserts); return how many (MariaDB/MySQL)."""
    if connection.vendor != "mysql":
        return 0
    done = 0
    missing = Product.objects.filter(search_document__isnull=True).order_by("pk").values_list("pk", flat=True)
    while ids := list(missing[:batch_size]):
        with transaction.atomic():
            write_documents(Product.objects.filter(pk__in=ids).select_related("category", "category__parent"))
        done += len(ids)
    return done


# Signals ----------------------------------------------------------------------------------------


def _product_saved(sender, instance: Product, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields is not None and not (set(update_fields) & TEXT_FIELDS)):
        return  # a stock or price change: nothing to re-index
    write_documents([instance])
    transaction.on_commit(lambda: schedule([instance.pk]))


def _category_saved(sender, instance: Category, created=False, raw=False, **kwargs):
    if raw or created:
        return
    products = Product.objects.filter(category__in=[instance.pk, *instance.children.values_list("pk", flat=True)])
    write_documents(products.select_related("category", "category__parent"))
    ids = list(products.values_list("pk", flat=True))
    transaction.on_commit(lambda: schedule(ids))


def _product_deleted(sender, instance: Product, **kwargs):
    if connection.vendor == "mysql":
        ProductSearchDocument.objects.filter(product_id=instance.pk).delete()


def connect() -> None:
    post_save.connect(_product_saved, sender=Product, dispatch_uid="catalog.search.product_saved")
    post_delete.connect(_product_deleted, sender=Product, dispatch_uid="catalog.search.product_deleted")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="catalog.search.category_saved")


# The embedding queue ----------------------------------------------------------------------------


def schedule(ids) -> None:
    """Queue products for embedding; in background mode a thread of this process picks them up."""
    if settings.EMBEDDING_BACKEND == "none":
        return
    with _condition:
        _pending.update(ids)
        if settings.SEARCH_EMBED_ON_SAVE == "background":
            _start_worker()
            _condition.notify()


def pending() -> set[int]:
    with _condition:
        return set(_pending)


def _take(limit: int | None = None) -> list[int]:
    with _condition:
        ids = sorted(_pending)[:limit] if limit else sorted(_pending)
        _pending.difference_update(ids)
        return ids


def _embed(ids: list[int]) -> int:
    from catalog.search.vectors import embed_products

    try:
        return embed_products(ids)
    except EmbeddingsUnavailable as error:
        message = str(error)
        if message not in _warned:
            _warned.add(message)
            logger.warning("Semantic search: products not embedded: %s", message)
        return 0


def flush() -> int:
    """Embed everything queued now, in this thread; return how many vectors were written."""
    done = 0
    with _working:
        while ids := _take():
            done += _embed(ids)
    return done


def _start_worker() -> None:
    global _worker
    if _worker is None or not _worker.is_alive():
        _worker = threading.Thread(target=_run, name="catalog-embeddings", daemon=True)
        _worker.start()


def _run() -> None:
    while True:
        with _condition:
            while not _pending:
                _condition.wait()
        time.sleep(DEBOUNCE_SECONDS)  # let a burst of saves arrive, then embed them together
        with _working:
            try:
                close_old_connections()
                _embed(_take(limit=256))
            except Exception:
                logger.exception("Semantic search: embedding in the background failed")
            finally:
                connections.close_all()  # this thread's own connections


@atexit.register
def _flush_at_exit() -> None:
    """A command that saved products (seed_demo) embeds them before the process ends."""
    if _pending and settings.SEARCH_EMBED_ON_SAVE == "background":
        try:
            flush()
        except Exception:
            logger.exception("Semantic search: could not embed the queued products at exit")

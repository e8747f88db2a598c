"""Keep search in step with product changes made through any door (services, admin, API, ORM).

- Keyword search: SQLite and PostgreSQL update their indexes with triggers; for MariaDB/MySQL the
  product's FULLTEXT document is written here, in the same transaction as the product.
- Semantic search: a job on the `search` queue (`embed`) is stored in the same transaction as the
  product, so a saved product is embedded by a worker even if the process that saved it dies right
  after. Saves while a job waits add their ids to it: an import of 1,000 products makes a few jobs of
  up to EMBED_JOB_SIZE products, each embedding its products in batches. Bulk inserts
  (`seed_demo --products`) skip signals: `manage.py embed_products` catches up, and only does the
  missing or stale rows.

Tests run the queued jobs when they want the vectors (tests/jobs.py: `run_jobs(queue="search")`).
"""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django_tasks import task

from catalog.models import Category, Product, ProductSearchDocument
from catalog.search.embeddings import EmbeddingsUnavailable
from catalog.search.text import mysql_tokens, product_body, product_names
from mcpshop_site.jobs.queue import enqueue_batched
from mcpshop_site.jobs.retries import retrying

logger = logging.getLogger(__name__)

TEXT_FIELDS = {"sku", "name", "name_en", "description", "description_en", "category", "category_id"}
EMBED_JOB_SIZE = 500  # products per embedding job


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
    schedule([instance.pk])


def _category_saved(sender, instance: Category, created=False, raw=False, **kwargs):
    if raw or created:
        return
    products = Product.objects.filter(category__in=[instance.pk, *instance.children.values_list("pk", flat=True)])
    write_documents(products.select_related("category", "category__parent"))
    schedule(list(products.values_list("pk", flat=True)))


def _product_deleted(sender, instance: Product, **kwargs):
    if connection.vendor == "mysql":
        ProductSearchDocument.objects.filter(product_id=instance.pk).delete()


def connect() -> None:
    post_save.connect(_product_saved, sender=Product, dispatch_uid="catalog.search.product_saved")
    post_delete.connect(_product_deleted, sender=Product, dispatch_uid="catalog.search.product_deleted")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="catalog.search.category_saved")


# The embedding job -----------------------------------------------------------------------------


def schedule(ids) -> None:
    """Enqueue the embedding of these products, in the caller's transaction (see the module's docstring)."""
    if settings.EMBEDDING_BACKEND != "none" and ids:
        enqueue_batched(embed, list(ids), limit=EMBED_JOB_SIZE)


@retrying(attempts=5, backoff=60, on=(EmbeddingsUnavailable,))
@task(queue_name="search")
def embed(product_ids: list[int]) -> int:
    """Embed these products (those whose text changed since their vector was made); return how many.

    An unavailable backend (the embeddings endpoint down) is retried with backoff; after the last
    attempt the job stays failed and `manage.py embed_products` catches up.
    """
    from catalog.search.vectors import embed_products

    return embed_products(product_ids)

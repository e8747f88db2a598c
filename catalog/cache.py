"""Cached reads of the catalog for the hot pages: list counts, the category list and product grids; the
catalog's version, which also keys the response cache (mcpshop_site.response_cache).

Every change of a product, its stock or price, or a category calls `catalog_changed()`: signals for saves and
deletes (admin, API, services, commands), the stock services for the conditional UPDATEs of checkout, cancel,
expiry and imports, and bulk writes (seed_demo) themselves; so do a promotion's saves, deletes and product
changes (OrdersConfig.ready), since the cached live promotions (orders.offers) are keyed by the version. It
starts a new version at once and again when the transaction commits, so a read that ran meanwhile and stored
old rows under the first new version is dropped.

Where the cache is shared between processes (Redis with REDIS_URL) the version lives in it. With a per-process
memory cache it is the newest CatalogChange row, read from the database (once per request: a version is
remembered for the request that read it), so two processes never disagree; the cached values stay per process.
"""

import hashlib
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache as once

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from catalog.models import CatalogChange, Category, Product
from catalog.selectors import category_get, category_list

VERSION_KEY = "catalog:version"
COUNT_TIMEOUT = 600
GRID_TIMEOUT = 600
KEEP_CHANGES = 100  # CatalogChange rows kept: the newest is the version, older ones are deleted now and then

_request_version: ContextVar[dict | None] = ContextVar("catalog_request_version", default=None)


def _cache_is_shared() -> bool:
    """Return whether other processes see this cache (anything but a per-process memory cache)."""
    return not isinstance(caches["default"], LocMemCache)


def _stored_version() -> int:
    if not _cache_is_shared():
        # SQL rather than the ORM: about a quarter of the time, and every request of a process reads it
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(CatalogChange._meta.db_table)}")  # noqa: S608
            return cursor.fetchone()[0] or 0
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), None)
        version = cache.get(VERSION_KEY)
    return version


def catalog_version() -> int:
    """Return the catalog's current version (any number that changes whenever the catalog does); within a
    request (`catalog_version_scope`), the one it first read."""
    remembered = _request_version.get()
    if remembered is None:
        return _stored_version()
    if "version" not in remembered:
        remembered["version"] = _stored_version()
    return remembered["version"]


@contextmanager
def catalog_version_scope():
    """Read the catalog's version at most once inside this block (a request), unless the catalog changes in it."""
    token = _request_version.set({})
    try:
        yield
    finally:
        _request_version.reset(token)


def _new_version(*, prune: bool = False) -> None:
    if _cache_is_shared():
        cache.set(VERSION_KEY, time.time_ns(), None)
    else:
        change = CatalogChange.objects.create()
        if prune and change.pk % KEEP_CHANGES == 0:
            CatalogChange.objects.filter(pk__lte=change.pk - KEEP_CHANGES).delete()
    remembered = _request_version.get()
    if remembered is not None:
        remembered.pop("version", None)


def catalog_changed(**kwargs) -> None:
    """Start a new catalog version now and again once the current transaction commits (also a signal receiver).

    The first makes the change show at once inside the transaction; a read in another process that stores old
    rows under it before the commit is outdated by the second. Without a transaction both happen now.
    """
    if transaction.get_connection().in_atomic_block:
        _new_version()
    transaction.on_commit(lambda: _new_version(prune=True))


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_count(queryset: QuerySet, *, filters: dict) -> int:
    """Return `queryset.count()`, from the cache while the catalog is unchanged. Not for stock filters.

    `filters` are what the queryset was built from (cheaper to hash than its SQL): equal filters, equal rows.
    """
    key = f"catalog:count:{catalog_version()}:{_digest(sorted(filters.items()))}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, COUNT_TIMEOUT)
    return count


class CachedCountPaginator(Paginator):
    """A Paginator that counts its queryset, built from `filters` (none on stock), through `cached_count`."""

    def __init__(self, object_list, per_page, *, filters: dict):
        super().__init__(object_list, per_page)
        self.filters = filters

    @cached_property
    def count(self) -> int:
        return cached_count(self.object_list, filters=self.filters)


def categories() -> list[Category]:
    """Return `category_list()` (every category with its product count), cached until the catalog changes."""
    key = f"catalog:categories:{catalog_version()}"
    rows = cache.get(key)
    if rows is None:
        rows = list(category_list())
        cache.set(key, rows, COUNT_TIMEOUT)
    return rows


def category_cached(*, slug: str) -> Category:
    """Return the category with this slug, its parent set, from `categories()`; from the database if the
    cached list lacks it (a bulk insert that told no one). Raises Category.DoesNotExist."""
    shelves = {shelf.slug: shelf for shelf in categories()}
    shelf = shelves.get(slug)
    if shelf is None:
        return category_get(slug=slug)
    parent = next((parent for parent in shelves.values() if parent.pk == shelf.parent_id), None)
    if parent is not None:
        shelf.parent = parent
    return shelf


@once
def csrf_marker() -> str:
    """Return the text that stands for the CSRF token in cached HTML (product grids here, whole pages in
    mcpshop_site/response_cache.py), filled in per request: the same in every process of the site (a grid
    cached in Redis by one is filled in by another) and unguessable, so no product text can contain it."""
    return salted_hmac("catalog.cache.product_grid", "csrf").hexdigest()


def product_grid(request, products, *, csrf_token, hide_empty: bool = False) -> SafeString:
    """Return partials/product_grid.html for `products`, rendered once per content and page address.

    The key covers all a card shows: each product's last save, its category's names, whether it is in
    stock and why search found it, plus the language and the page's path (the add-to-cart forms' `next`).
    The CSRF token (the template's `csrf_token`) is the one per-request part: cached as a marker and filled
    in each time. A queryset is read for the key's columns alone, and for whole products only when the grid
    is not cached. With `hide_empty`, no products give no HTML at all (rather than the "no products" note).
    """
    if isinstance(products, QuerySet):
        match = ("match",) if "match" in products.query.annotations else ()
        rows = products.values_list("pk", "updated_at", "category__name", "category__name_en", "stock", *match)
        content = [(*row[:4], row[4] > 0, row[5] if match else None) for row in rows]
    else:
        products = list(products)
        content = [
            (
                product.pk,
                product.updated_at,
                product.category.name,
                product.category.name_en,
                product.in_stock,
                getattr(product, "match", None),
            )
            for product in products
        ]
    if hide_empty and not content:
        return mark_safe("")
    key = f"catalog:grid:{_digest(get_language(), request.get_full_path(), content)}"
    marker = csrf_marker()
    html = cache.get(key)
    if html is None:
        context = {"products": list(products), "request": request, "csrf_token": marker}
        html = render_to_string("partials/product_grid.html", context)
        cache.set(key, html, GRID_TIMEOUT)
    return mark_safe(html.replace(marker, str(csrf_token)))  # noqa: S308  (rendered by our template)


def connect() -> None:
    """Start a new catalog version whenever a product or a category is saved or deleted (any door)."""
    from django.db.models.signals import post_delete, post_save

    for model in (Product, Category):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(catalog_changed, sender=model, dispatch_uid=f"catalog.cache.{model.__name__}.{name}")

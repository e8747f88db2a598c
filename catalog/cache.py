"""Cached reads of the catalog for the hot pages: list counts, the category list and product grids.

Counts and categories are keyed by the catalog's version, which every save or delete of a product or
a category replaces (signals, connected in CatalogConfig.ready), so a change shows on the next request
in every process that shares the cache (Redis with REDIS_URL). Without Redis each process has its own
memory cache and hears only its own signals: entries also expire after COUNT_TIMEOUT seconds, which
bounds how stale another process can be (and covers bulk writes that send no signal, like seed_demo).

Stock is not part of the version: it changes on every order without a signal. Counts filtered by stock
are therefore never cached, and a product grid's key carries whether each product is in stock.
"""

import hashlib
import time

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from catalog.models import Category, Product
from catalog.selectors import category_get, category_list

VERSION_KEY = "catalog:version"
COUNT_TIMEOUT = 60
GRID_TIMEOUT = 600


def catalog_version() -> int:
    """Return the catalog's current version (any number that changes whenever the catalog does)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), None)
        version = cache.get(VERSION_KEY)
    return version


def catalog_changed(**kwargs) -> None:
    """Start a new catalog version (a signal receiver: a product or a category was saved or deleted)."""
    cache.set(VERSION_KEY, time.time_ns(), None)


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
    cached list lacks it (another process's cache, without Redis). Raises Category.DoesNotExist."""
    shelves = {shelf.slug: shelf for shelf in categories()}
    shelf = shelves.get(slug)
    if shelf is None:
        return category_get(slug=slug)
    parent = next((parent for parent in shelves.values() if parent.pk == shelf.parent_id), None)
    if parent is not None:
        shelf.parent = parent
    return shelf


def _csrf_marker() -> str:
    # The same in every process of the site (so cached HTML from another process is filled in too),
    # and unguessable, so no product text can contain it.
    return salted_hmac("catalog.cache.product_grid", "csrf").hexdigest()


def product_grid(request, products) -> SafeString:
    """Return partials/product_grid.html for `products`, rendered once per content and page address.

    The key covers all a card shows: each product's last save, its category's names, whether it is in
    stock and why search found it, plus the language and the page's path (the add-to-cart forms' `next`).
    The shopper's CSRF token is the one per-request part: cached as a marker and filled in each time.
    A queryset is read for the key's columns alone, and for whole products only when the grid is not cached.
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
    key = f"catalog:grid:{_digest(get_language(), request.get_full_path(), content)}"
    marker = _csrf_marker()
    html = cache.get(key)
    if html is None:
        context = {"products": list(products), "request": request, "csrf_token": marker}
        html = render_to_string("partials/product_grid.html", context)
        cache.set(key, html, GRID_TIMEOUT)
    return mark_safe(html.replace(marker, get_token(request)))  # noqa: S308  (rendered by our template)


def connect() -> None:
    """Start a new catalog version whenever a product or a category is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    for model in (Product, Category):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(catalog_changed, sender=model, dispatch_uid=f"catalog.cache.{model.__name__}.{name}")

"""The demo catalog, created and embedded once for a search-quality test module, which only reads it."""

import contextlib

from django.db import transaction
from django.test import override_settings

from catalog.management.demo_catalog import CATEGORIES, PRODUCTS
from catalog.models import Category, Product
from catalog.search import vectors
from catalog.search.embeddings import reset
from catalog.services import product_create


@contextlib.contextmanager
def embedded_demo_catalog(django_db_blocker, *, language: str | None = None):
    """Load the demo catalog (each product in both languages, or only in `language`, "en" or "zh";
    the categories keep both names) and embed it with the local model, in a transaction rolled back
    at the end: around a module's tests, so embedding it is paid once (it took ~15 s a test)."""
    local_embeddings = override_settings(EMBEDDING_BACKEND="local")
    with local_embeddings, django_db_blocker.unblock(), transaction.atomic():
        reset()
        categories = {}
        for position, demo in enumerate(CATEGORIES):
            categories[demo.slug] = Category.objects.create(
                name=demo.name, name_en=demo.name_en, slug=demo.slug, parent=categories.get(demo.parent),
                position=position,
            )  # fmt: skip
        for demo in PRODUCTS:
            name, name_en, description, description_en = demo.name, demo.name_en, demo.description, demo.description_en
            if language == "en":
                name, name_en, description, description_en = demo.name_en, "", demo.description_en, ""
            elif language == "zh":
                name_en = description_en = ""
            product_create(
                sku=demo.sku, name=name, name_en=name_en, category=categories[demo.category],
                price_cents=demo.price_cents, stock=demo.stock, description=description, description_en=description_en,
            )  # fmt: skip
        vectors.embed_products(Product.objects.values_list("pk", flat=True))
        yield
        transaction.set_rollback(True)
    reset()

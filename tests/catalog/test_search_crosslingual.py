"""Cross-lingual search, held out: a product named and described in one language only, found by a query
in the other.

The demo catalog is loaded as the shop has it (names and descriptions in both languages); for each
query, the one product that answers it is rewritten in the other language only (and embedded again),
searched for, and put back. Each query is in the language its product then lacks. The set was written
before the search was tuned and was not used to tune it: it measures, it does not calibrate. The table
(found in the top 3, per mode) is printed on every run.
"""

import pytest
from django.db import connection, transaction
from django.test import override_settings

from catalog.management.demo_catalog import CATEGORIES, PRODUCTS
from catalog.models import Category, Product
from catalog.search import product_search, vectors
from catalog.search.embeddings import reset
from catalog.services import product_create, product_update

pytestmark = pytest.mark.django_db

MODES = ("keyword", "semantic", "hybrid")

# (query, the SKU that answers it); a Chinese query's product is kept in English only, and the reverse.
CASES = [
    ("龙井", "TEA-001"),
    ("大红袍", "TEA-003"),
    ("白毫银针", "TEA-005"),
    ("茉莉花茶", "TEA-007"),
    ("云南咖啡豆", "COF-001"),
    ("手冲壶", "COF-005"),
    ("磨豆机", "COF-007"),
    ("铸铁锅", "KIT-001"),
    ("竹砧板", "KIT-003"),
    ("电饭煲", "KIT-005"),
    ("瑜伽垫", "SPT-001"),
    ("速干T恤", "SPT-003"),
    ("碳板跑鞋", "RUN-003"),
    ("无线耳机", "ELC-002"),
    ("充电宝", "ELC-004"),
    ("扩展坞", "ELC-008"),
    ("钢笔", "STA-002"),
    ("彩色铅笔", "STA-004"),
    ("记忆棉枕头", "HOM-002"),
    ("加湿器", "HOM-008"),
    ("睡袋", "OUT-002"),
    ("保温壶", "OUT-006"),
    ("tieguanyin oolong", "TEA-002"),
    ("pu-erh tea cake", "TEA-004"),
    ("drip bag coffee", "COF-004"),
    ("kitchen scale", "KIT-008"),
    ("dumbbell", "SPT-002"),
    ("jump rope", "SPT-004"),
    ("bluetooth headphones", "ELC-001"),
    ("mechanical keyboard", "ELC-005"),
    ("scented candle", "HOM-003"),
    ("blackout curtains", "HOM-005"),
    ("camping chair", "OUT-005"),
    ("trekking poles", "OUT-003"),
    ("tent", "OUT-001"),
]


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def demo_catalog(django_db_setup, django_db_blocker):
    """The demo catalog, created and embedded once for this module, rolled back after it."""
    local_embeddings = override_settings(EMBEDDING_BACKEND="local", SEARCH_EMBED_ON_SAVE="manual")
    with local_embeddings, django_db_blocker.unblock(), transaction.atomic():
        reset()
        categories = {}
        for position, demo in enumerate(CATEGORIES):
            categories[demo.slug] = Category.objects.create(
                name=demo.name, name_en=demo.name_en, slug=demo.slug, parent=categories.get(demo.parent),
                position=position,
            )  # fmt: skip
        for demo in PRODUCTS:
            product_create(
                sku=demo.sku, name=demo.name, name_en=demo.name_en, category=categories[demo.category],
                price_cents=demo.price_cents, stock=demo.stock, description=demo.description,
                description_en=demo.description_en,
            )  # fmt: skip
        vectors.embed_products(Product.objects.values_list("pk", flat=True))
        yield
        transaction.set_rollback(True)
    reset()


def top_3_in_one_language(query: str, sku: str) -> dict[str, bool]:
    """Rewrite the product in the language the query is not in, search in every mode, put it back."""
    demo = next(demo for demo in PRODUCTS if demo.sku == sku)
    product = Product.objects.get(sku=sku)
    if chinese(query):
        one_language = {"name": demo.name_en, "name_en": "", "description": demo.description_en, "description_en": ""}
    else:
        one_language = {"name": demo.name, "name_en": "", "description": demo.description, "description_en": ""}
    both = {
        "name": demo.name,
        "name_en": demo.name_en,
        "description": demo.description,
        "description_en": demo.description_en,
    }
    product_update(product=product, **one_language)
    vectors.embed_products([product.pk])
    try:
        return {mode: sku in [found.sku for found in product_search(query=query, mode=mode)[:3]] for mode in MODES}
    finally:
        product_update(product=product, **both)
        vectors.embed_products([product.pk])


def test_the_held_out_set_is_big_and_in_both_languages():
    assert len(CASES) >= 27 and len({query for query, _ in CASES}) == len(CASES)
    assert len({sku for _, sku in CASES}) == len(CASES)
    assert 0.3 <= sum(chinese(query) for query, _ in CASES) / len(CASES) <= 0.7


def test_cross_lingual_top_3_per_mode(demo_catalog, capsys):
    found = {mode: [] for mode in MODES}
    for query, sku in CASES:
        for mode, hit in top_3_in_one_language(query, sku).items():
            if hit:
                found[mode].append(query)
    lines = [
        f"Cross-lingual, held out ({len(CASES)} queries, each product in the other language only; {connection.vendor}, "
        f"{'pgvector' if vectors.uses_pgvector() else 'numpy store'}): found in the top 3",
    ]
    for mode, queries in found.items():
        missed = [query for query, _ in CASES if query not in queries]
        lines.append(f"{mode:<9} {len(queries):>3} of {len(CASES)}   missed: {', '.join(missed) or '-'}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert set(found["semantic"]) <= set(found["hybrid"])  # fusion loses nothing the meaning found

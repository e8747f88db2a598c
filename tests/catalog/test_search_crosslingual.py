"""Cross-lingual search, held out: products named and described in one language only, found by queries
in the other.

The demo catalog is loaded twice, once with every product in English only and once in Chinese only
(the categories keep both names, as the shop's own); the Chinese queries search the English catalog
and the English queries the Chinese one. The set was written before the search was tuned and was not
used to tune it: it measures, it does not calibrate. The table (the product found in the top 3, per
mode) is printed on every run.
"""

import pytest
from django.db import connection

from catalog.search import product_search, vectors
from tests.catalog.demo_search import embedded_demo_catalog

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


# Measured on SQLite when the set was written, before the relevance floor and after it (which leaves a
# product in the other language than the query without a floor): English-only catalog 13 of 22 in the
# semantic and the hybrid top 3, Chinese-only catalog 8 of 13 (both 21 of 35). With the floor applied
# across languages too it was 7 and 2. The thresholds sit one below the measured figures.
AT_LEAST = {"en": 12, "zh": 7}


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module", params=["en", "zh"])
def one_language_catalog(request, django_db_setup, django_db_blocker):
    """The demo catalog with every product in one language (the param), embedded; rolled back after."""
    with embedded_demo_catalog(django_db_blocker, language=request.param):
        yield request.param


def test_the_held_out_set_is_big_and_in_both_languages():
    assert len(CASES) >= 27 and len({query for query, _ in CASES}) == len(CASES)
    assert len({sku for _, sku in CASES}) == len(CASES)
    assert 0.3 <= sum(chinese(query) for query, _ in CASES) / len(CASES) <= 0.7


def test_cross_lingual_top_3_per_mode(one_language_catalog, capsys):
    cases = [(query, sku) for query, sku in CASES if chinese(query) == (one_language_catalog == "en")]
    found = {mode: [] for mode in MODES}
    for query, sku in cases:
        for mode in MODES:
            if sku in [product.sku for product in product_search(query=query, mode=mode)[:3]]:
                found[mode].append(query)
    catalog = (
        "English-only catalog, Chinese queries"
        if one_language_catalog == "en"
        else "Chinese-only catalog, English queries"
    )
    lines = [
        f"Cross-lingual, held out: {catalog} ({len(cases)}; {connection.vendor}, "
        f"{'pgvector' if vectors.uses_pgvector() else 'numpy store'}): found in the top 3",
    ]
    for mode, queries in found.items():
        missed = [query for query, _ in cases if query not in queries]
        lines.append(f"{mode:<9} {len(queries):>3} of {len(cases)}   missed: {', '.join(missed) or '-'}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert set(found["semantic"]) <= set(found["hybrid"])  # fusion loses nothing the meaning found
    assert len(found["hybrid"]) >= AT_LEAST[one_language_catalog], found["hybrid"]

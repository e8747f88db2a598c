"""The shop's one search service: keyword, semantic and hybrid, used by the storefront, the API,
the assistant's search_products tool and (through it) MCP.

    results = product_search(query="something to keep my coffee hot", mode="hybrid", max_price=20000)
    results.count(); page = results[0:24]; page[0].match  # "keyword", "meaning" or "both"

- keyword: the database's own full-text engine (catalog.search.keyword), every term must match;
- semantic: the nearest products in meaning (catalog.search.vectors), in any language, when the best
  of them clears the relevance floor (catalog.search.ranking): gibberish and things the shop does
  not sell ("iphone 15", "汽车轮胎") find nothing, in every mode;
- hybrid: both lists fused (catalog.search.ranking.fuse), typos in the words corrected with the
  catalog's own spelling (catalog.search.query) before the keyword search.
Filters (category with its children, price range in cents, in stock) are applied in the database.
When semantic search cannot run, hybrid quietly falls back to keyword and `semantic_error` says why;
asking for `semantic` alone then raises SearchModeUnavailable.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from catalog.exceptions import SearchModeUnavailable
from catalog.models import Product
from catalog.search import keyword
from catalog.search.embeddings import EmbeddingsUnavailable
from catalog.search.keyword import RANKED, keyword_ranking
from catalog.search.query import (
    contradicted,
    coverage,
    coverage_terms,
    gives_attributes,
    in_query_language,
    partial_matches,
    product_texts,
    read,
)
from catalog.search.ranking import KEYWORD, MEANING, found_by_meaning, fuse, meaning_floor

MODES = ("keyword", "semantic", "hybrid")
SORTS = {
    "relevance": None,
    "newest": ("-created_at", "-id"),
    "price": ("price_cents", "id"),
    "-price": ("-price_cents", "-id"),
    "name": ("name", "id"),
}
CANDIDATES = 100  # from each ranking, for semantic and hybrid results
PARTIAL_AGREE = 5  # a product holding some of the query's words only counts among this many nearest in meaning


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False

    @property
    def any(self) -> bool:
        return bool(self.category or self.min_price is not None or self.max_price is not None or self.in_stock)

    def queryset(self) -> QuerySet[Product]:
        products = Product.objects.filter(is_active=True)
        if self.category:
            products = products.filter(Q(category__slug=self.category) | Q(category__parent__slug=self.category))
        if self.min_price is not None:
            products = products.filter(price_cents__gte=self.min_price)
        if self.max_price is not None:
            products = products.filter(price_cents__lte=self.max_price)
        if self.in_stock:
            products = products.filter(stock__gt=0)
        return products

    def sql(self) -> tuple[str, list]:
        """Return the same conditions over the product alias `p`, for the pgvector query."""
        where, params = ["p.is_active"], []
        if self.category:
            where.append(
                "p.category_id IN (SELECT c.id FROM catalog_category c LEFT JOIN catalog_category pc "
                "ON pc.id = c.parent_id WHERE c.slug = %s OR pc.slug = %s)"
            )
            params += [self.category, self.category]
        if self.min_price is not None:
            where.append("p.price_cents >= %s")
            params.append(self.min_price)
        if self.max_price is not None:
            where.append("p.price_cents <= %s")
            params.append(self.max_price)
        if self.in_stock:
            where.append("p.stock > 0")
        return " AND ".join(where), params


@dataclass
class SearchResults:
    """A ranked, countable, sliceable list of products, each carrying `match` (why it was found).

    Django's Paginator and DRF's pagination read it like a queryset: `count()` and slices.
    """

    mode: str
    queryset: QuerySet | None = None  # a plain listing (no query), ordered in the database
    ranked: list[tuple[int, str]] = field(default_factory=list)  # a search: (product id, match), in order
    semantic_error: str | None = None
    _count: int | None = field(default=None, init=False, repr=False)

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.count() if self.queryset is not None else len(self.ranked)
        return self._count

    @property
    def capped(self) -> bool:
        """Whether keyword matches reached KEYWORD_LIMIT: there may be more than `count()` says."""
        return self.mode == "keyword" and self.queryset is None and self.count() >= keyword.KEYWORD_LIMIT

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, int):
            return self[index : index + 1][0]
        if self.queryset is not None:
            products = list(self.queryset[index])
            for product in products:
                product.match = None
            return products
        window = self.ranked[index]
        found = Product.objects.select_related("category").in_bulk([pk for pk, _ in window])
        products = []
        for pk, match in window:
            if pk in found:
                found[pk].match = match
                products.append(found[pk])
        return products

    def __iter__(self):
        return iter(self[:])


def product_search(
    *,
    query: str = "",
    mode: str = "hybrid",
    category: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool = False,
    sort: str = "relevance",
) -> SearchResults:
    """Search the active products; see the module docstring. `sort` is relevance, newest, price, -price or name."""
    if mode not in MODES:
        raise SearchModeUnavailable(mode=mode)
    filters = Filters(category=category, min_price=min_price, max_price=max_price, in_stock=in_stock)
    products = filters.queryset().select_related("category")
    query = " ".join(query.replace("\x00", " ").split())
    sort = sort if sort in SORTS else "relevance"
    if not query:
        return SearchResults(mode=mode, queryset=products.order_by(*(SORTS[sort] or SORTS["newest"])))
    if mode == "keyword":
        return _keyword_results(products, query, sort)
    from catalog.search.vectors import nearest

    try:
        neighbours = nearest(query, products=products, filter_sql=filters.sql(), filtered=filters.any, k=CANDIDATES)
    except EmbeddingsUnavailable as error:
        if mode == "semantic":
            message = _("Search by meaning is not available: %(reason)s") % {"reason": error}
            raise SearchModeUnavailable(message, mode=mode, reason=str(error)) from None
        return _keyword_results(products, query, sort, semantic_error=str(error))
    found = keyword_ranking(products, query, limit=CANDIDATES) if mode == "hybrid" else []
    reading = read(query, matched=bool(found))
    if mode == "hybrid" and not found and reading.words != query:
        found = keyword_ranking(products, reading.words, limit=CANDIDATES)
    unnamed = False  # a short query with a word the catalog does not know, and no product named by the other
    if mode == "hybrid" and not found:
        # A word no product holds where it should ("camping") hides no product named by the other
        # ("tent"), when search by meaning agrees ("dog food" is no glass food container).
        partial = partial_matches(products, reading.words, limit=CANDIDATES)
        agreeing = set(neighbours.ids[:PARTIAL_AGREE])
        found = [pk for pk in partial or () if pk in agreeing]
        unnamed = partial == [] and 0 < reading.unknown < 1  # all unknown: maybe the other language
    floor = meaning_floor(query, neighbours.model, unknown=reading.unknown)
    meaning_ids = found_by_meaning(
        neighbours.ids, neighbours.scores, baseline=neighbours.baseline, floor=floor, best=neighbours.best
    )
    if not meaning_ids and neighbours.ids and not in_query_language(query, neighbours.ids[0]):
        # Across languages the model's scores say too little for a floor (catalog.search.ranking).
        meaning_ids = found_by_meaning(neighbours.ids, neighbours.scores, baseline=None, floor=floor)
    if unnamed:
        # "printer ink": what is asked for is the unknown word's (a printer's ink); no product is named
        # ink, and the pens and notebooks close in meaning are not it.
        meaning_ids = []
    terms = coverage_terms(reading.words) if mode == "hybrid" else []
    only_meaning = [pk for pk in meaning_ids if pk not in set(found)]
    wanted = len(terms) > 1 or gives_attributes(query)
    texts = product_texts(only_meaning) if wanted else {}  # one query for the words and the attributes
    if against := contradicted(query, texts):
        meaning_ids = [pk for pk in meaning_ids if pk not in against]
        texts = {pk: text for pk, text in texts.items() if pk not in against}
    if mode == "semantic":
        ranked = [(pk, MEANING) for pk in meaning_ids]
    else:
        ranked = fuse(found, meaning_ids, coverage(terms, texts) if len(terms) > 1 else {})
    if sort != "relevance":
        ranked = _sorted(ranked, sort)
    return SearchResults(mode=mode, ranked=ranked)


def _keyword_results(products: QuerySet, query: str, sort: str, semantic_error: str | None = None) -> SearchResults:
    """The keyword matches as a ranked list: one query finds, sorts and (by its length) counts them."""
    ids = keyword_ranking(products, query, order=SORTS[sort] or RANKED)
    return SearchResults(mode="keyword", ranked=[(pk, KEYWORD) for pk in ids], semantic_error=semantic_error)


def _sorted(ranked: list[tuple[int, str]], sort: str) -> list[tuple[int, str]]:
    keys = {
        row["pk"]: row
        for row in Product.objects.filter(pk__in=[pk for pk, _ in ranked]).values(
            "pk", "price_cents", "created_at", "name"
        )
    }
    field_name, reverse = {
        "newest": ("created_at", True),
        "price": ("price_cents", False),
        "-price": ("price_cents", True),
        "name": ("name", False),
    }[sort]
    present = [row for row in ranked if row[0] in keys]
    return sorted(present, key=lambda row: (keys[row[0]][field_name], row[0]), reverse=reverse)

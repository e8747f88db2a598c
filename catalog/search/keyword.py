"""Keyword search on each database's own full-text engine.

`keyword_ranking(products, query)` lists the ids of the products of a queryset that contain every
term of the query, best first by `keyword_rank` (names count more than descriptions) or in a
given order. PostgreSQL also accepts near spellings of the names (pg_trgm) so a typo still finds
something. `icontains` is only the last resort, for queries with no indexable term (emoji,
punctuation) and, on SQLite, for a one- or two-character term too common to expand.

A query matches at most KEYWORD_LIMIT products, and those are the best candidates, not the oldest:
first the products whose names hold every term (an index of the names: PostgreSQL's
catalog_product_names_search, the names column of SQLite's FTS5 table and of MariaDB's FULLTEXT
document, which also hold the SKU and the category), then the first other matches the index yields,
up to the cap. Those are ranked, counted and paged, the rest are not looked at. `keyword_ranking`
lists them in order, as product_search takes them (its length is the count); on PostgreSQL one
query finds them and sorts them by the keys the index scan read with each, and ranks the first
RANK_LIMIT (200, 8 pages) by ts_rank_cd, the pages after them newest first. Counting and ranking
every match of a common word ("tea" in 14% of 100,000 products) took 100-700 ms; the cap keeps it
bounded, the way big shops show "1,000+ results" and ask for a narrower query. A product named "Tea"
added after thousands of products that mention tea in their descriptions is still found, first.
It is the same on every database.
"""

import functools
import re

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from catalog.search import schema
from catalog.search.text import (
    is_cjk,
    mysql_boolean_query,
    normalize,
    postgres_tsquery,
    query_terms,
    sqlite_phrase,
)

SQLITE_MAX_EXPANSION = 200  # trigrams one short term may expand to before it falls back to icontains
KEYWORD_LIMIT = 1000  # matches a query ranks and counts at most (see the module docstring)
RANK_LIMIT = 200  # of those, how many PostgreSQL ranks by ts_rank_cd (see _postgresql_ranking)


RANKED = ("-keyword_rank", "-created_at", "-id")  # best match first, then the newest


def keyword_ranking(
    products: QuerySet, query: str, *, order: tuple[str, ...] = RANKED, limit: int | None = None
) -> list[int]:
    """Return the ids of the keyword matches (at most KEYWORD_LIMIT, or `limit`) in `order`: one query.

    `order` names fields of Product or keyword_rank, "-" for descending. On PostgreSQL, when no
    product has the words, near spellings of the names instead (a second query).
    """
    terms = query_terms(query)
    limit = KEYWORD_LIMIT if limit is None else min(limit, KEYWORD_LIMIT)
    if connection.vendor == "postgresql" and terms:
        ids = _postgresql_ranking(products, terms, order, limit)
        if not ids and _has_latin(terms):
            ids = _postgresql_ranking(products, terms, order, limit, similar=True)
        return ids
    return list(_match(products, query, terms).order_by(*order).values_list("pk", flat=True)[:limit])


def words_found(products: QuerySet, words: list[str]) -> list[bool]:
    """Return, for each word, whether some product of `products` has it (as a keyword search for it
    alone would find it), without ranking anything: one query of EXISTS probes of the index."""
    probes, params = [], []
    for word in words:
        terms = query_terms(word)
        if connection.vendor == "postgresql" and terms:
            matches = products.filter(_postgresql_parts(terms)[0])
        else:
            matches = _match(products, word, terms)
        try:
            sql, probe_params = matches.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # Django knows without asking that nothing matches (e.g. an empty IN list)
            probes.append("1 = 0")
            continue
        probes.append(f"EXISTS ({sql})")
        params.extend(probe_params)
    if not probes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(probes)}", params)  # Django's own compiled SQL, values as parameters
        return [bool(found) for found in cursor.fetchone()]


def _candidates(matches: QuerySet, named: QuerySet | None = None) -> RawSQL:
    """Return a subquery of at most KEYWORD_LIMIT `matches` for `pk__in`: the `named` ones (the
    matches in the names; SQLite and MariaDB) first, then the first other `matches` the index yields.

    On PostgreSQL (`matches` without terms: the icontains fallback) a MATERIALIZED CTE, see
    `_postgresql_candidates`. MariaDB refuses a LIMIT directly inside IN (...), hence the derived tables.
    """
    # Django's own compiled SQL for the matches, its values still parameters; the id named pk_ in each.
    sql, params = matches.order_by().values(pk_=F("pk")).query.sql_with_params()
    if named is None:
        if connection.vendor == "postgresql":
            candidates = _postgresql_candidates(sql)
        else:
            candidates = f"SELECT * FROM ({sql} LIMIT {KEYWORD_LIMIT}) AS candidates"  # noqa: S608
        return RawSQL(candidates, params)  # noqa: S611
    named_sql, named_params = named.order_by().values(pk_=F("pk")).query.sql_with_params()
    # Each part capped on its own (MariaDB's LIMIT takes no subquery), a product in both keeps its better tier.
    parts = (
        f"SELECT pk_ FROM (SELECT pk_, 0 AS tier FROM ({named_sql} LIMIT {KEYWORD_LIMIT}) AS named "  # noqa: S608
        f"UNION ALL SELECT pk_, 1 AS tier FROM ({sql} LIMIT {KEYWORD_LIMIT}) AS matched) AS tiers"
    )
    candidates = f"SELECT * FROM ({parts} GROUP BY pk_ ORDER BY MIN(tier) LIMIT {KEYWORD_LIMIT}) AS candidates"  # noqa: S608
    return RawSQL(candidates, (*named_params, *params))  # noqa: S611


def _postgresql_candidates(sql: str, named_sql: str | None = None, columns: str = "pk_") -> str:
    """Return PostgreSQL's candidates: the `named` matches first, if any, then the others, KEYWORD_LIMIT
    in all. The other matches only fill what the name matches leave: none is read when those fill the
    cap. Each part is a MATERIALIZED CTE: planned apart from the LIMIT, a common word is read from the
    GIN index (a few ms) instead of a sequential scan that detoasts every row's tsvector until it has
    found enough (100+ ms)."""
    if named_sql is None:
        return f"WITH candidates AS MATERIALIZED ({sql}) SELECT {columns} FROM candidates LIMIT {KEYWORD_LIMIT}"  # noqa: S608
    return (
        f"WITH named_all AS MATERIALIZED ({named_sql}), "  # noqa: S608
        f"named AS MATERIALIZED (SELECT {columns} FROM named_all LIMIT {KEYWORD_LIMIT}), "
        f"matched AS MATERIALIZED ({sql}) "
        f"SELECT {columns} FROM named UNION ALL (SELECT {columns} FROM matched "
        f"WHERE pk_ NOT IN (SELECT pk_ FROM named) LIMIT {KEYWORD_LIMIT} - (SELECT count(*) FROM named))"
    )


def _has_latin(terms: list[str]) -> bool:
    return any(not is_cjk(term) for term in terms)


def _match(products: QuerySet, query: str, terms: list[str]) -> QuerySet:
    if not terms:
        return _unranked(_icontains(products, query))
    vendor = connection.vendor  # (PostgreSQL's terms: see _postgresql_ranking)
    if vendor == "sqlite" and _sqlite_ready():
        return _sqlite(products, terms)
    if vendor == "mysql":
        return _mysql(products, terms)
    return _unranked(_icontains(products, query))


def _unranked(matches: QuerySet) -> QuerySet:
    return matches.filter(pk__in=_candidates(matches)).annotate(keyword_rank=Value(0.0, output_field=FloatField()))


def _icontains(products: QuerySet, query: str) -> QuerySet:
    """The last resort: every word must appear in the SKU, a name, a description or the category."""
    condition = Q()
    for word in normalize(query).split()[:8]:
        condition &= _icontains_word(word)
    return products.filter(condition)


def _icontains_word(word: str) -> Q:
    return (
        Q(sku__iexact=word)
        | Q(name__icontains=word)
        | Q(name_en__icontains=word)
        | Q(description__icontains=word)
        | Q(description_en__icontains=word)
        | Q(category__name__icontains=word)
        | Q(category__name_en__icontains=word)
    )


# PostgreSQL: tsvector ('simple' over latin words and CJK grams, see schema.py) + pg_trgm on the names.


def _postgresql_parts(terms: list[str]) -> tuple[RawSQL, RawSQL, RawSQL]:
    """Return the conditions "matches anywhere" and "matches in the names", and the rank.

    The conditions take the query from a subquery, which the planner does not look into: it then
    estimates a few hundred matches for any word and reads them from the GIN indexes, lazily, as
    `_postgresql_candidates` needs them. Seeing a common word ("for" in 62% of the products) it
    planned a sequential scan, and for "tea" (14%) two parallel workers, whose start cost more than
    sharing the 1,000 rows saved (19 ms instead of 5 at 100,000 products on 2 loaded cores).
    """
    tsquery = postgres_tsquery(terms)
    matches = RawSQL(
        '"catalog_product"."search_vector" @@ (SELECT %s::tsquery)', [tsquery], output_field=BooleanField()
    )
    named = RawSQL(f"{schema.POSTGRES_NAMES_VECTOR} @@ (SELECT %s::tsquery)", [tsquery], output_field=BooleanField())  # noqa: S611
    rank = RawSQL('ts_rank_cd("catalog_product"."search_vector", %s::tsquery)', [tsquery], output_field=FloatField())
    return matches, named, rank


def _postgresql_similar_parts(terms: list[str]) -> tuple[RawSQL, RawSQL]:
    """Return the condition "a near spelling of the names" (pg_trgm word_similarity >= 0.6, the
    default threshold) and its rank, closest first."""
    latin = " ".join(term for term in terms if not is_cjk(term))
    similar = RawSQL(
        """("catalog_product"."name" || ' ' || "catalog_product"."name_en") %%> %s""",
        [latin],
        output_field=BooleanField(),
    )
    rank = RawSQL(
        """word_similarity(%s, "catalog_product"."name" || ' ' || "catalog_product"."name_en")""",
        [latin],
        output_field=FloatField(),
    )
    return similar, rank


def _postgresql_ranking(
    products: QuerySet, terms: list[str], order: tuple[str, ...], limit: int, *, similar: bool = False
) -> list[int]:
    """Return the ids of the candidates (see `_candidates`) in `order`, at most `limit`, in one query.

    Each candidate's sort keys are read by the index scan that finds it, so the candidates are
    sorted as they are, without fetching each row again by its id (1,000 index probes and as many
    category rows for a common word, then the same again to count them). ts_rank_cd reads the
    row's tsvector, which PostgreSQL keeps out of line (TOAST, ~1.7 KB): three more buffers a row.
    So only the first RANK_LIMIT name matches the scan yields (and, when the names leave room, the
    first RANK_LIMIT others) are ranked by it and come first, best first; the rest, newest first.
    """
    if similar:  # word_similarity reads the names only
        matches, rank = _postgresql_similar_parts(terms)
        named = None
    else:
        matches, named, rank = _postgresql_parts(terms)
        first = f"CASE WHEN row_number() OVER () <= {RANK_LIMIT} THEN {rank.sql} END"
        rank = RawSQL(first, rank.params, output_field=FloatField())  # noqa: S611
    keys, order_by = {"pk_": F("pk")}, []
    for number, field in enumerate(order):
        name, direction = field.removeprefix("-"), "DESC" if field.startswith("-") else "ASC"
        keys[f"key{number}_"] = rank if name == "keyword_rank" else F(name)
        order_by.append(f"key{number}_ {direction}{' NULLS LAST' if name == 'keyword_rank' else ''}")

    def select(condition: RawSQL) -> tuple[str, tuple]:
        return products.filter(condition).order_by().values(**keys).query.sql_with_params()

    sql, params = select(matches)
    named_sql, named_params = select(named) if named is not None else (None, ())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pk_ FROM ({_postgresql_candidates(sql, named_sql, '*')}) AS candidates "  # noqa: S608
            f"ORDER BY {', '.join(order_by)} LIMIT {limit}",
            (*named_params, *params),
        )
        return [row[0] for row in cursor.fetchall()]


# SQLite: FTS5 with the trigram tokenizer; shorter terms expand to the trigrams that contain them.


@functools.cache
def _sqlite_fts_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [schema.FTS_TABLE])
        return cursor.fetchone() is not None


def _sqlite_ready() -> bool:
    return _sqlite_fts_exists(str(connection.settings_dict["NAME"]))


def _sqlite_expand(term: str) -> list[str] | None:
    """Return the indexed trigrams containing a one- or two-character term (None: too many)."""
    patterns = [term + "?" * (3 - len(term))]
    patterns += ["?" + term + "?" * (2 - len(term)), "??" + term] if len(term) == 1 else ["?" + term]
    glob_escaped = [pattern.replace("[", "[[]").replace("*", "[*]") for pattern in patterns]
    where = " OR ".join(["term GLOB %s"] * len(patterns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term FROM {schema.FTS_VOCAB} WHERE {where} LIMIT {SQLITE_MAX_EXPANSION + 1}",  # noqa: S608
            glob_escaped,
        )
        found = [row[0] for row in cursor.fetchall()]
    return None if len(found) > SQLITE_MAX_EXPANSION else found


def _sqlite(products: QuerySet, terms: list[str]) -> QuerySet:
    """FTS5 finds the substrings; a latin term must also begin a word, as PostgreSQL's and MariaDB's
    prefix matches do ("tea" is not in "steady"), checked with Django's REGEXP on the indexed text."""
    parts, fallback = [], Q()
    for term in terms:
        if len(term) >= 3:
            parts.append(sqlite_phrase(term))
            continue
        expanded = _sqlite_expand(term)
        if expanded is None:
            fallback &= _icontains_word(term)
        elif not expanded:
            return products.none().annotate(keyword_rank=Value(0.0, output_field=FloatField()))
        else:
            parts.append("(" + " OR ".join(sqlite_phrase(trigram) for trigram in expanded) + ")")
    if not parts:
        return _unranked(products.filter(fallback))
    fts = schema.FTS_TABLE
    word_starts = [rf"(?i)(?<![a-z0-9]){re.escape(term)}" for term in terms if not is_cjk(term)]

    def matching(column_filter: str, text: str) -> QuerySet:
        # A join with the FTS table (ranked by bm25) is not expressible otherwise; the query is a parameter.
        return products.filter(fallback).extra(  # noqa: S610
            tables=[fts],
            where=[
                f'{fts}.rowid = "catalog_product"."id"',
                f"{fts} MATCH %s",
                *[f"{text} REGEXP %s"] * len(word_starts),
            ],
            params=[f"{column_filter}({' AND '.join(parts)})", *word_starts],
        )

    matches = matching("", f"({fts}.names || ' ' || {fts}.body)")
    named = matching("names : ", f"{fts}.names")
    return matches.filter(pk__in=_candidates(matches, named)).extra(select={"keyword_rank": f"-{fts}.rank"})  # noqa: S610


# MariaDB/MySQL: FULLTEXT (boolean mode) over the ASCII-encoded document of catalog.search.text.


def _mysql(products: QuerySet, terms: list[str]) -> QuerySet:
    # Boolean-mode relevance hardly ranks, so a product whose names hold every term comes first.
    table = "catalog_productsearchdocument"
    document = f"MATCH({table}.names, {table}.body) AGAINST (%s IN BOOLEAN MODE)"
    names = f"MATCH({table}.names) AGAINST (%s IN BOOLEAN MODE)"
    query = mysql_boolean_query(terms)
    join = f"{table}.product_id = `catalog_product`.`id`"
    # A join ranked by MATCH; the query is a parameter.
    matches = products.extra(tables=[table], where=[join, document], params=[query])  # noqa: S610
    named = products.extra(tables=[table], where=[join, names], params=[query])  # noqa: S610
    return matches.filter(pk__in=_candidates(matches, named)).extra(  # noqa: S610
        select={"keyword_rank": f"10 * {names} + {document}"}, select_params=[query, query]
    )

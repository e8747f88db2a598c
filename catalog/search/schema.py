# ruff: noqa: S608  (DDL built from constant table names; no user input reaches these strings)
"""The database-side parts of search, per vendor, created by migration 0002 and checked after every migrate.

- SQLite: an FTS5 table with the trigram tokenizer (`catalog_product_fts`), its vocabulary (for
  one- and two-character terms, which trigrams cannot match directly), filled by triggers.
- PostgreSQL: a `search_vector` tsvector column ('simple' configuration over latin words plus CJK
  characters and pairs) kept by a trigger, with a GIN index; a GIN index on the product names' own
  tsvector (name matches first); a pg_trgm GIN index on the names for typos; with pgvector, an
  `embedding vector` column on catalog_productembedding and an HNSW index.
- MariaDB/MySQL: a FULLTEXT index on catalog_productsearchdocument (written from Python, see
  catalog.search.sync), since MariaDB has no ngram parser.

Triggers and generated data keep every door in sync: services, the admin, the API, bulk inserts.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FTS_TABLE = "catalog_product_fts"
FTS_VOCAB = "catalog_product_fts_vocab"

_SQLITE_NAMES = """' ' || {p}.sku || ' ' || {p}.name || ' ' || {p}.name_en || ' ' || coalesce((
    SELECT c.name || ' ' || c.name_en || coalesce(' ' || pc.name || ' ' || pc.name_en, '')
    FROM catalog_category c LEFT JOIN catalog_category pc ON pc.id = c.parent_id WHERE c.id = {p}.category_id
), '') || ' '"""
_SQLITE_BODY = "' ' || {p}.description || ' ' || {p}.description_en || ' '"


def _sqlite_row(p: str) -> str:
    return f"{p}.id, {_SQLITE_NAMES.format(p=p)}, {_SQLITE_BODY.format(p=p)}"


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS catalog_product_fts_insert AFTER INSERT ON catalog_product BEGIN
        INSERT INTO {FTS_TABLE}(rowid, names, body) VALUES ({_sqlite_row("new")});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_product_fts_update
        AFTER UPDATE OF sku, name, name_en, description, description_en, category_id ON catalog_product BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
        INSERT INTO {FTS_TABLE}(rowid, names, body) VALUES ({_sqlite_row("new")});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_product_fts_delete AFTER DELETE ON catalog_product BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS catalog_category_fts_update
        AFTER UPDATE OF name, name_en, parent_id ON catalog_category BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid IN (
            SELECT id FROM catalog_product WHERE category_id = new.id
            OR category_id IN (SELECT id FROM catalog_category WHERE parent_id = new.id));
        INSERT INTO {FTS_TABLE}(rowid, names, body) SELECT {_sqlite_row("p")} FROM catalog_product p
            WHERE p.category_id = new.id
            OR p.category_id IN (SELECT id FROM catalog_category WHERE parent_id = new.id);
    END""",
]

# {schema}: the functions' own schema, since an index build runs them with a search_path of
# pg_catalog only (PostgreSQL 17+); see create_postgresql_functions.
POSTGRES_FUNCTIONS = [
    # CJK characters and neighbouring pairs, as catalog.search.text.document_grams does in Python.
    r"""CREATE OR REPLACE FUNCTION catalog_cjk_grams(t text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(string_agg(g, ' '), '') FROM (
            SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
            WHERE substr(t, i, 1) ~ '[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]'
            UNION ALL
            SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
            WHERE substr(t, i, 2) ~ '^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2}$'
        ) AS grams
    $$""",
    r"""CREATE OR REPLACE FUNCTION catalog_search_text(t text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT regexp_replace(n, '[^a-z0-9]+', ' ', 'g') || ' ' || {schema}.catalog_cjk_grams(n)
        FROM (SELECT lower(normalize(coalesce(t, ''), NFKC)) AS n) AS normalized
    $$""",
    """CREATE OR REPLACE FUNCTION catalog_product_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        shelf text;
    BEGIN
        SELECT concat_ws(' ', c.name, c.name_en, pc.name, pc.name_en) INTO shelf
        FROM catalog_category c LEFT JOIN catalog_category pc ON pc.id = c.parent_id WHERE c.id = NEW.category_id;
        NEW.search_vector := setweight(to_tsvector('simple',
                catalog_search_text(concat_ws(' ', NEW.sku, NEW.name, NEW.name_en, shelf))), 'A')
            || setweight(to_tsvector('simple',
                catalog_search_text(concat_ws(' ', NEW.description, NEW.description_en))), 'C');
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION catalog_category_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.name IS DISTINCT FROM OLD.name OR NEW.name_en IS DISTINCT FROM OLD.name_en
           OR NEW.parent_id IS DISTINCT FROM OLD.parent_id THEN
            UPDATE catalog_product SET category_id = category_id WHERE category_id = NEW.id
                OR category_id IN (SELECT id FROM catalog_category WHERE parent_id = NEW.id);
        END IF;
        RETURN NULL;
    END $$""",
]

POSTGRES_TRIGGERS = [
    "DROP TRIGGER IF EXISTS catalog_product_search_vector ON catalog_product",
    """CREATE TRIGGER catalog_product_search_vector
        BEFORE INSERT OR UPDATE OF sku, name, name_en, description, description_en, category_id ON catalog_product
        FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector()""",
    "DROP TRIGGER IF EXISTS catalog_category_search_vector ON catalog_category",
    """CREATE TRIGGER catalog_category_search_vector AFTER UPDATE ON catalog_category
        FOR EACH ROW EXECUTE FUNCTION catalog_category_search_vector()""",
]

# The product's names as PostgreSQL indexes them (catalog_product_names_search); queries must spell
# the expression the same way to use the index.
POSTGRES_NAMES_VECTOR = (
    """to_tsvector('simple', catalog_search_text("catalog_product"."name" || ' ' || "catalog_product"."name_en"))"""
)

PGVECTOR_MISSING = (
    "PostgreSQL has no pgvector extension (`vector` is not in pg_available_extensions). Production "
    "PostgreSQL needs it for semantic search: install it (e.g. the postgresql-NN-pgvector package) and "
    "migrate again, or set PGVECTOR=off to keep the vectors in the numpy store instead."
)


def install(connection) -> None:
    """Create this database's search structures (idempotent); called by migration 0002."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            _install_sqlite(cursor)
        elif vendor == "postgresql":
            _install_postgresql(cursor)
            if settings.PGVECTOR:
                install_pgvector(cursor)
        elif vendor == "mysql":
            # MyISAM: its FULLTEXT index sees a row at once (InnoDB's only after COMMIT) and, unlike
            # Aria, it does not break the savepoints of the transactions around it.
            cursor.execute("ALTER TABLE catalog_productsearchdocument ENGINE=MyISAM")
            cursor.execute(
                "CREATE FULLTEXT INDEX catalog_productsearchdocument_ft ON catalog_productsearchdocument (names, body)"
            )
            cursor.execute(
                "CREATE FULLTEXT INDEX catalog_productsearchdocument_names_ft ON catalog_productsearchdocument (names)"
            )


def uninstall(connection) -> None:
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            for name in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS catalog_product_fts_{name}")
            cursor.execute("DROP TRIGGER IF EXISTS catalog_category_fts_update")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_VOCAB}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS catalog_product_search_vector ON catalog_product")
            cursor.execute("DROP TRIGGER IF EXISTS catalog_category_search_vector ON catalog_category")
            cursor.execute("DROP INDEX IF EXISTS catalog_product_names_trgm")
            cursor.execute("DROP INDEX IF EXISTS catalog_product_names_search")
            cursor.execute("ALTER TABLE catalog_product DROP COLUMN IF EXISTS search_vector")
            for function in ("catalog_product_search_vector()", "catalog_category_search_vector()"):
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}")
            cursor.execute("DROP FUNCTION IF EXISTS catalog_search_text(text)")
            cursor.execute("DROP FUNCTION IF EXISTS catalog_cjk_grams(text)")


def _install_sqlite(cursor) -> None:
    cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(names, body, tokenize='trigram')")
    cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_VOCAB} USING fts5vocab({FTS_TABLE}, 'row')")
    # bm25 weights: a match in the names (and category names) counts ten times one in the descriptions.
    cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('rank', 'bm25(10.0, 1.0)')")
    for trigger in SQLITE_TRIGGERS:
        cursor.execute(trigger)
    cursor.execute(f"DELETE FROM {FTS_TABLE}")
    cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, names, body) SELECT {_sqlite_row('p')} FROM catalog_product p")


def ensure_sqlite(connection) -> None:
    """Put back what a table rebuild dropped: SQLite's ALTER TABLE emulation recreates catalog_product
    without our triggers, so after every migrate the triggers are recreated and the index refilled
    when it no longer matches the products."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'catalog_%_fts_%'")
        triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        if cursor.fetchone() is None:
            return  # migration 0002 has not run (yet)
        if len(triggers) == len(SQLITE_TRIGGERS):
            return
        _install_sqlite(cursor)


def _install_postgresql(cursor) -> None:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    if cursor.fetchone() is None:
        raise ImproperlyConfigured("PostgreSQL has no pg_trgm extension: install postgresql-contrib.")
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    cursor.execute("ALTER TABLE catalog_product ADD COLUMN IF NOT EXISTS search_vector tsvector")
    create_postgresql_functions(cursor)
    for statement in POSTGRES_TRIGGERS:
        cursor.execute(statement)
    cursor.execute("UPDATE catalog_product SET category_id = category_id")
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS catalog_product_search_vector ON catalog_product USING gin (search_vector)"
    )
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS catalog_product_names_trgm ON catalog_product "
        "USING gin ((name || ' ' || name_en) gin_trgm_ops)"
    )
    install_postgresql_names_index(cursor)


def create_postgresql_functions(cursor) -> None:
    """Create (or replace) the text functions in the current schema, naming it where one calls another."""
    cursor.execute("SELECT quote_ident(current_schema())")
    schema = cursor.fetchone()[0]
    for statement in POSTGRES_FUNCTIONS:
        cursor.execute(statement.replace("{schema}", schema))


def install_postgresql_names_index(cursor) -> None:
    """The product's own names (name, name_en) as a tsvector, for the name matches a keyword query
    takes first (catalog.search.keyword): `search_vector @@ 'tea:*A'` must read every matching
    row's tsvector to check the weight (~200 ms for a common word at 100k), this index does not."""
    cursor.execute(
        "CREATE INDEX IF NOT EXISTS catalog_product_names_search ON catalog_product "
        f"USING gin ({POSTGRES_NAMES_VECTOR})"
    )


def install_pgvector(cursor) -> None:
    """Create the vector extension and the embedding column, or explain clearly why not."""
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if cursor.fetchone() is None:
        raise ImproperlyConfigured(PGVECTOR_MISSING)
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    if cursor.fetchone() is None:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as error:
            raise ImproperlyConfigured(
                f"Could not create the pgvector extension ({error}). Ask a superuser to run "
                "`CREATE EXTENSION vector;` in this database, or set PGVECTOR=off."
            ) from error
    if not _has_embedding_column(cursor):
        cursor.execute("ALTER TABLE catalog_productembedding ADD COLUMN embedding vector")


def _has_embedding_column(cursor) -> bool:
    cursor.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'catalog_productembedding' "
        "AND column_name = 'embedding' AND table_schema = current_schema()"
    )
    return cursor.fetchone() is not None


def pgvector_ready(connection) -> bool:
    """Return whether catalog_productembedding has its pgvector column."""
    with connection.cursor() as cursor:
        return _has_embedding_column(cursor)


# HNSW build parameters. pgvector's defaults (m=16, ef_construction=64) found 0.73 of the exact 10
# nearest at ef_search=100 on the 100k benchmark, these 0.86 at a similar query time, for twice the
# build time (~4 minutes for 100k x 384 on a loaded 2-core machine). See bench/search.py (B6).
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128


def hnsw_index_name(dims: int) -> str:
    return f"catalog_productembedding_hnsw_{dims}"


def _hnsw_options() -> list[str]:
    return [f"m={HNSW_M}", f"ef_construction={HNSW_EF_CONSTRUCTION}"]


def _hnsw_indexes(cursor) -> dict[str, list[str]]:
    """Return our HNSW indexes, each with its build options."""
    cursor.execute(
        "SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE i.indrelid = 'catalog_productembedding'::regclass AND c.relname LIKE 'catalog_productembedding_hnsw_%'"
    )
    return {name: sorted(options) for name, options in cursor.fetchall()}


def ensure_hnsw_index(connection, dims: int) -> None:
    """Create the HNSW (cosine) index for vectors of `dims` dimensions with the current build
    parameters, dropping any other size's or one built with other parameters."""
    with connection.cursor() as cursor:
        existing = _hnsw_indexes(cursor)
        if existing == {hnsw_index_name(dims): sorted(_hnsw_options())}:
            return
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no DDL while deferred checks are pending
        for name in existing:
            cursor.execute(f'DROP INDEX "{name}"')
        # Partial: rows of another size (a rebuild's deleted rows that an older snapshot may still
        # see) are never cast, and queries say `dims = N` to use it.
        cursor.execute(
            f"CREATE INDEX {hnsw_index_name(int(dims))} ON catalog_productembedding "
            f"USING hnsw ((embedding::vector({int(dims)})) vector_cosine_ops) WITH ({', '.join(_hnsw_options())}) "
            f"WHERE dims = {int(dims)}"
        )


def drop_hnsw_indexes(connection) -> None:
    with connection.cursor() as cursor:
        existing = _hnsw_indexes(cursor)
        if existing:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name in existing:
            cursor.execute(f'DROP INDEX "{name}"')

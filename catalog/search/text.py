"""How product text and queries are cut into search terms, the same way on every database.

Latin text is lower-cased (after NFKC, so full-width letters count) and split into runs of
`[a-z0-9]`; everything else is a separator. Chinese (and Japanese/Korean) text has no spaces, so a
run of CJK characters is indexed as its single characters and its character pairs (bigrams): a
query of one character matches the character, a longer one matches all of its pairs. PostgreSQL
does the same in SQL (`mcp_search_text`, see catalog.search.schema), MariaDB stores the output of
`mysql_tokens`, SQLite's FTS5 trigram tokenizer works on the raw text.
"""

import hashlib
import re
import unicodedata

CJK_CLASS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_RUNS = re.compile(f"[a-z0-9]+|[{CJK_CLASS}]+")
_CJK = re.compile(f"[{CJK_CLASS}]")
MAX_QUERY_TERMS = 8


def normalize(text: str) -> str:
    """Return text in NFKC, lower case, without NUL or other control characters."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch if ch.isprintable() else " " for ch in text)


def is_cjk(run: str) -> bool:
    return bool(_CJK.match(run))


def query_terms(query: str) -> list[str]:
    """Return the query's terms in order, without repeats: latin words and CJK runs."""
    terms: list[str] = []
    for run in _RUNS.findall(normalize(query)):
        if run not in terms:
            terms.append(run)
    return terms[:MAX_QUERY_TERMS]


_BARE_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def meaning_text(query: str) -> str:
    """Return the query as search by meaning reads it: without bare numbers ("瑜伽垫 19" is 瑜伽垫). The
    local model reads a number as much as a word ("瑜伽垫 19" stood half as far above the rest of the
    catalog as "瑜伽垫"); the keyword search still has it."""
    text = " ".join(_BARE_NUMBER.sub(" ", query).split())
    return text or query


def cjk_grams(run: str) -> list[str]:
    """Return what must match for a CJK run: the character itself, or each pair of neighbours."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_grams(text: str) -> list[str]:
    """Return the indexed terms of a text: latin words, then CJK characters and pairs."""
    terms = []
    for run in _RUNS.findall(normalize(text)):
        if is_cjk(run):
            terms.extend(run)
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
    return terms


def _mysql_token(term: str) -> str:
    """Return a term as an ASCII token FULLTEXT indexes (>= ft_min_word_len, 4, and never a stopword).

    One-letter words are too short to matter and are left out by the server.
    """
    if term.isascii():
        return "qw" + term
    return "qc" + "".join(f"{ord(ch):x}" for ch in term)


def mysql_tokens(text: str) -> str:
    """Return the space-separated MariaDB/MySQL FULLTEXT document for a text."""
    return " ".join(_mysql_token(term) for term in document_grams(text))


def mysql_boolean_query(terms: list[str]) -> str:
    """Return a boolean-mode AGAINST() string that requires every term (latin words as prefixes)."""
    parts = []
    for term in terms:
        if is_cjk(term):
            parts.extend(f"+{_mysql_token(gram)}" for gram in cjk_grams(term))
        else:
            parts.append(f"+{_mysql_token(term)}*")
    return " ".join(parts)


def postgres_tsquery(terms: list[str]) -> str:
    """Return a tsquery (in its text form) that requires every term (latin words as prefixes)."""
    parts = []
    for term in terms:
        if is_cjk(term):
            parts.extend(f"'{gram}'" for gram in cjk_grams(term))
        else:
            parts.append(f"'{term}':*")
    return " & ".join(parts)


def sqlite_phrase(term: str) -> str:
    """Return a term as an FTS5 string (the trigram tokenizer matches it as a substring)."""
    return '"' + term.replace('"', '""') + '"'


def product_names(product) -> str:
    """Return the product's names and category names, the text whose matches count most."""
    category = product.category
    parts = [product.sku, product.name, product.name_en, category.name, category.name_en]
    if category.parent_id:
        parts += [category.parent.name, category.parent.name_en]
    return " ".join(part for part in parts if part)


def product_body(product) -> str:
    return " ".join(part for part in (product.description, product.description_en) if part)


def embedding_text(product) -> str:
    """Return what a product's embedding is made of: names, category and both descriptions."""
    category = product.category
    shelf = " / ".join(part for part in (category.name, category.name_en) if part)
    names = " / ".join(part for part in (product.name, product.name_en) if part)
    return f"{names}\n{shelf}\n{product_body(product)}".strip()


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

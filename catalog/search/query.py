"""What a query's words say before any ranking: which ones the catalog knows, and their typos fixed.

A query whose words the catalog never mentions ("printer", "iphone", "refrigerator") names something
the shop does not sell unless search by meaning is quite sure; a query in the catalog's own words
("to cut vegetables", "thermos" beside a thermometer) needs less (catalog.search.ranking). A word is
known when the keyword index finds it in some active product (names, category, descriptions; a
plural as its singular); an unknown word one edit away from a word of the product names is a typo
and is searched as that word.
"""

import math
import re
from dataclasses import dataclass

from django.db.models import QuerySet

from catalog.models import Product
from catalog.search import spelling
from catalog.search.keyword import keyword_ranking, words_found
from catalog.search.text import is_cjk, normalize, query_terms

# English words that say nothing about which product is meant.
STOPWORDS = frozenset({
    "a", "an", "and", "any", "are", "as", "at", "be", "by", "for", "from", "i", "in", "is", "it", "me", "my",
    "of", "on", "or", "some", "something", "that", "the", "this", "to", "under", "what", "when", "which",
    "with", "without",
})  # fmt: skip


@dataclass(frozen=True)
class Reading:
    words: str  # the query as searched by its words: typos replaced by the catalog's spelling
    unknown: float  # the share of its content words (latin) that no active product mentions, 0..1


def content_words(query: str) -> list[str]:
    return [term for term in query_terms(query) if not is_cjk(term) and not term.isdigit() and term not in STOPWORDS]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def read(query: str, *, matched: bool) -> Reading:
    """Read `query`; `matched`: the keyword search found products with all of its words already."""
    words = content_words(query)
    if matched or not words:
        return Reading(words=query, unknown=0.0)
    everything: QuerySet = Product.objects.filter(is_active=True)
    corrected, unknown = query, 0
    known = words_found(everything, [_singular(word) for word in words])
    vocabulary = spelling.vocabulary() if not all(known) else {}
    for word, found in zip(words, known, strict=True):
        if found:
            continue
        fixed = spelling.correct(word, vocabulary)
        if fixed is None:
            unknown += 1
        else:
            corrected = " ".join(fixed if term == word else term for term in corrected.split())
    return Reading(words=corrected, unknown=unknown / len(words))


# Chinese characters that carry no meaning of their own in a query ("的", "了"...).
CJK_FILLERS = frozenset("的了和与在用是我要有个一把给吗呢吧啊")


def coverage_terms(query: str) -> list[str]:
    """Return what a product's text should contain to cover the query: its content words (as
    singulars) and the characters of its Chinese runs."""
    terms = []
    for term in query_terms(query):
        if is_cjk(term):
            terms.extend(ch for ch in term if ch not in CJK_FILLERS and ch not in terms)
        elif not term.isdigit() and term not in STOPWORDS:
            terms.append(_singular(term))
    return terms


def product_texts(ids: list[int]) -> dict[int, tuple[str, str]]:
    """Return each product's names and its whole text (names, category names, descriptions),
    normalized, for `coverage` and `contradicted`: one query for both."""
    if not ids:
        return {}
    rows = Product.objects.filter(pk__in=ids).values_list(
        "pk", "name", "name_en", "description", "description_en", "category__name", "category__name_en",
        "category__parent__name", "category__parent__name_en",
    )  # fmt: skip
    texts = {}
    for pk, *parts in rows:
        names = " ".join(part for part in parts[:2] if part)
        texts[pk] = (normalize(names), normalize(" ".join(part for part in parts if part)))
    return texts


def coverage(terms: list[str], texts: dict[int, tuple[str, str]]) -> dict[int, float]:
    """Return how much of the query each product's text (names, category, descriptions; `texts` from
    product_texts) holds: a word at the start of a word, a Chinese character anywhere. Each term weighs
    by how few of these products hold it (what sets them apart: in "绿茶" among teas, 绿 rather than 茶)."""
    if not terms or not texts:
        return {}
    patterns = [re.compile(re.escape(term) if is_cjk(term) else rf"(?<![a-z0-9]){re.escape(term)}") for term in terms]
    holds = {pk: [bool(pattern.search(text)) for pattern in patterns] for pk, (_, text) in texts.items()}
    weights = [
        math.log((len(holds) + 1) / (sum(held[i] for held in holds.values()) + 1)) + 0.1 for i in range(len(terms))
    ]
    return {
        pk: sum(w for w, hit in zip(weights, held, strict=True) if hit) / sum(weights) for pk, held in holds.items()
    }


_LATIN_WORD = re.compile(r"[a-z]{3,}")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def in_query_language(query: str, pk: int) -> bool:
    """Whether the product's names and descriptions are (at least partly) in the query's language:
    Chinese characters for a query with Chinese in it, English words for another."""
    row = Product.objects.filter(pk=pk).values_list("name", "name_en", "description", "description_en").first()
    text = normalize(" ".join(part for part in row or () if part))
    if _CJK_CHAR.search(query):
        return len(_CJK_CHAR.findall(text)) >= 2
    return len(_LATIN_WORD.findall(text)) >= 3


# The most content words a query may have for the search for some of them: a short name of a thing
# ("tent camping", "fitness tracker"); in a longer one ("something to keep my coffee hot") a word in
# a product's name is often not the thing asked for (a coffee, not a flask), and meaning says more.
PARTIAL_WORDS = 2


def _whole_word(word: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9]){re.escape(word)}(?:e?s)?(?![a-z0-9])")


def partial_matches(products: QuerySet, query: str, *, limit: int) -> list[int] | None:
    """Return the keyword evidence for a query of several words no product holds all of ("tent
    camping": no product says "camping"): the products whose names or category names hold a query word
    (whole words: "water" is not "waterproof"), those holding the most words first, then those holding most in
    their names; each word searched alone (one query a word, plus one for the names). A word found
    only in descriptions ("ink" in a notebook's, for "printer ink") is not enough: a product named by
    none of the shopper's words is not what was asked for. None for a query of another length than
    2..PARTIAL_WORDS content words."""
    words = list(dict.fromkeys(_singular(word) for word in content_words(query)))
    if not 2 <= len(words) <= PARTIAL_WORDS:
        return None
    held: dict[int, list[str]] = {}
    order: dict[int, int] = {}
    for word in words:
        for rank, pk in enumerate(keyword_ranking(products, word, limit=limit)):
            held.setdefault(pk, []).append(word)
            order[pk] = min(order.get(pk, rank), rank)
    if not held:
        return []
    named: dict[int, int] = {}
    rows = Product.objects.filter(pk__in=list(held)).values_list(
        "pk", "name", "name_en", "category__name", "category__name_en", "category__parent__name",
        "category__parent__name_en",
    )  # fmt: skip
    for pk, *names in rows:
        text = normalize(" ".join(name for name in names if name))
        named[pk] = sum(1 for word in held[pk] if _whole_word(word).search(text))
    candidates = [pk for pk in held if named.get(pk)]
    if not candidates:
        return []
    most = max(len(held[pk]) for pk in candidates)
    candidates = [pk for pk in candidates if len(held[pk]) == most]
    return sorted(candidates, key=lambda pk: (-named[pk], order[pk], pk))[:limit]


# Attribute words a product's names can contradict: a shopper asking for green tea does not want a
# black one. Each value in both languages; Chinese colours only as a colour (红色) or a kind of tea
# (红茶, which is black tea: it counts as black too): 蓝 alone is also the 蓝 of 蓝牙 (Bluetooth).
_COLOURS = {
    "green": "绿", "black": "黑", "white": "白", "red": "红", "blue": "蓝", "yellow": "黄", "pink": "粉",
    "grey": "灰", "gray": "灰", "brown": "棕", "purple": "紫",
}  # fmt: skip


def _attributes(text: str) -> set[str]:
    text = normalize(text)
    found = {english for english in _COLOURS if re.search(rf"(?<![a-z]){english}(?![a-z])", text)}
    for english, chinese in _COLOURS.items():
        if f"{chinese}色" in text or f"{chinese}茶" in text:
            found.add(english)
    if "红茶" in text:
        found.add("black")
    return {"grey" if value == "gray" else value for value in found}


def gives_attributes(query: str) -> bool:
    return bool(_attributes(query))


def contradicted(query: str, texts: dict[int, tuple[str, str]]) -> set[int]:
    """Return those products of `texts` (product_texts) whose names give another value of an attribute
    the query gives ("green tea": a black tea) and not the query's."""
    wanted = _attributes(query)
    if not wanted:
        return set()
    return {pk for pk, (names, _) in texts.items() if (has := _attributes(names)) and not has & wanted}

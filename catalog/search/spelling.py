"""Typos in search queries, corrected with the catalog's own words ("keybaord" -> "keyboard").

The vocabulary is the latin words of the active products' names and of the category names, counted
(a product name is what shoppers try to spell). A query word the catalog does not have is replaced
by the vocabulary word one edit away (a letter added, dropped, changed, or two neighbours swapped),
the most frequent when several are; words shorter than four letters are left alone. Each process
reads the vocabulary once and again after VOCABULARY_MAX_AGE when the search index has moved on.
"""

import re
import threading
import time
from collections import Counter

from django.db import connection

from catalog.models import Category, Product, SearchIndex
from catalog.search.text import normalize

VOCABULARY_MAX_AGE = 300.0  # seconds
MIN_LENGTH = 4

_WORD = re.compile(r"[a-z]+")
_lock = threading.Lock()
_cache: dict[str, tuple[int, float, dict[str, Counter]]] = {}  # database -> (revision, read at, words by first letter)


def forget() -> None:
    with _lock:
        _cache.clear()


def vocabulary() -> dict[str, Counter]:
    """Return the vocabulary (see the module docstring), by first letter."""
    key = str(connection.settings_dict["NAME"])
    revision = SearchIndex.objects.filter(name="products").values_list("revision", flat=True).first() or 0
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached and (cached[0] == revision or now - cached[1] < VOCABULARY_MAX_AGE):
        return cached[2]
    words: Counter = Counter()
    names = Product.objects.filter(is_active=True).values_list("name", "name_en")
    for row in [*names.iterator(chunk_size=5000), *Category.objects.values_list("name", "name_en")]:
        words.update(_WORD.findall(normalize(" ".join(part for part in row if part))))
    by_letter: dict[str, Counter] = {}
    for word, count in words.items():
        if len(word) >= MIN_LENGTH - 1:
            by_letter.setdefault(word[0], Counter())[word] = count
    with _lock:
        _cache[key] = (revision, now, by_letter)
    return by_letter


def one_edit_apart(a: str, b: str) -> bool:
    """Whether b is a (one insertion, deletion, substitution or swap of neighbours) away from a."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def correct(word: str, words: dict[str, Counter] | None = None) -> str | None:
    """Return the catalog word one edit away from `word` (the most frequent), or None; `words` is
    the vocabulary() when the caller has it already."""
    if len(word) < MIN_LENGTH or not word.isalpha() or not word.isascii():
        return None
    candidates = (words if words is not None else vocabulary()).get(word[0], Counter())
    if word in candidates:
        return None
    near = [(count, other) for other, count in candidates.items() if one_edit_apart(word, other)]
    return max(near)[1] if near else None

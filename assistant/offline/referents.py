"""Referents: which product the shopper means by "the second one", "it", "those", "the tea" or "龙井".

An answer is one product, several to ask about, or nothing; a guess is never an answer. Names match
by their words (English words all present, Chinese characters mostly present, category and SKU
count too); when no name matches, meaning decides among a few candidates only if one is clearly
closer than the rest.
"""

import logging
import re
from dataclasses import dataclass, field
from difflib import get_close_matches

import numpy as np

from assistant.offline.rules import CJK, singular
from assistant.offline.state import DialogueState
from assistant.offline.understanding import Utterance
from catalog.search.embeddings import EmbeddingsUnavailable, embed_query

logger = logging.getLogger(__name__)

GENERIC = {"it", "that", "this", "one", "thing", "product", "item", "东西", "商品", "那个", "这个"}
# How much closer in meaning the best candidate must be than the next one to be taken without asking.
MEANING_MARGIN = 0.02
ALL_OF_THEM = r"\b(?:both|all|all of them|every one|each)\b|都|全部|这两个|那两个|两个都|这几个|所有"


@dataclass
class Referent:
    item: dict | None = None
    choices: list[dict] = field(default_factory=list)  # ask which of these
    search: str = ""  # not in memory: look these words up
    missing: str = ""  # "nothing_shown", "not_in_list": nothing to point at
    every: list[dict] = field(default_factory=list)  # "both of them": all of these


def _hay(item: dict) -> str:
    return " ".join(str(item.get(key) or "") for key in ("name", "name_en", "sku", "category")).lower()


def lexical_score(words: str, item: dict) -> float:
    """Return how well the words name the item: > 0 when every word is found, 0 otherwise."""
    words = words.lower().strip()
    english = [singular(word) for word in re.findall(r"[a-z0-9][a-z0-9\-']*", words) if len(word) > 1]
    cjk = "".join(CJK.findall(words))
    hay = _hay(item)
    hay_words = {singular(word) for word in re.findall(r"[a-z0-9][a-z0-9\-']*", hay)}
    if not english and not cjk:
        return 0.0
    name_words = {singular(word) for word in re.findall(r"[a-z0-9][a-z0-9\-']*", _hay({**item, "category": ""}))}
    found = 0.0
    for word in english:
        if word in name_words:
            found += 1.0  # a word of the name
        elif word in hay_words or (len(word) > 3 and word in hay):
            found += 0.5  # of the category or SKU, or part of a word ("drip" in "dripper")
        elif len(word) > 3 and get_close_matches(word, name_words, n=1, cutoff=0.8):
            found += 0.5  # a typo ("matt", "runing")
        else:
            return 0.0
    shared = 1.0
    if cjk:
        pairs = [cjk[i : i + 2] for i in range(len(cjk) - 1)] or [cjk]
        shared = 1.0 if cjk in hay else sum(pair in hay for pair in pairs) / len(pairs)
        if shared < 0.6:
            return 0.0
    return found + 3 * shared


def by_name(words: str, items: list[dict]) -> list[dict]:
    """Return the items the words name, best first; the best alone when it is clearly the best."""
    if not words or words in GENERIC:
        return []
    scored = sorted(((lexical_score(words, item), item) for item in items), key=lambda pair: -pair[0])
    fitting = [(score, item) for score, item in scored if score > 0]
    if len(fitting) > 1 and fitting[0][0] > fitting[1][0] + 0.5:
        return [fitting[0][1]]
    return [item for _, item in fitting]


def best_named(words: str, items: list[dict]) -> dict | None:
    """Return the one item whose name has the most of the words (at least half), if no other ties it."""
    english = [singular(word) for word in re.findall(r"[a-z0-9][a-z0-9\-']*", words.lower()) if len(word) > 1]
    if len(english) < 2:
        return None
    shares = [(sum(lexical_score(word, item) > 0 for word in english) / len(english), item) for item in items]
    shares.sort(key=lambda pair: -pair[0])
    if shares and shares[0][0] >= 0.5 and (len(shares) == 1 or shares[0][0] > shares[1][0]):
        return shares[0][1]
    return None


def by_meaning(words: str, items: list[dict]) -> dict | None:
    """Return the item clearly closest in meaning to the words, or None (unsure, or no model)."""
    if not words or len(items) < 2:
        return None
    try:
        query = embed_query(words)
        names = np.stack([embed_query(f"{item.get('name_en') or ''} {item.get('name') or ''}") for item in items])
    except EmbeddingsUnavailable:
        return None
    except Exception:
        logger.exception("matching by meaning failed")
        return None
    scores = names @ query
    order = np.argsort(-scores)
    if scores[order[0]] - scores[order[1]] >= MEANING_MARGIN:
        return items[int(order[0])]
    return None


def resolve(utterance: Utterance, memory: DialogueState, *, pool: list[dict] | None = None) -> Referent:
    """Return what the utterance points at among `pool` (default: the list shown, and the focus)."""
    items = memory.shown if pool is None else pool
    if utterance.extreme and items and not utterance.words:
        priced = [item for item in items if item.get("price_cents") is not None]
        if priced:
            choose = min if utterance.extreme == "cheapest" else max
            return Referent(item=choose(priced, key=lambda item: item["price_cents"]))
    if utterance.ordinal is not None:
        picked = memory.pick(utterance.ordinal)
        if picked is None:
            return Referent(missing="not_in_list" if memory.shown else "nothing_shown")
        if pool is None:
            return Referent(item=picked)
        found = [item for item in pool if item["sku"] == picked["sku"]]
        return Referent(item=found[0]) if found else Referent(missing="no_such_item", item=picked)
    words = utterance.words
    if words and words not in GENERIC:
        named = by_name(words, items)
        if not named and memory.focus and pool is None:
            named = by_name(words, [memory.focus])
        if len(named) == 1:
            return Referent(item=named[0])
        if len(named) > 1:
            return Referent(choices=named)
        return Referent(search=words)
    if utterance.refers == "many" and re.search(ALL_OF_THEM, utterance.text.lower()) and 1 < len(items) <= 3:
        return Referent(every=list(items))
    if utterance.refers and memory.focus:  # one product in focus: "it", and "two of them" too
        focused = [item for item in items if item["sku"] == memory.focus["sku"]] if pool is not None else [memory.focus]
        if focused:
            return Referent(item=focused[0])
    if len(items) == 1:
        return Referent(item=items[0])
    if not utterance.refers and memory.focus and pool is None:
        return Referent(item=memory.focus)
    if items:
        return Referent(choices=list(items))
    return Referent(missing="nothing_shown")

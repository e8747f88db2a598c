"""Planning: from the dialogue state, the utterance and this turn's tool results so far, the next tool
call or the reply.

A `Planner` is made afresh for every step of a turn from the same inputs plus the results so far,
so it is a pure function of them; what the turn leaves for the next one (`pending`, `shown`) is
collected on the planner and saved by the brain with the reply.
"""

from dataclasses import dataclass

from assistant.offline import phrases
from assistant.offline.phrases import say
from assistant.offline.referents import Referent, best_named, by_name, resolve
from assistant.offline.state import DialogueState
from assistant.offline.understanding import Utterance
from mcpshop_site.money import money

Decision = tuple[str, dict] | str


@dataclass
class Step:
    name: str
    arguments: dict
    result: dict

    @property
    def error(self) -> dict | None:
        return self.result.get("error") if isinstance(self.result, dict) else None


class Planner:
    """Decide, for one utterance, the next tool call or the reply."""

    def __init__(self, utterance: Utterance, steps: list[Step], memory: DialogueState, lang: str):
        self.u, self.steps, self.memory, self.lang = utterance, steps, memory, lang
        self.pending: dict | None = None  # the question this reply asks, for the next turn
        self.shows: list[dict] | None = None  # a list this reply numbers (choices), for "the first one"
        self.shows_kind = "products"

    def next(self) -> Decision:
        handler = getattr(self, f"plan_{self.u.intent}", None)
        if handler is None:
            key = {"confirm": "confirm_hint", "keep": "decline"}.get(self.u.intent, self.u.intent)
            return say(self.lang, key if key in phrases.PHRASES else "unknown", text=self._quoted())
        return handler()

    def say(self, key: str, **values) -> str:
        return say(self.lang, key, **values)

    def _quoted(self) -> str:
        text = " ".join(self.u.text.split())
        return text if len(text) <= 40 else text[:39] + "…"

    def _done(self, name: str) -> list[Step]:
        return [step for step in self.steps if step.name == name]

    def _failed(self) -> str | None:
        if self.steps and self.steps[-1].error:
            return phrases.error_text(self.lang, self.steps[-1].error)
        return None

    def ask_which(self, choices: list[dict], *, action: str, **waiting) -> str:
        """Number the choices and ask which one; the answer ("the second one") completes `action`."""
        self.shows = choices
        self.pending = {"kind": "product", "action": action, **waiting}
        lines = [self.say("which")]
        for position, row in enumerate(choices, 1):
            name = phrases.product_name(self.lang, row)
            price = f" {money(row['price_cents'])}" if "price_cents" in row else ""
            lines.append(f"{position}. {name}{price}")
        return "\n".join(lines)

    def _unresolved(self, referent: Referent, *, action: str, **waiting) -> str:
        if referent.choices:
            return self.ask_which(referent.choices, action=action, **waiting)
        if referent.missing == "not_in_list":
            return self.say("not_in_list", number=(self.u.ordinal or 0) + 1)
        if referent.missing == "no_such_item":
            name = phrases.product_name(self.lang, referent.item) if referent.item else self.u.words
            return self.say("no_such_item", name=name)
        return self.say("which_unknown")

    # Searching and showing ------------------------------------------------------------------------

    def plan_search(self) -> Decision:
        u = self.u
        if not u.words and self.memory.search and (u.max_price is not None or u.min_price is not None or u.cheaper):
            return self.plan_refine()
        if not u.words and u.max_price is None and u.min_price is None:
            return self.say("unknown", text=self._quoted()) if u.guessed else self.plan_categories()
        arguments = {"query": u.words, "limit": 5}
        for key in ("min_price", "max_price"):
            if getattr(u, key) is not None:
                arguments[key] = getattr(u, key)
        if u.sort != "relevance":
            arguments["sort"] = u.sort
        if u.in_stock:
            arguments["in_stock"] = True
        return self._search(arguments)

    def _search(self, arguments: dict) -> Decision:
        searches = self._done("search_products")
        if not searches:
            return "search_products", arguments
        if searches[-1].error:
            return phrases.error_text(self.lang, searches[-1].error)
        if searches[-1].result.get("products"):
            return self._list(searches[-1].result)
        shorter = head_noun(arguments.get("query", ""))
        if len(searches) == 1 and shorter and shorter != arguments.get("query"):
            return "search_products", {**arguments, "query": shorter}
        return self._nothing_matches(arguments.get("query") or self._quoted())

    def _nothing_matches(self, query: str) -> Decision:
        listed = self._done("list_categories")
        if not listed:
            return "list_categories", {}
        names = [phrases.product_name(self.lang, row) for row in listed[-1].result.get("categories", [])]
        return " ".join(
            [self.say("no_match", query=query), self.say("we_have", categories=phrases.listing(self.lang, names))]
        )

    def _list(self, result: dict) -> str:
        lines = [self.say("results")]
        lines += [phrases.product_line(self.lang, n, row) for n, row in enumerate(result["products"], 1)]
        if result.get("more_available"):
            lines.append(self.say("more"))
        lines.append(self.say("pick_hint"))
        return "\n".join(lines)

    def plan_refine(self) -> Decision:
        u, base = self.u, dict(self.memory.search or {})
        if not base:
            u.intent = "search"
            return self.plan_search() if u.words or u.max_price or u.min_price else self.say("which_unknown")
        arguments = {**base, "limit": 10 if u.more else 5}
        if u.words and u.words not in base.get("query", ""):
            arguments["query"] = u.words
        if u.cheaper:
            reference = self.memory.focus or (self.memory.shown[0] if self.memory.shown else None)
            if reference and reference.get("price_cents"):
                arguments["max_price"] = reference["price_cents"] - 1
            arguments["sort"] = "price_asc"
        for key in ("min_price", "max_price"):
            if getattr(u, key) is not None:
                arguments[key] = getattr(u, key)
        return self._search(arguments)

    def plan_details(self) -> Decision:
        shown = self._done("get_product")
        if shown:
            if shown[-1].error:
                return phrases.error_text(self.lang, shown[-1].error)
            row = shown[-1].result["product"]
            english = not self.lang.startswith("zh") and row.get("description_en")
            text = row["description_en"] if english else row["description"]
            name, price = phrases.product_name(self.lang, row), money(row["price_cents"])
            return f"{name} ({row['sku']}): {price}, {phrases.stock(self.lang, row['stock'])}.\n{text}"
        referent = resolve(self.u, self.memory)
        if referent.search:
            searches = self._done("search_products")
            if not searches:
                return "search_products", {"query": referent.search, "limit": 5}
            products = searches[-1].result.get("products") or []
            if not products:
                return self._nothing_matches(referent.search)
            referent = pick_from_search(referent.search, products)
        if referent.item is not None:
            return "get_product", {"sku": referent.item["sku"]}
        return self._unresolved(referent, action="details")

    def plan_categories(self) -> Decision:
        listed = self._done("list_categories")
        if not listed:
            return "list_categories", {}
        rows = listed[-1].result.get("categories", [])
        names = [f"{phrases.product_name(self.lang, row)} ({row['product_count']})" for row in rows]
        return self.say("categories") + " " + phrases.listing(self.lang, names)


def head_noun(query: str) -> str:
    """Return a shorter query to try when the full one found nothing: the head noun."""
    words = query.split()
    if len(words) > 1:  # English puts the noun last ("red running shoe"); of Chinese words, take the longest
        return max(words, key=len) if any("\u4e00" <= char <= "\u9fff" for char in query) else words[-1]
    if any("\u4e00" <= char <= "\u9fff" for char in query) and len(query) > 2:
        return query[-2:]
    return ""


def pick_from_search(words: str, products: list[dict]) -> Referent:
    """Return the product a search for a named product found: the one its name fits; else ask which.

    A lone result that the words do not name is asked about too: search by meaning finds something
    for almost anything, and adding a product the shopper did not mean is the worst mistake.
    """
    named = by_name(words, products)
    if len(named) == 1:
        return Referent(item=named[0])
    best = None if named else best_named(words, products)  # "coloured pencil set": most of its words
    return Referent(item=best) if best is not None else Referent(choices=named or products)

"""Planning the writes: the cart (add, change, remove, clear), checkout with delivery details, orders
and cancelling; and `follow_up`, which reads a short answer ("the second one", "13800000000") as the
answer to the question the engine asked last turn.
"""

import re

from assistant.offline import phrases, rules
from assistant.offline.checkout import CheckoutPlanner
from assistant.offline.planning import Decision, head_noun, pick_from_search
from assistant.offline.referents import Referent, by_meaning, by_name, resolve
from assistant.offline.state import DialogueState
from assistant.offline.understanding import SHIP_CHEAP, SHIP_FAST, Utterance, product_words, shipping_words
from mcpshop_site.money import money

OPEN = ("unknown", "details", "search", "refine")  # intents a short answer is read as, when nothing better fits


DONT_WANT = r"不要|不想要|别要|\bdon'?t want\b"
MORE = r"^(?:and|also|plus|oh and|as well as)\b|\b(?:too|as well)$|^(?:再|还要|还有|以及|和|也|另外)"


def follow_up(u: Utterance, memory: DialogueState) -> None:
    """Read the utterance as the answer to the pending question, or as more of the last cart action,
    when it is one (in place)."""
    pending = memory.pending or {}
    kind = pending.get("kind")
    if not kind and u.intent == "decline" and memory.action == "add" and memory.focus and re.search(DONT_WANT, u.text):
        u.intent, u.refers = "remove", "one"  # "加一个冲锋衣" ... "不要了": the one just added
        return
    if not kind and memory.action and u.intent in OPEN and re.search(MORE, rules.normalize(u.text)):
        u.intent = memory.action  # "add a kettle" ... "and two V60 drippers"
        amount, rest = rules.quantity(rules.reference(rules.ordinal(rules.normalize(u.text))[1])[1])
        u.quantity = u.quantity or amount
        u.words = product_words(re.sub(MORE, " ", rest))
        return
    if kind == "contact" and (u.intent in ("contact", "checkout") or u.intent in OPEN):
        given = rules.contact(u.text)
        missing = pending.get("missing") or []
        answer = u.text.strip(" .。")
        if not given and len(missing) == 1 and (u.intent == "unknown" or u.guessed) and _plausible(missing[0], answer):
            given = {missing[0]: answer}  # "Ann Buyer" answers "the recipient's name?"
        if given or u.intent == "checkout":
            u.intent, u.contact = "checkout", {**pending.get("contact", {}), **given}
    elif kind == "product" and u.intent == "set_quantity" and u.ordinal is None and not u.words and u.quantity:
        u.intent = pending["action"]  # "which one?" ... "actually just one": the question stands, the amount changes
    elif kind == "product" and u.intent == "confirm" and len(memory.shown) == 1:
        u.intent, u.ordinal = pending["action"], 0  # "yes" to "which one? 1. ..."
        u.quantity = pending.get("quantity")
    elif kind == "product" and u.intent in (*OPEN, pending.get("action")):
        bare = re.fullmatch(rf"\s*(?:no\.?|#)?\s*({rules.CN_NUMBER})\s*(?:号|个)?\s*[.。!！]?\s*", u.text.lower())
        if bare and u.ordinal is None and rules.cn_number(bare.group(1)):  # "2" answers "which one?"
            u.ordinal, u.words = rules.cn_number(bare.group(1)) - 1, ""
        named = by_name(u.words, memory.shown) if u.words else []
        if u.ordinal is not None or named or u.extreme or (u.refers and not u.words):
            u.intent = pending["action"]
            u.quantity = u.quantity or pending.get("quantity")
    elif kind == "order" and u.intent in (*OPEN, "cancel_order"):
        ids, numbers = pending.get("ids") or [], pending.get("numbers") or []
        given = re.search(r"\d+", u.text)
        named = [number for number in numbers if number.casefold() in u.text.casefold()]
        chosen = None
        if named:  # the number the list showed
            chosen = ids[numbers.index(named[0])]
        elif u.ordinal is not None and ids:
            chosen = ids[u.ordinal] if -len(ids) <= u.ordinal < len(ids) else None
        elif given and 1 <= int(given.group()) <= len(ids):
            chosen = ids[int(given.group()) - 1]
        if chosen is not None:
            u.intent, u.order_id = "cancel_order", chosen
    elif kind == "shipping" and u.intent in (*OPEN, "add", "details", "choose_shipping"):
        t = rules.normalize(u.text)
        if u.ordinal is not None or u.extreme or re.search(SHIP_FAST + "|" + SHIP_CHEAP, t):
            u.intent, u.shipping = "choose_shipping", shipping_words(t)  # "the fastest one" of the options listed
    elif kind == "quantity" and u.intent in (*OPEN, "set_quantity", "add"):
        amount, _ = rules.quantity(rules.normalize(u.text))
        if amount is not None:
            u.intent, u.quantity, u.words, u.refers, u.ordinal = "set_quantity", amount, "", "one", None
            memory.focus = pending.get("item")


def _plausible(field: str, answer: str) -> bool:
    """Return whether a bare answer can be the one delivery detail asked for."""
    if re.search(r"[?？]", answer):
        return False
    if field == "name":
        return rules.names_like(answer) or bool(re.fullmatch(r"[A-Za-z][A-Za-z .'\-]{1,40}", answer))
    if field == "address":
        return rules.looks_like_address(answer) or len(answer) >= 8
    return False  # a phone number is read by the rules


class ShopPlanner(CheckoutPlanner):
    """The planner of every intent: browsing (Planner), the checkout (CheckoutPlanner), the cart and orders."""

    # The cart ---------------------------------------------------------------------------------------

    def _to_add(self) -> list[dict] | Decision:
        referent = resolve(self.u, self.memory)
        if referent.every:
            return referent.every
        if referent.item is not None:
            return [referent.item]
        if not referent.search:
            return self._unresolved(referent, action="add", quantity=self.u.quantity)
        searches = self._done("search_products")
        if not searches:
            return "search_products", {"query": referent.search, "limit": 5}
        products = searches[-1].result.get("products") or []
        if not products:
            shorter = head_noun(referent.search)
            if len(searches) == 1 and shorter:
                return "search_products", {"query": shorter, "limit": 5}
            return self._nothing_matches(referent.search)
        picked = pick_from_search(referent.search, products)
        if picked.item is not None:
            return [picked.item]
        return self.ask_which(picked.choices, action="add", quantity=self.u.quantity)

    def plan_add(self) -> Decision:
        failed = self._failed()
        if failed and not self._done("place_order"):
            return failed
        targets = self._to_add()
        if not isinstance(targets, list):
            return targets
        adds = self._done("add_to_cart")
        if len(adds) < len(targets):
            return "add_to_cart", {"sku": targets[len(adds)]["sku"], "quantity": self.u.quantity or 1}
        names = {row["sku"]: row for row in targets}
        lines = []
        for step in adds:
            row = step.result["added"]
            name = phrases.product_name(self.lang, {**row, **names.get(row["sku"], {})})
            lines.append(self.say("added", quantity=row["quantity_added"], name=name, in_cart=row["quantity_in_cart"]))
        if self.u.then == "checkout":  # "add 2 notebooks and check out"
            following = self.plan_checkout()
            if isinstance(following, tuple):
                return following
            lines.append(following)
        return "\n".join(lines)

    def _cart_targets(self, action: str, **waiting) -> list[dict] | Decision:
        viewed = self._done("view_cart")
        if not viewed:
            return "view_cart", {}
        lines = viewed[0].result.get("items") or []
        if not lines:
            return self.say("cart_empty")
        referent = resolve(self.u, self.memory, pool=lines)
        if referent.search:
            referent = self._search_in(referent.search, lines)
            if isinstance(referent, tuple):
                return referent
        if referent.every:
            return referent.every
        if referent.item is not None:
            return [referent.item]
        if referent.choices:
            self.shows_kind = "cart"
        return self._unresolved(referent, action=action, **waiting)

    def _search_in(self, words: str, lines: list[dict]) -> Referent | Decision:
        """Find the cart line that the words name in the shop's own search ("the tea": a tea in the cart)."""
        searches = self._done("search_products")
        if not searches:
            return "search_products", {"query": words, "limit": 10}
        found = {row["sku"] for row in searches[-1].result.get("products") or []}
        hits = [line for line in lines if line["sku"] in found]
        if len(hits) == 1:
            return Referent(item=hits[0])
        if len(hits) > 1:  # "the pillow": the pillow, not the bedding set whose text mentions pillows
            named = by_name(words, hits)
            closest = named[0] if len(named) == 1 else by_meaning(words, hits)
            return Referent(item=closest) if closest is not None else Referent(choices=hits)
        meant = by_meaning(words, lines)
        return Referent(item=meant) if meant is not None else Referent(missing="no_such_item")

    def plan_remove(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        targets = self._cart_targets("remove")
        if not isinstance(targets, list):
            return targets
        removed = self._done("remove_from_cart")
        if len(removed) < len(targets):
            return "remove_from_cart", {"sku": targets[len(removed)]["sku"]}
        return "\n".join(self.say("removed", name=phrases.product_name(self.lang, row)) for row in targets)

    def plan_set_quantity(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        targets = self._cart_targets("set_quantity", quantity=self.u.quantity)
        if not isinstance(targets, list):
            return targets
        target = targets[0]
        if self.u.quantity is None:
            self.pending = {"kind": "quantity", "item": target}
            return self.say("how_many")
        if self.u.quantity == 0:
            self.u.intent = "remove"
            return self.plan_remove()
        updated = self._done("update_cart_item")
        if not updated:
            return "update_cart_item", {"sku": target["sku"], "quantity": self.u.quantity}
        row = updated[-1].result.get("updated") or {}
        return self.say("updated", name=phrases.product_name(self.lang, target), quantity=row.get("quantity"))

    def plan_clear_cart(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        viewed = self._done("view_cart")
        if not viewed:
            return "view_cart", {}
        lines = viewed[0].result.get("items") or []
        removed = self._done("remove_from_cart")
        if len(removed) < len(lines):
            return "remove_from_cart", {"sku": lines[len(removed)]["sku"]}
        return self.say("cleared") if lines else self.say("cart_empty")

    def plan_view_cart(self) -> Decision:
        viewed = self._done("view_cart")
        if not viewed:
            return "view_cart", {}
        result = viewed[-1].result
        if not result.get("items"):
            return self.say("cart_empty")
        lines = [self.say("cart")]
        lines += [phrases.cart_line(self.lang, n, row) for n, row in enumerate(result["items"], 1)]
        lines.append(self.say("money", money=phrases.money_lines(self.lang, result)))
        return "\n".join(lines)

    # Checkout and orders ----------------------------------------------------------------------------

    def plan_orders(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        if self.u.order_id:
            got = self._done("get_order")
            if not got:
                return "get_order", {"order_id": self.u.order_id}
            return phrases.order_line(self.lang, got[-1].result["order"])
        listed = self._done("list_orders")
        if not listed:
            return "list_orders", {"limit": 5}
        orders = listed[-1].result.get("orders") or []
        if not orders:
            return self.say("no_orders")
        return "\n".join([self.say("orders"), *(phrases.order_line(self.lang, order) for order in orders)])

    def plan_cancel_order(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        prepared = self._done("cancel_order")
        if prepared:
            summary = prepared[-1].result["summary"]
            return self.say("confirm_cancel", number=summary["number"], total=money(summary["total_cents"]))
        if self.u.order_id:
            return "cancel_order", {"order_id": self.u.order_id}
        listed = self._done("list_orders")
        if not listed:
            return "list_orders", {"limit": 10}
        open_orders = [order for order in listed[-1].result.get("orders") or [] if order.get("can_cancel")]
        if not open_orders:
            return self.say("none_cancellable")
        ids = [order["id"] for order in open_orders]
        if len(open_orders) == 1:
            return "cancel_order", {"order_id": ids[0]}
        if self.memory.order in ids and self.u.refers:
            return "cancel_order", {"order_id": self.memory.order}
        self.pending = {"kind": "order", "ids": ids, "numbers": [order["number"] for order in open_orders]}
        return "\n".join([self.say("which_order"), *(phrases.order_line(self.lang, order) for order in open_orders)])

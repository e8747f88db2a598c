"""Planning the checkout: discount codes, shipping options, the saved address, the summary to confirm and
the payment deadline.

What the shopper settles around a summary (a code, a shipping option) prepares a fresh summary: the one
shown before no longer matches what would be bought, and only the latest can be confirmed.
"""

import re

from assistant.offline import phrases
from assistant.offline.planning import Decision, Planner
from assistant.offline.referents import by_meaning, by_name
from assistant.offline.understanding import SHIP_CHEAP, SHIP_FAST

# Intents that keep the summary last prepared open to being prepared again with their change.
AROUND_A_SUMMARY = ("apply_code", "remove_code", "choose_shipping", "shipping", "checkout", "contact", "pay_by")


def pick_shipping(words: str, options: list[dict]) -> dict | None:
    """Return the option the shopper names: by its name, by meaning, or as the fastest or cheapest."""
    fastest = min(options, key=lambda option: (option["estimated_days"], option["price_cents"]))
    cheapest = min(options, key=lambda option: (option["price_cents"], option["estimated_days"]))
    if words in ("fastest", "cheapest"):
        return fastest if words == "fastest" else cheapest
    named = by_name(words, options)
    if len(named) == 1:
        return named[0]
    meant = by_meaning(words, named or options)
    if meant is not None:
        return meant
    if re.search(SHIP_FAST, words):
        return fastest
    if re.search(SHIP_CHEAP, words):
        return cheapest
    return None


class CheckoutPlanner(Planner):
    """The checkout's intents, and the summary the shopper confirms."""

    shipping_choice: int | None = None  # the option chosen this turn, remembered for the checkout

    def prepared(self) -> bool:
        """Return whether this turn prepared a summary to confirm."""
        return any(not step.error for step in self._done("place_order"))

    def _summary_text(self, summary: dict) -> str:
        address = summary["address"]
        return self.say("confirm_order", money=phrases.money_lines(self.lang, summary), **address)

    def _prepare_again(self) -> Decision | None:
        """Prepare the summary shown last turn again, with this turn's change; None if there was none."""
        if self.memory.checkout is None:
            return None
        prepared = self._done("place_order")
        if not prepared:
            shipping = self.shipping_choice or self.memory.shipping
            return "place_order", {**self.memory.checkout, **({"shipping_option": shipping} if shipping else {})}
        if prepared[-1].error:
            return phrases.error_text(self.lang, prepared[-1].error)
        return self._summary_text(prepared[-1].result["summary"])

    def _after(self, text: str) -> Decision:
        """Say `text`, and with it a fresh summary if one was on the table."""
        again = self._prepare_again()
        if isinstance(again, tuple):
            return again
        return "\n".join(part for part in (text, again) if part)

    # Discount codes ---------------------------------------------------------------------------------

    def plan_apply_code(self) -> Decision:
        if not self.u.code:
            return self.say("which_code")
        applied = self._done("apply_discount_code")
        if not applied:
            return "apply_discount_code", {"code": self.u.code}
        if applied[-1].error:
            return phrases.error_text(self.lang, applied[-1].error)
        cart = applied[-1].result
        return self._after(self.say("code_applied", code=self.u.code, money=phrases.money_lines(self.lang, cart)))

    def plan_remove_code(self) -> Decision:
        removed = self._done("remove_discount_code")
        if removed and removed[-1].error:
            return phrases.error_text(self.lang, removed[-1].error)
        codes = [self.u.code] if self.u.code else None
        if codes is None:
            viewed = self._done("view_cart")
            if not viewed:
                return "view_cart", {}
            codes = [discount["code"] for discount in viewed[-1].result.get("discounts") or [] if discount["code"]]
            if not codes:
                return self.say("no_code")
        if len(removed) < len(codes):
            return "remove_discount_code", {"code": codes[len(removed)]}
        cart = removed[-1].result
        return self._after(self.say("code_removed", code=", ".join(codes), money=phrases.money_lines(self.lang, cart)))

    # Shipping ---------------------------------------------------------------------------------------

    def _options(self) -> list[dict] | Decision:
        listed = self._done("list_shipping_options")
        if not listed:
            return "list_shipping_options", {}
        if listed[-1].error:
            return phrases.error_text(self.lang, listed[-1].error)
        return listed[-1].result.get("options") or self.say("no_shipping")

    def plan_shipping(self) -> Decision:
        options = self._options()
        if not isinstance(options, list):
            return options
        self.pending = {"kind": "shipping"}
        lines = [self.say("shipping_options")]
        lines += [phrases.shipping_line(self.lang, n, option) for n, option in enumerate(options, 1)]
        lines.append(self.say("shipping_hint"))
        return "\n".join(lines)

    def plan_choose_shipping(self) -> Decision:
        options = self._options()
        if not isinstance(options, list):
            return options
        listed = self.u.ordinal is not None and -len(options) <= self.u.ordinal < len(options)
        chosen = options[self.u.ordinal] if listed else pick_shipping(self.u.shipping, options)
        if chosen is None:
            names = phrases.listing(self.lang, [option["name"] for option in options])
            return self.say("no_such_shipping", name=self.u.shipping, names=names)
        self.shipping_choice = chosen["id"]
        return self._after(self.say("shipping_chosen", option=phrases.shipping_text(self.lang, chosen)))

    # The summary ------------------------------------------------------------------------------------

    def _default_address(self) -> int | Decision:
        listed = self._done("list_addresses")
        if not listed:
            return "list_addresses", {}
        if listed[-1].error:
            return phrases.error_text(self.lang, listed[-1].error)
        default = next((row for row in listed[-1].result.get("addresses") or [] if row["is_default"]), None)
        return default["id"] if default else self.say("no_default_address")

    def plan_checkout(self) -> Decision:
        known = {**((self.memory.pending or {}).get("contact") or {}), **self.u.contact}
        arguments = {key: value for key, value in known.items() if key in ("name", "phone", "address") and value}
        if self.u.default_address:
            address_id = self._default_address()
            if not isinstance(address_id, int):
                return address_id
            arguments = {"address_id": address_id}
        if self.memory.shipping:
            arguments["shipping_option"] = self.memory.shipping
        prepared = self._done("place_order")
        if not prepared:
            return "place_order", arguments
        step = prepared[-1]
        if step.error and step.error.get("code") == "address_required":
            missing = (step.error.get("details") or {}).get("missing") or ["name", "phone", "address"]
            self.pending = {"kind": "contact", "contact": known, "missing": missing}
            return self.say("ask_contact", missing=phrases.missing_fields(self.lang, missing))
        if step.error:
            return phrases.error_text(self.lang, step.error)
        return self._summary_text(step.result["summary"])

    plan_contact = plan_checkout

    # The payment deadline ---------------------------------------------------------------------------

    def plan_pay_by(self) -> Decision:
        failed = self._failed()
        if failed:
            return failed
        if self.u.order_id:
            got = self._done("get_order")
            if not got:
                return "get_order", {"order_id": self.u.order_id}
            orders = [got[-1].result["order"]]
        else:
            listed = self._done("list_orders")
            if not listed:
                return "list_orders", {"limit": 10}
            orders = listed[-1].result.get("orders") or []
        unpaid = [order for order in orders if order["status"] == "PENDING"]
        if not unpaid:
            return "\n".join([self.say("nothing_to_pay"), *(phrases.order_line(self.lang, o) for o in orders[:1])])
        return "\n".join(phrases.pay_by(self.lang, order) for order in unpaid)

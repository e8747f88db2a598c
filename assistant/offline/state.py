"""Dialogue state: what the engine remembers of a conversation between turns.

It lives in `state["dialogue"]` (the dict assistant.chat keeps on the Conversation and passes to
the brain) as plain JSON:

- `shown`: the list last shown, in order (products of a search, or the cart's lines), so "the second
  one" and "those" mean what the shopper saw; `shown_kind` says which it was;
- `focus`: the product last talked about alone (looked at, added, changed), the usual "it";
- `search`: the last search's arguments, for "something cheaper", "under 100 yuan", "green tea only";
- `order`: the order last prepared, cancelled or looked at;
- `pending`: the question the engine asked and what it already knows of the answer: which product
  (with the action and quantity waiting), which order, or delivery details still missing;
- `lang`: the shopper's language, for answers that carry no words ("2", a phone number);
- `action`: the cart action of the last turn, which "and the trail ones too" / "再来一个" continue;
- `shipping`: the shipping option the shopper chose ("express please"), for every summary after;
- `checkout`: what the summary on the table was prepared with (place_order's arguments), so a code or
  a shipping option settled around it prepares it again.

The state of a turn is computed from the turn's tool results and saved once, with the reply.
"""

from dataclasses import asdict, dataclass, field

KEY = "dialogue"
PRODUCT_FIELDS = ("sku", "name", "name_en", "category", "price_cents", "stock")
MAX_SHOWN = 10


def product_memo(row: dict) -> dict:
    """Return the part of a product or cart line worth remembering."""
    return {key: row[key] for key in PRODUCT_FIELDS if key in row}


@dataclass
class DialogueState:
    shown: list[dict] = field(default_factory=list)
    shown_kind: str = ""  # "products" or "cart"
    focus: dict | None = None
    search: dict | None = None
    order: int | None = None
    pending: dict | None = None
    lang: str = ""
    action: str = ""  # the last turn's cart action ("add", "remove"), for "and two of the mugs too"
    shipping: int | None = None
    checkout: dict | None = None

    @classmethod
    def load(cls, state: dict) -> "DialogueState":
        data = (state or {}).get(KEY) or {}
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        try:
            return cls(**known)
        except TypeError:  # a state written by another version: start afresh
            return cls()

    def save(self, state: dict) -> None:
        state[KEY] = asdict(self)

    # What a tool result teaches ----------------------------------------------------------------

    def learn(self, name: str, arguments: dict, result: dict) -> None:
        """Update the memory from one tool call of this turn and its result."""
        if not isinstance(result, dict) or "error" in result:
            return
        if name == "search_products" and result.get("products"):
            self.show("products", result["products"])
            self.search = {key: value for key, value in arguments.items() if key != "limit"}
            self.focus = self.shown[0] if len(self.shown) == 1 else None
        elif name == "get_product":
            self.focus = product_memo(result["product"])
        elif name == "view_cart":
            if result.get("items"):
                self.show("cart", result["items"])
        elif name == "add_to_cart":
            self.focus = self._known(result["added"])
        elif name == "update_cart_item" and "updated" in result:
            self.focus = self._known(result["updated"])
        elif name in ("remove_from_cart", "update_cart_item"):
            sku = result["removed"]["sku"]
            if self.focus and self.focus.get("sku") == sku:
                self.focus = None
            if self.shown_kind == "cart":
                self.shown = [row for row in self.shown if row["sku"] != sku]
        elif name == "get_order":
            self.order = result["order"]["id"]
        elif name == "cancel_order":
            self.order = result["summary"].get("order_id", self.order)
        elif name == "place_order":
            self.checkout = {key: value for key, value in arguments.items() if key != "shipping_option"}

    def show(self, kind: str, rows: list[dict]) -> None:
        self.shown_kind = kind
        self.shown = [product_memo(row) for row in rows[:MAX_SHOWN]]

    def _known(self, row: dict) -> dict:
        """Return what is known of a product named in a cart result (the list shown knows more)."""
        for item in [*self.shown, self.focus or {}]:
            if item.get("sku") == row.get("sku"):
                return {**item, **product_memo(row)}
        return product_memo(row)

    def pick(self, position: int | None) -> dict | None:
        """Return the shown item at a position (0 the first, -1 the last), or None."""
        if position is None or not self.shown:
            return None
        if position == -1:
            return self.shown[-1]
        return self.shown[position] if 0 <= position < len(self.shown) else None

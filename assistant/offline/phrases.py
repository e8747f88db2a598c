"""Phrases: everything the engine says, through gettext (Chinese in locale/zh_Hans), in the shopper's
language. Order statuses come from the Order model's own labels and error texts from the shop's
error classes (by their stable code), so the engine has no second table of either.
"""

import functools

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override, pgettext_lazy

from mcpshop_site.exceptions import ShopError
from mcpshop_site.money import money
from orders.models import Order

PHRASES = {
    "greet": _('Hi! I\'m the shop assistant. I can find products, fill your cart and check your orders. Try "tea '
               'under 100 yuan".'),
    "help": _('I can: search products ("green tea under 100 yuan", "something cheaper"), add to your cart ("add two '
              'of the first one"), change or remove items ("make it 3", "remove the mug", "clear my cart"), prepare '
              'your order (you confirm it with a click; tell me name, phone and address in any form), and check or '
              'cancel orders ("where is my order", "cancel it").'),
    "thanks": _("You're welcome! Anything else?"),
    "confirm_hint": _("Please press the Confirm button on the summary card: I can't confirm for you."),
    "decline": _("All right. Anything else I can help with?"),
    "unknown": _('Sorry, I didn\'t understand "%(text)s". I can search products, manage your cart, prepare orders '
                 'and check them, e.g. "do you have green tea" or "where is my order".'),
    "no_match": _('Nothing in the shop matches "%(query)s".'),
    "we_have": _("Here is what we do have: %(categories)s."),
    "results": _("Here is what I found:"),
    "more": _("There are more; tell me more to narrow it down."),
    "pick_hint": _('Say "add two of the first one" to put one in your cart.'),
    "which": _("Which one do you mean? Tell me its number, e.g. \"the first one\":"),
    "which_unknown": _('Which product do you mean? Tell me its name, or search first and say "the first one".'),
    "not_in_list": _("The list I showed has no number %(number)s."),
    "no_such_item": _('There is no "%(name)s" in your cart.'),
    "added": _("Added %(quantity)s × %(name)s to your cart (now %(in_cart)s in the cart)."),
    "removed": _("Removed %(name)s from your cart."),
    "cleared": _("Your cart is empty now."),
    "updated": _("Changed %(name)s to %(quantity)s."),
    "how_many": _('To how many? E.g. "make it 2".'),
    "cart_empty": _("Your cart is empty."),
    "cart": _("In your cart:"),
    "total": _("Total: %(total)s."),
    "confirm_order": _("Please check your order: %(total)s in total, to %(address)s (%(name)s, %(phone)s). It is "
                       "placed only when you press Confirm."),
    "confirm_cancel": _("Cancel order #%(id)s (%(total)s)? Press Confirm to cancel it."),
    "ask_contact": _("To send the order I still need the recipient's %(missing)s."),
    "no_orders": _("You have no orders yet."),
    "orders": _("Your recent orders:"),
    "order": _("Order #%(id)s: %(status)s, %(total)s, placed %(date)s."),
    "which_order": _("Which order should I cancel? Tell me its number:"),
    "none_cancellable": _("None of your orders can be cancelled now."),
    "categories": _("We have these categories:"),
    "stopped": _("I'll stop here."),
    "in_stock": _("%(count)s in stock"),
    "out_of_stock": _("out of stock"),
    "went_wrong": _("Something went wrong. Please try again."),
}  # fmt: skip
FIELDS = {
    "name": pgettext_lazy("recipient", "name"),
    "phone": pgettext_lazy("recipient", "mobile number"),
    "address": pgettext_lazy("recipient", "address"),
}


def say(lang: str, key: str, **values) -> str:
    with override(lang):
        text = str(PHRASES[key])
    return text % values if values else text


def listing(lang: str, words: list[str]) -> str:
    return ("、" if lang.startswith("zh") else ", ").join(words)


def missing_fields(lang: str, keys: list[str]) -> str:
    with override(lang):
        return listing(lang, [str(FIELDS[key]) for key in keys if key in FIELDS])


def product_name(lang: str, row: dict) -> str:
    if not lang.startswith("zh") and row.get("name_en"):
        return row["name_en"]
    return row.get("name") or row.get("name_en") or row.get("sku", "")


def stock(lang: str, count: int) -> str:
    return say(lang, "in_stock", count=count) if count else say(lang, "out_of_stock")


def product_line(lang: str, position: int, row: dict) -> str:
    return (
        f"{position}. {product_name(lang, row)} ({row['sku']}) {money(row['price_cents'])}, {stock(lang, row['stock'])}"
    )


def cart_line(lang: str, position: int, row: dict) -> str:
    return f"{position}. {product_name(lang, row)} × {row['quantity']}: {money(row['line_total_cents'])}"


def status(lang: str, order: dict) -> str:
    """Return the order's status as the order pages show it (the model's label), in `lang`."""
    with override(lang):
        try:
            return str(Order.Status(order["status"]).label)
        except ValueError:
            return order.get("status_display") or order["status"]


def placed(lang: str, order: dict) -> str:
    """Return when the order was placed, local time, formatted as the order pages format it."""
    created = parse_datetime(order.get("created_at") or "")
    if created is None:
        return order.get("placed", "")
    with override(lang):
        return formats.date_format(timezone.localtime(created), "DATETIME_FORMAT")


def order_line(lang: str, order: dict) -> str:
    line = say(
        lang,
        "order",
        id=order["id"],
        status=status(lang, order),
        total=money(order["total_cents"]),
        date=placed(lang, order),
    )
    return line[:-1] if line.endswith("..") else line  # "9:21 a.m." ends the sentence itself


@functools.cache
def _error_classes() -> dict[str, type[ShopError]]:
    found, todo = {}, [ShopError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def error_text(lang: str, error: dict) -> str:
    """Return a tool error in the shopper's language: the message of the shop's error of that code."""
    details = dict(error.get("details") or {})
    cls = _error_classes().get(error.get("code", ""))
    if cls is None:
        return error.get("message") or say(lang, "went_wrong")
    with override(lang):
        try:
            text = cls(**details).message
        except TypeError:
            text = str(cls.default_message)
    return text

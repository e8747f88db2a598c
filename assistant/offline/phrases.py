"""Phrases: everything the engine says, through gettext (Chinese in locale/zh_Hans), in the shopper's
language. Order statuses come from the Order model's own labels and error texts from the shop's
error classes (by their stable code), so the engine has no second table of either.
"""

import functools

from django.conf import settings
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
    "money": _("%(money)s."),
    "confirm_order": _("Please check your order: %(money)s; to %(address)s (%(name)s, %(phone)s). It is placed only "
                       "when you press Confirm."),
    "confirm_cancel": _("Cancel order #%(number)s (%(total)s)? Press Confirm to cancel it."),
    "subtotal": _("subtotal %(amount)s"),
    "discount": _("%(title)s −%(amount)s"),
    "shipping": _("shipping (%(method)s) %(amount)s"),
    "ships_free": _("free"),
    "tax": _("tax %(amount)s"),
    "to_pay": _("total %(amount)s"),
    "which_code": _('Which code? Tell me, e.g. "use code WELCOME10".'),
    "code_applied": _("Code %(code)s applied: %(money)s."),
    "code_removed": _("Removed the code %(code)s: %(money)s."),
    "no_code": _("Your cart has no discount code."),
    "shipping_options": _("Ways to ship your cart:"),
    "shipping_option": _("%(name)s, %(price)s, %(days)s-day delivery"),
    "shipping_hint": _('Say which you want, e.g. "express please"; without a choice the cheapest is used.'),
    "no_shipping": _("There is no way to ship there yet."),
    "no_such_shipping": _('There is no shipping option "%(name)s". The options are: %(names)s.'),
    "shipping_chosen": _("Shipping by %(option)s."),
    "no_default_address": _("You have no default address saved. Tell me the recipient's name, phone and address, or "
                            "save one on your account page."),
    "pay_by": _("Order #%(number)s (%(total)s): please pay by %(when)s; after that it expires and its items go back "
                "on sale."),
    "nothing_to_pay": _("None of your orders is waiting for payment."),
    "ask_contact": _("To send the order I still need the recipient's %(missing)s."),
    "no_orders": _("You have no orders yet."),
    "orders": _("Your recent orders:"),
    "order": _("Order #%(number)s: %(status)s, %(total)s, placed %(date)s."),
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


def when(lang: str, iso: str, shown: str = "") -> str:
    """Return a time of an order in local time, formatted as the order pages format it (else `shown`)."""
    moment = parse_datetime(iso or "")
    if moment is None:
        return shown
    with override(lang):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _sentence(line: str) -> str:
    return line[:-1] if line.endswith("..") else line  # "9:21 a.m." ends the sentence itself


def order_line(lang: str, order: dict) -> str:
    line = say(
        lang,
        "order",
        number=order["number"],
        status=status(lang, order),
        total=money(order["total_cents"]),
        date=when(lang, order.get("created_at"), order.get("placed", "")),
    )
    return _sentence(line)


def pay_by(lang: str, order: dict) -> str:
    """Return when an unpaid order must be paid, and what happens after."""
    deadline = when(lang, order.get("payment_due_at"), order.get("pay_by", ""))
    return say(lang, "pay_by", number=order["number"], total=money(order["total_cents"]), when=deadline)


def money_lines(lang: str, priced: dict) -> str:
    """Return a cart's or a summary's money on one line: subtotal, each discount, shipping, tax, total."""
    parts = [say(lang, "subtotal", amount=money(priced["subtotal_cents"]))]
    for discount in priced.get("discounts") or []:
        title = " ".join(part for part in (discount["title"], discount["code"]) if part)
        parts.append(say(lang, "discount", title=title, amount=money(discount["amount_cents"])))
    shipping = priced.get("shipping")
    if shipping:
        amount = money(shipping["price_cents"]) if shipping["price_cents"] else say(lang, "ships_free")
        parts.append(say(lang, "shipping", method=shipping["name"], amount=amount))
    if priced.get("tax_cents"):
        parts.append(say(lang, "tax", amount=money(priced["tax_cents"])))
    parts.append(say(lang, "to_pay", amount=money(priced["total_cents"])))
    return ("，" if lang.startswith("zh") else ", ").join(parts)


def shipping_text(lang: str, option: dict) -> str:
    price = money(option["price_cents"]) if option["price_cents"] else say(lang, "ships_free")
    return say(lang, "shipping_option", name=option["name"], price=price, days=option["estimated_days"])


def shipping_line(lang: str, position: int, option: dict) -> str:
    return f"{position}. {shipping_text(lang, option)}"


@functools.cache
def _error_classes() -> dict[str, type[ShopError]]:
    found, todo = {}, [ShopError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def _defaults(cls: type[ShopError]) -> set[str]:
    """Return the class's default message in every language of the shop."""
    defaults = set()
    for code, _name in settings.LANGUAGES:
        with override(code):
            defaults.add(str(cls.default_message))
    return defaults


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
        rebuilt = text != str(cls.default_message)
    if not rebuilt and error.get("message") not in (None, *_defaults(cls)):
        text = error["message"]  # a message made of more than its details (a code's reason): the shop's own
    return text

"""Template helpers for the storefront: money from integer cents in the shop's currency, product grids."""

from django import template
from django.conf import settings

from catalog import cache

register = template.Library()

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def currency_symbol() -> str:
    """Return the symbol of the shop's currency (settings.SHOP_CURRENCY), or its code."""
    currency = settings.SHOP_CURRENCY
    return CURRENCY_SYMBOLS.get(currency, f"{currency} ")


@register.filter
def money(cents) -> str:
    """Return integer cents as a price in the shop's currency, e.g. 12800 -> "¥128.00"."""
    try:
        cents = int(cents)
    except (TypeError, ValueError):
        return ""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{currency_symbol()}{cents // 100:,}.{cents % 100:02d}"


@register.simple_tag(takes_context=True)
def product_grid(context, products):
    """Render partials/product_grid.html for `products`, cached (see catalog.cache.product_grid)."""
    return cache.product_grid(context["request"], products)

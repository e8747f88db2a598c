"""Money as people read it: integer cents in the shop's currency (settings.SHOP_CURRENCY)."""

from django.conf import settings

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def currency_symbol() -> str:
    """Return the symbol of the shop's currency, or its code and a space."""
    currency = settings.SHOP_CURRENCY
    return CURRENCY_SYMBOLS.get(currency, f"{currency} ")


def money(cents) -> str:
    """Return integer cents as a price in the shop's currency, e.g. 12800 -> "¥128.00" ("" if not a number)."""
    try:
        cents = int(cents)
    except (TypeError, ValueError):
        return ""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{currency_symbol()}{cents // 100:,}.{cents % 100:02d}"

"""Money as people read it: integer cents in the shop's currency (settings.SHOP_CURRENCY), and typed in forms."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

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


def cents_as_units(cents: int) -> str:
    """Return integer cents as an amount in currency units with two decimals, e.g. 1250 -> "12.50"."""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


class MoneyField(forms.DecimalField):
    """A form field for money typed in currency units ("12.50", "12.5", "12") and kept as integer cents (1250).

    More than two decimals is refused, as are amounts outside `min_cents`..`max_cents` (by default 0 up to
    what a 32-bit integer column holds). Shows cents as units ("12.50"); the admin's product form uses it.
    """

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 12})

    def __init__(self, *, min_cents: int = 0, max_cents: int = 2**31 - 1, **kwargs):
        kwargs.setdefault(
            "help_text", format_lazy(_("An amount in {currency}, e.g. 12.50"), currency=settings.SHOP_CURRENCY)
        )
        super().__init__(
            min_value=Decimal(min_cents) / 100,
            max_value=Decimal(max_cents) / 100,
            max_digits=None,
            decimal_places=2,
            **kwargs,
        )

    def prepare_value(self, value):
        return cents_as_units(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def clean(self, value) -> int | None:
        amount = super().clean(value)  # a Decimal in currency units, checked: at most 2 decimals, within bounds
        return None if amount is None else int(amount * 100)

    def _cents(self, value) -> int | None:
        """Return cents from a typed amount (text in units) or a stored one (int cents)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        amount = self.to_python(value)
        return None if amount is None else int(amount * 100)

    def has_changed(self, initial, data) -> bool:
        try:
            return self._cents(data) != self._cents(initial)
        except forms.ValidationError:
            return True

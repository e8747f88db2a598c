from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from mcpshop_site.money import currency_symbol

# The keys of catalog.selectors.PRODUCT_SORTS, with labels for shoppers.
SORT_CHOICES = [
    ("newest", _("Newest")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
    ("name", _("Name")),
]

MAX_PRICE_YUAN = Decimal("100000000")


class ProductFilterForm(forms.Form):
    """The storefront's search and filter fields; prices are entered in yuan and read as cents."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ChoiceField(label=_("Category"), required=False)
    min_price = forms.DecimalField(required=False, min_value=0, max_value=MAX_PRICE_YUAN, decimal_places=2)
    max_price = forms.DecimalField(required=False, min_value=0, max_value=MAX_PRICE_YUAN, decimal_places=2)
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, categories=(), search=False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if search:  # the search page ranks by relevance unless asked otherwise
            self.fields["sort"].choices = [("relevance", _("Best match")), *SORT_CHOICES]
        self.fields["category"].choices = [("", _("All categories"))] + [
            (category.slug, category.display_name) for category in categories
        ]
        symbol = currency_symbol().strip()
        self.fields["min_price"].label = _("Min price (%(currency)s)") % {"currency": symbol}
        self.fields["max_price"].label = _("Max price (%(currency)s)") % {"currency": symbol}
        for name in ("min_price", "max_price"):
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal", "placeholder": "0.00"})

    def filters(self) -> dict:
        """Return the valid fields as keyword arguments for `product_list`, ignoring the invalid ones."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = {
            "query": data.get("q") or "",
            "category": data.get("category") or None,
            "in_stock": bool(data.get("in_stock")),
            "sort": data.get("sort") or ("relevance" if "relevance" in dict(self.fields["sort"].choices) else "newest"),
        }
        for name in ("min_price", "max_price"):
            if data.get(name) is not None:
                filters[name] = int(data[name] * 100)
        return filters

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from cart.exceptions import InvalidQuantity

# Evaluated when shown, in the language of that request.
_quantity_message = lazy(lambda: InvalidQuantity().message, str)


class QuantityField(forms.IntegerField):
    """A line quantity from 1 to the shop's per-line maximum, with the service's own error message."""

    def __init__(self, **kwargs):
        maximum = settings.SHOP_MAX_LINE_QUANTITY
        message = _quantity_message()
        kwargs.setdefault("label", _("Quantity"))
        kwargs.setdefault(
            "error_messages", {"required": message, "invalid": message, "min_value": message, "max_value": message}
        )
        super().__init__(min_value=1, max_value=maximum, **kwargs)


class CartAddForm(forms.Form):
    sku = forms.CharField(max_length=32, widget=forms.HiddenInput)
    quantity = QuantityField(initial=1)

    def __init__(self, *args, stock=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stock is not None and 0 < stock < settings.SHOP_MAX_LINE_QUANTITY:
            self.fields["quantity"].widget.attrs["max"] = stock


class CartQuantityForm(forms.Form):
    quantity = QuantityField()


class DiscountCodeForm(forms.Form):
    code = forms.CharField(label=_("Discount code"), max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "off", "autocapitalize": "characters", "placeholder": _("Discount code")}
        self.fields["code"].widget.attrs.update(attrs)

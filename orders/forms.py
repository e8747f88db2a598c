from django import forms
from django.utils.translation import gettext_lazy as _

from orders.services import CONTACT_LIMITS


class CheckoutForm(forms.Form):
    """Contact details for delivery, plus the key that makes a double submit place one order."""

    name = forms.CharField(label=_("Recipient"), max_length=CONTACT_LIMITS["name"])
    phone = forms.CharField(label=_("Phone"), max_length=CONTACT_LIMITS["phone"])
    address = forms.CharField(
        label=_("Address"), max_length=CONTACT_LIMITS["address"], widget=forms.Textarea(attrs={"rows": 3})
    )
    idempotency_key = forms.CharField(min_length=16, max_length=128, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["address"].widget.attrs["autocomplete"] = "street-address"

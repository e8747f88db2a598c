from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import ADDRESS_LIMITS
from mcpshop_site.countries import country_choices

NEW_ADDRESS = "new"


class CheckoutForm(forms.Form):
    """Where to deliver (a saved address or a typed one), how to ship, and the key that makes a double
    submit place one order. The address book's rules check a typed address when the order is placed."""

    # A saved address's id or NEW_ADDRESS; the page draws the choices, order_place checks the id is the shopper's.
    address_choice = forms.CharField(max_length=20, required=False)
    name = forms.CharField(label=_("Recipient"), max_length=ADDRESS_LIMITS["recipient"], required=False)
    phone = forms.CharField(label=_("Phone"), max_length=ADDRESS_LIMITS["phone"], required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    region = forms.CharField(label=_("Region / province"), max_length=ADDRESS_LIMITS["region"], required=False)
    city = forms.CharField(label=_("City"), max_length=ADDRESS_LIMITS["city"], required=False)
    district = forms.CharField(label=_("District"), max_length=ADDRESS_LIMITS["district"], required=False)
    street = forms.CharField(label=_("Street address"), max_length=ADDRESS_LIMITS["street"], required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=ADDRESS_LIMITS["postal_code"], required=False)
    save_address = forms.BooleanField(label=_("Save this address in my address book"), required=False)
    # A shipping method's id from the page's options (the cheapest if empty); order_place checks it.
    shipping_option = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    idempotency_key = forms.CharField(min_length=16, max_length=128, widget=forms.HiddenInput)

    NEW_ADDRESS_FIELDS = ("name", "phone", "country", "region", "city", "district", "street", "postal_code")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()
        self.fields["country"].initial = settings.SHOP_COUNTRY
        autocomplete = {
            "name": "shipping name",
            "phone": "shipping tel",
            "country": "shipping country",
            "region": "shipping address-level1",
            "city": "shipping address-level2",
            "district": "shipping address-level3",
            "street": "shipping street-address",
            "postal_code": "shipping postal-code",
        }
        for field, token in autocomplete.items():
            self.fields[field].widget.attrs["autocomplete"] = token
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        self.fields["country"].widget.attrs["data-refresh"] = ""

    def new_address_fields(self):
        return [self[field] for field in self.NEW_ADDRESS_FIELDS]

    def saved_address_id(self) -> str | None:
        """Return the chosen saved address's id as given (order_place checks it), or None for a typed address."""
        choice = self.cleaned_data.get("address_choice") or NEW_ADDRESS
        return None if choice == NEW_ADDRESS else choice

    def typed_address(self) -> dict:
        """Return the typed address's place fields, as `order_place(address=...)` takes them."""
        return {field: self.cleaned_data[field] for field in self.NEW_ADDRESS_FIELDS if field not in ("name", "phone")}

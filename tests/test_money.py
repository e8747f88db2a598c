"""Money typed in currency units: mcpshop_site.money.MoneyField ("12.50" <-> 1250 cents), used by the admin."""

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from mcpshop_site.money import MoneyField
from tests.catalog.test_admin import form_data


class PriceForm(forms.Form):
    price = MoneyField()


@pytest.mark.parametrize(
    ("typed", "cents"), [("12.50", 1250), ("12.5", 1250), ("12", 1200), ("0.01", 1), (" 4.59 ", 459)]
)
def test_amounts_typed_in_units_are_kept_in_cents(typed, cents):
    form = PriceForm({"price": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price"] == cents


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("12.345", "no more than 2 decimal places"),
        ("-1", "greater than or equal to 0"),
        ("abc", "Enter a number"),
        ("21474836.48", "less than or equal to 21474836.47"),  # past a 32-bit integer column, in cents
    ],
)
def test_more_than_two_decimals_negative_or_huge_amounts_are_refused(typed, error):
    with translation.override("en"):
        form = PriceForm({"price": typed})
        assert not form.is_valid() and error in form.errors["price"][0]


def test_cents_show_as_units_and_the_same_amount_is_no_change():
    form = PriceForm(initial={"price": 1250})
    assert 'value="12.50"' in str(form["price"]) and 'inputmode="decimal"' in str(form["price"])
    assert not PriceForm({"price": "12.5"}, initial={"price": 1250}).has_changed()
    assert PriceForm({"price": "12.51"}, initial={"price": 1250}).has_changed()


@pytest.mark.django_db
def test_the_admin_types_product_prices_in_yuan(admin_client, product):
    """Before, 459 typed in the admin meant ¥4.59."""
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = admin_client.get(url)
    assert 'name="price_cents" value="128.00"' in page.content.decode()
    data = form_data(page.context["adminform"].form, price_cents="4.59")

    assert admin_client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.price_cents == 459

    refused = admin_client.post(url, {**data, "price_cents": "4.599"})
    assert refused.status_code == 200 and "确认小数不超过 2 位" in refused.content.decode()

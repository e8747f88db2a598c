"""Staff manage shipping, promotions and codes in the admin, typing money in currency units."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from orders.models import DiscountCode, ShippingMethod, ShippingRate
from orders.offers import shipping_options

pytestmark = pytest.mark.django_db


def test_a_shipping_method_with_rates_typed_in_yuan(admin_client):
    response = admin_client.post(
        reverse("admin:orders_shippingmethod_add"),
        {
            "name": "顺丰特快",
            "name_en": "SF Express",
            "is_active": "on",
            "position": "1",
            "rates-TOTAL_FORMS": "2",
            "rates-INITIAL_FORMS": "0",
            "rates-0-country": "CN",
            "rates-0-region": "",
            "rates-0-price_cents": "12.50",
            "rates-0-estimated_days": "2",
            "rates-1-country": "CN",
            "rates-1-region": "新疆",
            "rates-1-price_cents": "30",
            "rates-1-estimated_days": "5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    method = ShippingMethod.objects.get()
    assert sorted(method.rates.values_list("region", "price_cents")) == [("", 1250), ("新疆", 3000)]
    page = admin_client.get(reverse("admin:orders_shippingmethod_change", args=[method.pk]))
    assertContains(page, 'value="12.50"')


def test_a_rate_takes_its_country_in_any_case_and_refuses_what_is_not_a_country(admin_client):
    """A rate typed "cn" or "XX" matched no destination: the shop silently did not ship there."""

    def add(country):
        form = {
            "name": f"快递 {country}",
            "is_active": "on",
            "position": "0",
            "rates-TOTAL_FORMS": "1",
            "rates-INITIAL_FORMS": "0",
            "rates-0-country": country,
            "rates-0-region": "",
            "rates-0-price_cents": "10",
            "rates-0-estimated_days": "3",
        }
        return admin_client.post(reverse("admin:orders_shippingmethod_add"), form, HTTP_ACCEPT_LANGUAGE="en")

    assert add("cn").status_code == 302
    assert list(ShippingRate.objects.values_list("country", flat=True)) == ["CN"]
    assert shipping_options(country="CN")[0][0].price_cents == 1000
    for typo in ("XX", "ZZ"):
        assertContains(add(typo), "Country must be a two-letter ISO 3166-1 code, e.g. CN.")
    assert ShippingMethod.objects.count() == 1


def test_shipping_codes_are_optional_and_never_shared_by_two_methods(admin_client):
    """Two options of one destination with one code: an agent selecting it would get either."""

    def add(name, method_code, rate_code):
        form = {
            "name": name,
            "code": method_code,
            "is_active": "on",
            "position": "0",
            "rates-TOTAL_FORMS": "1",
            "rates-INITIAL_FORMS": "0",
            "rates-0-country": "",
            "rates-0-region": "",
            "rates-0-price_cents": "5",
            "rates-0-estimated_days": "3",
            "rates-0-code": rate_code,
        }
        return admin_client.post(reverse("admin:orders_shippingmethod_add"), form, HTTP_ACCEPT_LANGUAGE="en")

    assert add("Standard", "standard", "std-ship").status_code == 302
    assert add("Pickup", "", "").status_code == 302
    assert add("Courier", "", "").status_code == 302  # no code twice: stored as NULL, not a duplicate ""
    assert list(ShippingMethod.objects.values_list("code", flat=True).order_by("pk")) == ["standard", None, None]
    for method_code, rate_code in (("standard", ""), ("std-ship", ""), ("", "standard"), ("", "std-ship")):
        assertContains(add("Express", method_code, rate_code), "already uses this code")
    assertContains(add("Express", "exp ship", ""), "Enter a valid")
    assert ShippingMethod.objects.count() == 3


def test_a_discount_code_in_any_case_with_a_fixed_amount_and_its_usage(admin_client):
    form = {
        "code": "spring",
        "title": "春季立减",
        "title_en": "Spring",
        "kind": "FIXED",
        "amount_cents": "20.00",
        "min_subtotal_cents": "199.99",
        "usage_limit": "100",
    }
    assert admin_client.post(reverse("admin:orders_discountcode_add"), form).status_code == 302
    code = DiscountCode.objects.get()
    assert (code.code, code.amount_cents, code.min_subtotal_cents) == ("SPRING", 2000, 19999)
    again = admin_client.post(reverse("admin:orders_discountcode_add"), {**form, "code": " Spring "})
    assert again.status_code == 200 and DiscountCode.objects.count() == 1  # the same code, refused
    cents = admin_client.post(reverse("admin:orders_discountcode_add"), {**form, "code": "X", "amount_cents": "1.234"})
    assert cents.status_code == 200 and DiscountCode.objects.count() == 1  # no fractions of a cent
    assertContains(admin_client.get(reverse("admin:orders_discountcode_changelist")), "0 / 100")

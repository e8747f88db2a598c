"""Discount codes on the cart and shipping options over the API."""

import pytest
from django.test import Client

from orders.models import DiscountCode, Promotion, ShippingMethod, ShippingRate
from tests.conftest import api_client_for, page_client_for

pytestmark = pytest.mark.django_db

DISCOUNTS = "/api/cart/discounts"
OPTIONS = "/api/shipping-options/"


@pytest.fixture
def alice_api(alice, product):
    api = api_client_for(alice)
    assert api.post("/api/cart/", {"sku": product.sku, "quantity": 2}, format="json").status_code == 201
    return api


@pytest.fixture
def welcome(db):
    return DiscountCode.objects.create(
        code="WELCOME10", title="新客九折", title_en="10% off", kind="PERCENT", percent=10
    )


def test_apply_a_code_in_any_case_then_remove_it(alice_api, welcome):
    response = alice_api.post(DISCOUNTS, {"code": "welcome10"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    cart = response.json()
    assert cart["discounts"] == [{"code": "WELCOME10", "title": "10% off", "amount_cents": 2560}]
    assert (cart["subtotal_cents"], cart["discount_cents"], cart["total_cents"]) == (25600, 2560, 23040)
    assert alice_api.get("/api/cart/").json()["discount_cents"] == 2560

    removed = alice_api.delete(f"{DISCOUNTS}/Welcome10")
    assert (removed.status_code, removed.json()["discounts"], removed.json()["total_cents"]) == (200, [], 25600)
    again = alice_api.delete(f"{DISCOUNTS}/WELCOME10")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "discount_not_in_cart")


def test_a_code_that_does_not_apply_is_a_400_saying_why(alice_api, welcome):
    welcome.usage_limit = welcome.used_count = 1
    welcome.save()
    answers = {
        "used": alice_api.post(DISCOUNTS, {"code": "WELCOME10"}, format="json"),
        "unknown": alice_api.post(DISCOUNTS, {"code": "NOPE"}, format="json"),
    }
    for response in answers.values():
        assert (response.status_code, response.json()["error"]["code"]) == (400, "discount_invalid")
    assert answers["used"].json()["error"]["details"]["reason"] == "used_up"
    assert answers["unknown"].json()["error"]["details"]["reason"] == "unknown"
    assert "NOPE" in answers["unknown"].json()["error"]["message"]
    assert alice_api.get("/api/cart/").json()["discounts"] == []


def test_shipping_options_for_the_cart_after_free_shipping(alice_api, product):
    standard = ShippingMethod.objects.create(name="标准快递", name_en="Standard")
    express = ShippingMethod.objects.create(name="顺丰特快", name_en="Express", position=1)
    ShippingRate.objects.create(method=standard, country="CN", price_cents=1000, estimated_days=3)
    ShippingRate.objects.create(method=standard, country="CN", region="新疆", price_cents=3000, estimated_days=7)
    ShippingRate.objects.create(method=express, country="CN", price_cents=2500, estimated_days=1)
    response = alice_api.get(OPTIONS, {"country": "cn", "region": "新疆"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == [
        {"id": standard.pk, "name": "Standard", "price_cents": 3000, "estimated_days": 7},
        {"id": express.pk, "name": "Express", "price_cents": 2500, "estimated_days": 1},
    ]
    Promotion.objects.create(kind="FREE_SHIPPING", title="满200包邮", min_subtotal_cents=20000)
    assert [o["price_cents"] for o in alice_api.get(OPTIONS).json()] == [0, 0]  # the cart is 256.00
    assert alice_api.get(OPTIONS, {"country": "FR"}).json() == []
    bad = alice_api.get(OPTIONS, {"country": "ZZ"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")


def test_discounts_and_options_need_a_login(api):
    answers = [api.post(DISCOUNTS, {"code": "X"}, format="json"), api.delete(f"{DISCOUNTS}/X"), api.get(OPTIONS)]
    assert [r.status_code for r in answers] == [401] * 3


def test_a_code_the_customer_has_used_up_shows_as_rejected_on_every_door(alice, product, welcome):
    """A guest's cart brings a once-per-customer code to an account that used it: the cart page and the
    API show it refused (as checkout refuses it), not a discount the order will not get."""
    welcome.per_customer_limit = 1
    welcome.save()
    api = api_client_for(alice)
    api.post("/api/cart/", {"sku": product.sku, "quantity": 1}, format="json")
    api.post(DISCOUNTS, {"code": "WELCOME10"}, format="json")
    placed = api.post("/api/orders/", {"name": "A", "phone": "138 0000 0000", "address": "上海市 南京东路 1 号"})
    assert (placed.status_code, placed.json()["discount_cents"]) == (201, 1280)

    browser = Client()
    browser.post("/cart/add/", {"sku": product.sku, "quantity": 1})
    browser.post("/cart/discounts/", {"code": "welcome10"})  # a guest has no past uses
    assert browser.get("/cart/").context["quote"].discount_cents == 1280
    browser.post("/accounts/login/", {"username": alice.username, "password": "correct horse battery"})

    cart = api.get("/api/cart/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (cart["discount_cents"], cart["total_cents"]) == (0, 12800)
    assert cart["rejected_discounts"] == [{"code": "WELCOME10", "message": "You have already used the code WELCOME10."}]
    page = browser.get("/cart/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["quote"].discount_cents == 0
    assert "You have already used the code WELCOME10." in page.content.decode()
    refused = api.post("/api/orders/", {"name": "A", "phone": "138 0000 0000", "address": "上海市 南京东路 1 号"})
    assert refused.json()["error"]["details"]["reason"] == "customer_limit"


def test_odd_codes_answer_clearly(alice, alice_api, welcome):
    """Codes in another case, with spaces or a NUL, huge or nested: a clear 4xx, never a server error (a NUL
    reached PostgreSQL, which refuses to compare text holding one)."""
    spaced = alice_api.post(DISCOUNTS, {"code": "\t welcome10 \n"}, format="json")
    assert spaced.json()["discounts"][0]["code"] == "WELCOME10"
    for body in ({"code": "WELCOME10\x00"}, {"code": "X" * 65}, {"code": {"code": ["WELCOME10"]}}, {"code": None}):
        assert alice_api.post(DISCOUNTS, body, format="json").status_code == 400
    for path in ("WELCOME10%00", "%00", "X" * 2000, "%F0%9F%8E%81"):
        response = alice_api.delete(f"{DISCOUNTS}/{path}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "discount_not_in_cart"), path
    browser = page_client_for(alice)
    assert browser.post("/cart/discounts/WELCOME10%00/remove/").status_code == 302
    assert alice_api.get("/api/cart/").json()["discounts"][0]["code"] == "WELCOME10"  # still on the cart


def test_a_cart_takes_five_codes_and_applying_one_again_changes_nothing(alice_api):
    for number in range(6):
        DiscountCode.objects.create(code=f"TAKE{number}", title="立减", kind="FIXED", amount_cents=100, stackable=True)
    for number in range(5):
        assert alice_api.post(DISCOUNTS, {"code": f"take{number}"}, format="json").status_code == 200
    again = alice_api.post(DISCOUNTS, {"code": "TAKE0"}, format="json")
    assert (again.status_code, again.json()["discount_cents"]) == (200, 500)  # a no-op, not "too many"
    sixth = alice_api.post(DISCOUNTS, {"code": "TAKE5"}, format="json")
    assert (sixth.status_code, sixth.json()["error"]["details"]["reason"]) == (400, "too_many")
    assert [d["code"] for d in alice_api.get("/api/cart/").json()["discounts"]] == [f"TAKE{n}" for n in range(5)]

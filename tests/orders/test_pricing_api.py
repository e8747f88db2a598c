"""POST /api/orders/ with a saved address, an address object and a shipping option; the money it answers."""

import pytest

from accounts.addresses import address_create
from cart.services import cart_add
from cart.shoppers import Shopper
from orders.models import DiscountCode, Order, ShippingMethod, ShippingRate
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

ORDERS = "/api/orders/"
MONEY = ("currency", "subtotal_cents", "discount_cents", "shipping_cents", "tax_cents", "total_cents")
PLACE = {
    "recipient": "李四",
    "phone": "13900000000",
    "country": "CN",
    "region": "浙江省",
    "city": "杭州市",
    "street": "西湖路 1 号",
}


@pytest.fixture
def express(db):
    method = ShippingMethod.objects.create(name="顺丰特快", name_en="SF Express")
    ShippingRate.objects.create(method=method, country="CN", price_cents=2000, estimated_days=1)
    return method


def _cart(user, product, quantity=2):
    cart_add(shopper=Shopper(user=user), sku=product.sku, quantity=quantity)


def test_an_order_to_a_saved_address_with_a_shipping_option_and_a_code(alice, product, express):
    saved = address_create(user=alice, **PLACE)
    DiscountCode.objects.create(code="FIVE", title="立减5元", title_en="5 off", kind="FIXED", amount_cents=500)
    api = api_client_for(alice)
    _cart(alice, product)
    assert api.post("/api/cart/discounts", {"code": "five"}, format="json").status_code == 200
    response = api.post(
        ORDERS, {"address_id": saved.pk, "shipping_option": express.pk}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [body[key] for key in MONEY] == ["CNY", 25600, 500, 2000, 0, 27100]
    assert body["discounts"] == [{"code": "FIVE", "title": "5 off", "amount_cents": 500}]
    assert body["shipping_method"] == "SF Express"
    assert (body["name"], body["address"]) == ("李四", "浙江省 杭州市 西湖路 1 号")
    assert body["delivery_address"] == {
        "country": "CN",
        "region": "浙江省",
        "city": "杭州市",
        "district": "",
        "street": "西湖路 1 号",
        "postal_code": "",
    }
    assert sum(item["discount_cents"] for item in body["items"]) == 500
    assert api.get(f"{ORDERS}{body['id']}").json()["discounts"][0]["title"] == "立减5元"  # in the asker's language


def test_an_order_to_an_address_object(alice, product, express):
    api = api_client_for(alice)
    _cart(alice, product, 1)
    response = api.post(ORDERS, {"address": {**PLACE, "district": "西湖区"}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["address"] == "浙江省 杭州市 西湖区 西湖路 1 号"
    assert response.json()["shipping_cents"] == 2000  # the only (so the cheapest) option


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"address": {**PLACE, "country": "ZZ"}}, 400, "invalid"),
        ({"address": {**PLACE, "phone": "no phone"}}, 400, "invalid"),
        ({"address": {**PLACE, "street": "西湖路\x1b[2J 1 号"}}, 400, "invalid"),
        ({"address": ["a list"]}, 400, "invalid"),
        ({"address": PLACE, "shipping_option": 999999}, 400, "shipping_unavailable"),
        ({"address": PLACE, "shipping_option": "fast"}, 400, "invalid"),
        ({"address_id": 999999}, 404, "address_not_found"),
    ],
)
def test_a_bad_delivery_orders_nothing(alice, product, express, body, status, code):
    _cart(alice, product, 1)
    response = api_client_for(alice).post(ORDERS, body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Order.objects.exists()


def test_someone_elses_saved_address_is_a_404(alice, bob, product):
    theirs = address_create(user=bob, **PLACE)
    _cart(alice, product, 1)
    response = api_client_for(alice).post(ORDERS, {"address_id": theirs.pk}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "address_not_found")
    assert not Order.objects.exists()

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

CART = "/api/cart/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def alice_api(alice):
    return api_client_for(alice)


def _lines(user):
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


def test_cart_needs_a_login(api, product):
    calls = [
        api.get(CART),
        api.post(CART, {"sku": "TEA-001", "quantity": 1}, format="json"),
        api.patch(f"{CART}1", {"quantity": 1}, format="json"),
        api.delete(f"{CART}1"),
        api.delete(f"{CART}clear"),
    ]
    assert [r.status_code for r in calls] == [401] * 5
    assert all(r.json()["error"]["code"] == "not_authenticated" for r in calls)
    assert not CartItem.objects.exists()


def test_an_empty_cart(alice_api):
    assert alice_api.get(CART).json() == {
        "items": [],
        "count": 0,
        "currency": "CNY",
        "subtotal_cents": 0,
        "discount_cents": 0,
        "shipping_cents": 0,
        "tax_cents": 0,
        "total_cents": 0,
        "total": "¥0.00",
        "discounts": [],
        "rejected_discounts": [],
        "shipping": None,
        "free_shipping": False,
    }


def test_add_to_cart_adds_to_the_existing_line(alice_api, alice, product, make_product):
    first = alice_api.post(CART, {"sku": "TEA-001", "quantity": 2}, format="json")
    assert first.status_code == 201
    line = first.json()
    assert line == {
        "id": line["id"],
        "sku": "TEA-001",
        "name": "西湖龙井",
        "name_en": "West Lake Longjing",
        "quantity": 2,
        "unit_price_cents": 12800,
        "line_total_cents": 25600,
        "stock": 5,
        "image_url": "",
        "url": "/products/TEA-001/",
    }
    again = alice_api.post(CART, {"sku": "TEA-001", "quantity": 1}, format="json")
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["quantity"]) == (line["id"], 3)
    make_product("GREEN-1", price_cents=500)
    assert alice_api.post(CART, {"sku": "GREEN-1", "quantity": "4"}).status_code == 201  # a form works too
    cart = alice_api.get(CART).json()
    assert [(i["sku"], i["quantity"], i["line_total_cents"]) for i in cart["items"]] == [
        ("TEA-001", 3, 38400),
        ("GREEN-1", 4, 2000),
    ]
    assert (cart["total_cents"], cart["count"]) == (40400, 7)
    assert set(cart["items"][0]) == {
        "id",
        "sku",
        "name",
        "name_en",
        "quantity",
        "unit_price_cents",
        "line_total_cents",
        "discount_cents",
        "stock",
        "image_url",
        "url",
    }


def test_unknown_or_inactive_sku_is_a_404(alice_api, alice, make_product):
    make_product("OLD-1", is_active=False)
    for sku in ("NOPE", "OLD-1"):
        response = alice_api.post(CART, {"sku": sku, "quantity": 1}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "unknown_sku"
    assert _lines(alice) == []


def test_more_than_the_stock_is_a_409(alice_api, alice, product):
    response = alice_api.post(CART, {"sku": "TEA-001", "quantity": 6}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert response.json()["error"]["details"]["available"] == 5
    assert _lines(alice) == []


BAD_QUANTITIES = [
    *(-1, 0, 100, 10**30, -(10**30)),  # out of range
    *("abc", "", " ", "1e3", "1_0", "2.0", "١", "１", "🍵"),  # not ASCII digits
    *(1.5, 2.0, True, False, None, [], {}),  # not integers
]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_bad_quantities_are_a_400_when_adding(alice_api, alice, product, quantity):
    response = alice_api.post(CART, {"sku": "TEA-001", "quantity": quantity}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("invalid", "invalid_quantity")
    assert response.json()["error"]["message"]
    assert _lines(alice) == []


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_bad_quantities_are_a_400_when_changing(alice_api, alice, product, quantity):
    item = cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    response = alice_api.patch(f"{CART}{item.id}", {"quantity": quantity}, format="json")
    assert response.status_code == 400, response.content
    assert _lines(alice) == [("TEA-001", 2)]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"sku": "TEA-001", "quantity": NaN}', "application/json"),
        ('{"sku": "TEA-001", "quantity": Infinity}', "application/json"),
        ('{"sku": "TEA-001", "quantity": 1', "application/json"),
        ('["TEA-001", 1]', "application/json"),
        ("null", "application/json"),
        ("sku=TEA-001&quantity=1", "text/plain"),
    ],
)
def test_malformed_bodies_are_refused(alice_api, alice, product, body, content_type):
    response = alice_api.post(CART, body, content_type=content_type)
    assert response.status_code in (400, 415)
    assert response.json()["error"]["code"] in ("parse_error", "invalid", "unsupported_media_type")
    assert _lines(alice) == []


@pytest.mark.parametrize("sku", ["", None, "x" * 33, "TEA\x00001", 42, ["TEA-001"]])
def test_bad_skus_are_refused(alice_api, alice, product, sku):
    response = alice_api.post(CART, {"sku": sku, "quantity": 1}, format="json")
    assert response.status_code in (400, 404)
    assert _lines(alice) == []


def test_change_and_remove_a_line(alice_api, alice, product):
    item = cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    changed = alice_api.patch(f"{CART}{item.id}", {"quantity": 4}, format="json")
    assert changed.status_code == 200
    assert changed.json()["quantity"] == 4 and changed.json()["line_total_cents"] == 4 * 12800
    too_many = alice_api.patch(f"{CART}{item.id}", {"quantity": 6}, format="json")
    assert too_many.status_code == 409
    assert _lines(alice) == [("TEA-001", 4)]
    assert alice_api.delete(f"{CART}{item.id}").status_code == 204
    assert _lines(alice) == []
    assert alice_api.delete(f"{CART}{item.id}").status_code == 404


def test_clear_empties_the_cart(alice_api, alice, product, make_product):
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=make_product(), quantity=2)
    response = alice_api.delete(f"{CART}clear")
    assert response.status_code == 204
    assert _lines(alice) == []
    assert alice_api.delete(f"{CART}clear").status_code == 204  # clearing an empty cart is fine


def test_someone_elses_line_is_not_found_and_stays_unchanged(alice, bob, product):
    item = cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    bob_api = api_client_for(bob)
    for response in (
        bob_api.patch(f"{CART}{item.id}", {"quantity": 1}, format="json"),
        bob_api.delete(f"{CART}{item.id}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "cart_item_not_found"
    assert bob_api.delete(f"{CART}clear").status_code == 204
    cart_get_or_create(shopper=Shopper(user=bob))  # even once bob has a cart of his own
    assert bob_api.delete(f"{CART}{item.id}").status_code == 404
    assert _lines(alice) == [("TEA-001", 2)]
    assert bob_api.get(CART).json()["items"] == []


@pytest.mark.parametrize("item_id", ["abc", "0", "-1", str(2**70), "1.5"])
def test_odd_line_ids_are_a_json_404(alice_api, alice, product, item_id):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    response = alice_api.patch(f"{CART}{item_id}", {"quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "cart_item_not_found"


def test_reading_the_cart_takes_the_same_queries_for_1_or_20_lines(alice, make_product):
    client = api_client_for(alice)
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    counts = []
    for size in (1, 20):
        while cart.items.count() < size:
            cart_add_item(cart=cart, product=make_product(), quantity=1)
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(CART).json()["items"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Product
from orders.models import Order
from orders.services import order_place
from tests.conftest import CONTACT, api_client_for

pytestmark = pytest.mark.django_db

ORDERS = "/api/orders/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def alice_api(alice):
    return api_client_for(alice)


def _fill_cart(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def _stock(sku="TEA-001") -> int:
    return Product.objects.get(sku=sku).stock


def test_orders_need_a_login(api, alice, product):
    _fill_cart(alice, (product, 1))
    order = order_place(user=alice, **CONTACT)
    calls = [
        api.get(ORDERS),
        api.post(ORDERS, CONTACT, format="json"),
        api.get(f"{ORDERS}{order.id}"),
        api.post(f"{ORDERS}{order.id}/cancel"),
        api.post(f"{ORDERS}{order.id}/pay"),
    ]
    assert [r.status_code for r in calls] == [401] * 5
    assert Order.objects.get().status == Order.Status.PENDING


def test_placing_an_order_from_the_cart(alice_api, alice, product, make_product):
    other = make_product("GREEN-1", price_cents=500, stock=3)
    _fill_cart(alice, (product, 2), (other, 3))
    response = alice_api.post(ORDERS, CONTACT, format="json")
    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.id and body["status"] == "PENDING"
    assert body["total_cents"] == 2 * 12800 + 3 * 500
    lines = order.items.order_by("pk")
    assert body["items"] == [
        {"id": lines[0].pk, "sku": "TEA-001", "name": "西湖龙井", "name_en": "West Lake Longjing", "quantity": 2}
        | {"unit_price_cents": 12800, "cancelled": False, "discount_cents": 0},
        {"id": lines[1].pk, "sku": "GREEN-1", "name": "商品 GREEN-1", "name_en": "", "quantity": 3}
        | {"unit_price_cents": 500, "cancelled": False, "discount_cents": 0},
    ]
    money = ("currency", "subtotal_cents", "discount_cents", "shipping_cents", "tax_cents", "total_cents")
    assert [body[key] for key in money] == ["CNY", 27100, 0, 0, 0, 27100]
    assert {k: body[k] for k in CONTACT} == CONTACT
    assert body["created_at"] and body["paid_at"] is None
    assert body["number"] == order.number and len(order.number) == 12
    assert parse_datetime(body["payment_due_at"]) == order.payment_due_at
    assert (body["paid_cents"], body["refunded_cents"]) == (0, 0)
    assert (_stock(), _stock("GREEN-1")) == (3, 0)
    assert not CartItem.objects.exists()


def test_an_empty_cart_is_a_400(alice_api):
    response = alice_api.post(ORDERS, CONTACT, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_cart"


def test_a_short_line_is_a_409_and_changes_nothing(alice_api, alice, product):
    _fill_cart(alice, (product, 4))
    Product.objects.filter(pk=product.pk).update(stock=3)
    response = alice_api.post(ORDERS, CONTACT, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert _stock() == 3 and not Order.objects.exists() and CartItem.objects.count() == 1


def test_the_same_idempotency_key_replays_the_same_order(alice_api, alice, product):
    _fill_cart(alice, (product, 2))
    first = alice_api.post(ORDERS, CONTACT, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")
    again = alice_api.post(ORDERS, CONTACT, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again.json() == first.json()
    assert Order.objects.count() == 1 and _stock() == 3


def test_the_same_key_with_a_different_cart_is_a_409(alice_api, alice, product):
    _fill_cart(alice, (product, 2))
    first = alice_api.post(ORDERS, CONTACT, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")
    _fill_cart(alice, (product, 1))
    clash = alice_api.post(ORDERS, CONTACT, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_conflict"
    assert clash.json()["error"]["details"] == {"order_id": first.json()["id"]}
    assert Order.objects.count() == 1 and _stock() == 3 and CartItem.objects.count() == 1


def test_without_a_key_every_post_is_a_new_order(alice_api, alice, product):
    _fill_cart(alice, (product, 1))
    alice_api.post(ORDERS, CONTACT, format="json")
    _fill_cart(alice, (product, 1))
    alice_api.post(ORDERS, CONTACT, format="json")
    assert Order.objects.count() == 2 and _stock() == 3


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": ["张三"]},
        {"name": "名" * 101},
        {"phone": "1" * 33},
        {"address": "路" * 301},
        {"address": "上海\x00市"},
        {"phone": {"number": 1}},
    ],
)
def test_bad_contact_details_are_a_400_and_order_nothing(alice_api, alice, product, overrides):
    _fill_cart(alice, (product, 1))
    response = alice_api.post(ORDERS, {**CONTACT, **overrides}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert next(iter(overrides)) in response.json()["error"]["details"]
    assert not Order.objects.exists() and _stock() == 5


@pytest.mark.parametrize("body", [{}, {"name": "张三"}, '{"name": ', "[]"])
def test_missing_or_malformed_bodies_are_a_400(alice_api, alice, product, body):
    _fill_cart(alice, (product, 1))
    if isinstance(body, str):
        response = alice_api.post(ORDERS, body, content_type="application/json")
    else:
        response = alice_api.post(ORDERS, body, format="json")
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("key", ["", "k" * 129, "a\x00b"])
def test_bad_idempotency_keys_are_a_400(alice_api, alice, product, key):
    _fill_cart(alice, (product, 1))
    response = alice_api.post(ORDERS, CONTACT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["error"]["details"]
    assert not Order.objects.exists()


def test_order_list_is_newest_first_and_paginated(alice_api, alice, bob, product):
    ids = []
    for _ in range(3):
        _fill_cart(alice, (product, 1))
        ids.append(order_place(user=alice, **CONTACT).id)
    _fill_cart(bob, (product, 1))
    order_place(user=bob, **CONTACT)
    body = alice_api.get(ORDERS, {"limit": 2}).json()
    assert body["count"] == 3
    assert [o["id"] for o in body["results"]] == ids[::-1][:2]
    assert [(item["sku"], item["name"], item["quantity"]) for item in body["results"][0]["items"]] == [
        ("TEA-001", "西湖龙井", 1)
    ]
    assert body["next"] and body["previous"] is None
    assert alice_api.get(ORDERS, {"limit": "0"}).status_code == 400
    assert alice_api.get(ORDERS, {"offset": "x"}).status_code == 400


def test_order_list_query_count_is_constant(alice, make_product):
    client = api_client_for(alice)
    products = [make_product(stock=50) for _ in range(2)]
    counts = []
    for size in (1, 20):
        while Order.objects.count() < size:
            _fill_cart(alice, *((p, 1) for p in products))
            order_place(user=alice, **CONTACT)
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(ORDERS, {"limit": 20}).json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 4


def test_order_detail_and_someone_elses_order(alice_api, alice, bob, product):
    _fill_cart(alice, (product, 1))
    order = order_place(user=alice, **CONTACT)
    response = alice_api.get(f"{ORDERS}{order.id}")
    assert response.status_code == 200 and response.json()["id"] == order.id
    bob_api = api_client_for(bob)
    for call in (
        bob_api.get(f"{ORDERS}{order.id}"),
        bob_api.post(f"{ORDERS}{order.id}/cancel"),
        bob_api.post(f"{ORDERS}{order.id}/pay"),
    ):
        assert call.status_code == 404
        assert call.json()["error"]["code"] == "order_not_found"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and _stock() == 4


@pytest.mark.parametrize("order_id", ["999999", "abc", "0", "-1", str(2**70)])
def test_missing_or_odd_order_ids_are_a_json_404(alice_api, order_id):
    for response in (alice_api.get(f"{ORDERS}{order_id}"), alice_api.post(f"{ORDERS}{order_id}/cancel")):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"


def test_cancel_restores_stock_once_and_twice_is_a_409(alice_api, alice, product):
    _fill_cart(alice, (product, 2))
    order_id = alice_api.post(ORDERS, CONTACT, format="json").json()["id"]
    assert _stock() == 3
    cancelled = alice_api.post(f"{ORDERS}{order_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert _stock() == 5
    twice = alice_api.post(f"{ORDERS}{order_id}/cancel")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "illegal_transition"
    assert _stock() == 5
    assert alice_api.post(f"{ORDERS}{order_id}/pay").status_code == 409


def test_pay_then_cancel(alice_api, alice, product):
    _fill_cart(alice, (product, 1))
    order_id = alice_api.post(ORDERS, CONTACT, format="json").json()["id"]
    paid = alice_api.post(f"{ORDERS}{order_id}/pay")
    assert paid.status_code == 200
    assert paid.json()["status"] == "PAID" and paid.json()["paid_at"]
    again = alice_api.post(f"{ORDERS}{order_id}/pay")
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_transition"
    assert alice_api.post(f"{ORDERS}{order_id}/cancel").json()["status"] == "CANCELLED"
    assert _stock() == 5


def test_a_shopper_buys_end_to_end_with_a_real_bearer_token(product):
    client = APIClient()
    registered = client.post(
        "/api/auth/register", {"username": "dave", "email": "dave@example.com", "password": "a quiet pond"}
    )
    assert registered.status_code == 201
    tokens = client.post("/api/auth/token", {"username": "dave", "password": "a quiet pond"}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.post("/api/cart/", {"sku": "TEA-001", "quantity": 2}, format="json").status_code == 201
    assert client.get("/api/cart/").json()["total_cents"] == 25600
    placed = client.post("/api/orders/", CONTACT, format="json", HTTP_IDEMPOTENCY_KEY="dave-1")
    assert placed.status_code == 201
    order_id = placed.json()["id"]
    assert client.post(f"/api/orders/{order_id}/pay").json()["status"] == "PAID"
    assert [o["id"] for o in client.get("/api/orders/").json()["results"]] == [order_id]
    assert client.get("/api/cart/").json()["items"] == []
    assert _stock() == 3


def test_paying_too_late_is_order_expired_and_cancelling_a_paid_order_shows_the_refund(alice_api, alice, product):
    _fill_cart(alice, (product, 1))
    late = alice_api.post(ORDERS, CONTACT, format="json").json()
    Order.objects.filter(pk=late["id"]).update(payment_due_at=timezone.now() - timedelta(seconds=1))
    response = alice_api.post(f"{ORDERS}{late['id']}/pay")
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_expired"
    assert alice_api.get(f"{ORDERS}{late['id']}").json()["status"] == "EXPIRED"

    _fill_cart(alice, (product, 2))
    order = alice_api.post(ORDERS, CONTACT, format="json").json()
    assert alice_api.post(f"{ORDERS}{order['id']}/pay").json()["paid_cents"] == 25600
    cancelled = alice_api.post(f"{ORDERS}{order['id']}/cancel").json()
    assert (cancelled["status"], cancelled["paid_cents"], cancelled["refunded_cents"]) == ("CANCELLED", 25600, 25600)


def test_a_line_of_someone_elses_order_cannot_be_cancelled_through_any_order(alice_api, alice, bob, product):
    _fill_cart(alice, (product, 1))
    hers = alice_api.post(ORDERS, CONTACT, format="json").json()
    alice_api.post(f"{ORDERS}{hers['id']}/pay")
    _fill_cart(bob, (product, 1))
    bob_api = api_client_for(bob)
    his = bob_api.post(ORDERS, CONTACT, format="json").json()
    assert bob_api.post(f"{ORDERS}{his['id']}/pay").json()["status"] == "PAID"
    her_line = hers["items"][0]["id"]

    through_hers = bob_api.post(f"{ORDERS}{hers['id']}/items/{her_line}/cancel")
    through_his = bob_api.post(f"{ORDERS}{his['id']}/items/{her_line}/cancel")

    assert through_hers.status_code == 404 and through_hers.json()["error"]["code"] == "order_not_found"
    assert through_his.status_code == 404 and through_his.json()["error"]["code"] == "order_item_not_found"
    for line_id in ("abc", "0", "-1", str(2**70), "1.5"):
        odd = bob_api.post(f"{ORDERS}{his['id']}/items/{line_id}/cancel")
        assert odd.status_code == 404 and odd.json()["error"]["code"] == "order_item_not_found"
    after = alice_api.get(f"{ORDERS}{hers['id']}").json()
    assert (after["status"], after["refunded_cents"], after["items"][0]["cancelled"]) == ("PAID", 0, False)
    assert bob_api.get(f"{ORDERS}{his['id']}").json()["refunded_cents"] == 0 and _stock() == 3


def test_an_expired_order_can_be_neither_paid_nor_cancelled_nor_cut(alice_api, alice, product):
    _fill_cart(alice, (product, 2))
    order = alice_api.post(ORDERS, CONTACT, format="json").json()
    Order.objects.filter(pk=order["id"]).update(payment_due_at=timezone.now() - timedelta(seconds=1))
    assert alice_api.post(f"{ORDERS}{order['id']}/pay").json()["error"]["code"] == "order_expired"
    line = order["items"][0]["id"]

    for path in (
        f"{ORDERS}{order['id']}/pay",
        f"{ORDERS}{order['id']}/cancel",
        f"{ORDERS}{order['id']}/items/{line}/cancel",
    ):
        response = alice_api.post(path)
        assert response.status_code == 409, path

    after = alice_api.get(f"{ORDERS}{order['id']}").json()
    assert (after["status"], after["paid_cents"], after["refunded_cents"]) == ("EXPIRED", 0, 0) and _stock() == 5

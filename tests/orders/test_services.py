import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cart.exceptions import EmptyCart
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from orders import services
from orders.exceptions import IdempotencyConflict, IllegalTransition
from orders.models import Order
from orders.services import order_cancel, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL

pytestmark = pytest.mark.django_db


def _fill_cart(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def test_placing_an_order_takes_stock_copies_prices_and_empties_the_cart(alice, product):
    cart = _fill_cart(alice, (product, 2))
    order = order_place(user=alice, **CONTACT)
    product.refresh_from_db()
    assert product.stock == 3
    assert order.total_cents == 2 * 12800
    assert [(i.sku, i.name, i.unit_price_cents, i.quantity) for i in order.items.all()] == [
        ("TEA-001", "西湖龙井", 12800, 2)
    ]
    assert not cart.items.exists()
    product.price_cents = 1
    product.save()
    assert order.items.get().unit_price_cents == 12800


def test_a_short_line_rolls_back_the_whole_order(alice, product, make_product):
    other = make_product(stock=3)
    _fill_cart(alice, (other, 2), (product, 5))
    product.stock = 4
    product.save()
    with pytest.raises(InsufficientStock) as error:
        order_place(user=alice, **CONTACT)
    assert error.value.details["sku"] == "TEA-001"
    other.refresh_from_db()
    assert other.stock == 3
    assert not Order.objects.exists()


def test_a_sold_out_cart_is_refused_by_one_unlocked_read(alice, product):
    _fill_cart(alice, (product, 2))
    product.stock = 1
    product.save()
    with CaptureQueriesContext(connection) as queries, pytest.raises(InsufficientStock) as error:
        order_place(user=alice, **CONTACT)
    assert error.value.details == {"sku": "TEA-001", "requested": 2, "available": 1}
    # No transaction (no SAVEPOINT inside the test's), no lock: a sold-out rush does not queue for the locks.
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"]
    assert " FOR UPDATE" not in queries.captured_queries[0]["sql"]


def test_a_line_sold_after_the_unlocked_read_is_caught_under_the_locks(alice, product, make_product, monkeypatch):
    other = make_product(stock=3)
    _fill_cart(alice, (other, 2), (product, 5))
    read = services.cart_lines_with_stock

    def read_then_another_buyer_takes_one(**arguments):
        lines = read(**arguments)
        Product.objects.filter(pk=product.pk).update(stock=4)
        return lines

    monkeypatch.setattr(services, "cart_lines_with_stock", read_then_another_buyer_takes_one)
    with pytest.raises(InsufficientStock) as error:
        order_place(user=alice, **CONTACT)
    assert error.value.details == {"sku": "TEA-001", "requested": 5, "available": 4}
    other.refresh_from_db()
    assert other.stock == 3
    assert not Order.objects.exists()


def test_an_empty_cart_cannot_be_ordered(alice):
    with pytest.raises(EmptyCart):
        order_place(user=alice, **CONTACT)


def test_cancel_restores_stock_exactly_once(alice, product):
    _fill_cart(alice, (product, 2))
    order = order_place(user=alice, **CONTACT)
    order_cancel(order=order)
    with pytest.raises(IllegalTransition):
        order_cancel(order=order)
    product.refresh_from_db()
    assert product.stock == 5


def test_status_moves_only_along_legal_transitions(alice, product):
    _fill_cart(alice, (product, 1))
    order = order_place(user=alice, **CONTACT)
    order = order_pay(user=alice, order_id=order.pk, return_url=RETURN_URL)
    assert order.status == Order.Status.PAID and order.payments.get().reference.startswith("test_")
    with pytest.raises(IllegalTransition):
        order_pay(user=alice, order_id=order.pk, return_url=RETURN_URL)


def test_idempotency_key_replays_the_same_order_and_refuses_a_different_cart(alice, product):
    _fill_cart(alice, (product, 1))
    first = order_place(user=alice, idempotency_key="k1", **CONTACT)
    again = order_place(user=alice, idempotency_key="k1", **CONTACT)
    assert again.pk == first.pk and again.replayed
    _fill_cart(alice, (product, 2))
    with pytest.raises(IdempotencyConflict):
        order_place(user=alice, idempotency_key="k1", **CONTACT)
    product.refresh_from_db()
    assert product.stock == 4

"""A discount code's limits under racing checkouts, on SQLite, MariaDB and PostgreSQL alike."""

import pytest

from cart.models import CartDiscount
from orders.models import DiscountCode, DiscountRedemption, Order
from tests.orders.test_concurrency import Outcomes, make_buyers, place, race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

BUYERS = 30


def test_thirty_buyers_with_one_single_use_code_discount_exactly_one_order(make_product):
    tea = make_product("TEA-RACE", price_cents=10000, stock=BUYERS)
    single = DiscountCode.objects.create(code="ONLYONE", title="One only", kind="PERCENT", percent=50, usage_limit=1)
    buyers = make_buyers(BUYERS, lambda i: [(tea, 1)])
    CartDiscount.objects.bulk_create(CartDiscount(cart=buyer.cart, code=single) for buyer in buyers)

    outcomes = race(place, buyers)

    # The losers are refused (not charged the full price without a word): they see the code is used up.
    assert Outcomes(outcomes) == {"Order": 1, "DiscountInvalid": BUYERS - 1}
    assert all(o.details["reason"] == "used_up" for o in outcomes if not isinstance(o, Order))
    order = Order.objects.get()
    assert (order.discount_cents, order.total_cents) == (5000, 5000)
    assert DiscountRedemption.objects.get().order == order
    assert DiscountCode.objects.get().used_count == 1
    assert CartDiscount.objects.count() == BUYERS - 1  # the losers keep their cart and see the code refused


def test_a_code_limited_to_five_uses_discounts_five_orders(make_product):
    tea = make_product("TEA-RACE", price_cents=10000, stock=BUYERS)
    five = DiscountCode.objects.create(code="FIVE", title="Five", kind="FIXED", amount_cents=1000, usage_limit=5)
    buyers = make_buyers(BUYERS, lambda i: [(tea, 1)])
    CartDiscount.objects.bulk_create(CartDiscount(cart=buyer.cart, code=five) for buyer in buyers)

    outcomes = race(place, buyers)

    assert Outcomes(outcomes) == {"Order": 5, "DiscountInvalid": BUYERS - 5}
    assert DiscountRedemption.objects.count() == 5 == DiscountCode.objects.get().used_count
    assert tea.__class__.objects.get(pk=tea.pk).stock == BUYERS - 5  # refused buyers took no stock

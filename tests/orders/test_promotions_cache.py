"""The live promotions are cached for cart reads (orders.offers.live_promotions): never stale, never charged."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart.selectors import cart_items, cart_quote
from cart.services import cart_add
from cart.shoppers import Shopper
from orders.models import Order, Promotion
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db


def discount(alice) -> int:
    return cart_quote(cart_items(shopper=Shopper(user=alice))).discount_cents


def promotion(percent=10, **fields) -> Promotion:
    return Promotion.objects.create(kind=Promotion.Kind.PERCENT, title="促销", percent=percent, **fields)


@pytest.fixture
def cart(alice, product):
    cart_add(shopper=Shopper(user=alice), sku=product.sku, quantity=1)
    return product


def promotion_reads(alice) -> int:
    with CaptureQueriesContext(connection) as seen:
        discount(alice)
    return sum("orders_promotion" in query["sql"] for query in seen.captured_queries)


def test_a_second_read_takes_the_promotions_from_the_cache(alice, cart):
    promotion()
    assert promotion_reads(alice) == 1
    assert promotion_reads(alice) == 0


def test_a_new_changed_or_deleted_promotion_shows_on_the_next_read(alice, cart):
    assert discount(alice) == 0
    offer = promotion(percent=10)
    assert discount(alice) == 1280
    offer.percent = 20
    offer.save()
    assert discount(alice) == 2560
    offer.is_active = False
    offer.save()
    assert discount(alice) == 0
    offer.is_active = True
    offer.save()
    offer.delete()
    assert discount(alice) == 0


def test_a_change_of_a_promotions_products_shows_on_the_next_read(alice, cart, make_product):
    other = make_product()
    offer = promotion()
    offer.products.add(other)  # limited to another product: the cart does not qualify
    assert discount(alice) == 0
    offer.products.add(cart)
    assert discount(alice) == 1280
    offer.products.remove(cart)
    assert discount(alice) == 0


def test_a_promotion_starts_and_ends_on_time_without_any_write(alice, cart):
    now = timezone.now()
    promotion(starts_at=now + timedelta(seconds=60), ends_at=now + timedelta(seconds=120))  # sooner than the cache ends
    for later, expected in ((0, 0), (59, 0), (60, 1280), (119, 1280), (120, 0)):
        with mock.patch("orders.offers.timezone.now", return_value=now + timedelta(seconds=later)):
            assert discount(alice) == expected, f"{later} s later"


def test_checkout_prices_with_the_promotions_in_the_database(alice, cart):
    """Even with a cached list that missed a change (a write that sent no signal), the order is charged as the
    database says, inside its transaction."""
    offer = promotion(percent=10)
    assert discount(alice) == 1280  # cached
    Promotion.objects.filter(pk=offer.pk).update(percent=50)  # no signal: the cache does not know
    order = order_place(user=alice, **CONTACT)
    assert Order.objects.get(pk=order.pk).discount_cents == 6400

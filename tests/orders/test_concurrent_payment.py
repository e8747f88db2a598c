"""Paying races: a double click on Pay, or Pay against Cancel, charge the shopper at most once.

Real threads against the real database (SQLite, MariaDB and PostgreSQL alike), with a payment
gateway that counts its charges and takes a moment, like a real processor's round trip.
"""

import threading
import time

import pytest

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Product
from orders.models import Order
from orders.payments import PaymentResult
from orders.services import order_cancel_for_user, order_pay, order_place
from tests.conftest import CONTACT
from tests.orders.test_concurrency import Outcomes, race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


class CountingGateway:
    """Accept every payment after a processor-like pause, and count the charges."""

    charges: list[int] = []
    lock = threading.Lock()

    def charge(self, order) -> PaymentResult:
        time.sleep(0.05)
        with self.lock:
            self.charges.append(order.pk)
        return PaymentResult(ok=True, reference=f"counted_{order.pk}_{len(self.charges)}")


@pytest.fixture
def gateway(settings):
    settings.SHOP_PAYMENT_GATEWAY = f"{__name__}.CountingGateway"
    CountingGateway.charges = []
    return CountingGateway


@pytest.fixture
def pending_order(alice, make_product):
    tea = make_product("TEA-PAY", stock=5, price_cents=1000)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
    return order_place(user=alice, **CONTACT)


def test_ten_simultaneous_payments_of_one_order_charge_once(alice, pending_order, gateway):
    outcomes = race(lambda _: order_pay(user=alice, order_id=pending_order.pk), range(10))

    assert Outcomes(outcomes) == {"Order": 1, "IllegalTransition": 9}
    assert gateway.charges == [pending_order.pk]
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == Order.Status.PAID and order.payment_reference == f"counted_{order.pk}_1"


def test_pay_racing_cancel_never_charges_a_cancelled_order(alice, pending_order, gateway):
    moves = [order_pay, order_cancel_for_user] * 5

    outcomes = race(lambda move: move(user=alice, order_id=pending_order.pk), moves)

    order = Order.objects.get(pk=pending_order.pk)
    stock = Product.objects.get(sku="TEA-PAY").stock
    assert order.status == Order.Status.CANCELLED and stock == 5  # some cancel wins, the stock is back once
    # A charge is only ever for an order that was paid (and then cancelled by the shopper), never lost.
    assert len(gateway.charges) == (1 if order.paid_at else 0), Outcomes(outcomes)

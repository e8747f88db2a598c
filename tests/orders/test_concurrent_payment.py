"""Paying races: a double click on Pay, or Pay against Cancel, move the shopper's money exactly once.

Real threads against the real database (SQLite, MariaDB and PostgreSQL alike), with a payment
provider that counts its charges and refunds and takes a moment, like a real processor's round trip.
"""

import secrets
import threading
import time

import pytest
from django.utils import timezone

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Product
from orders import payments
from orders.models import Order, Payment, Refund
from orders.payments import Charge, PaymentStart
from orders.services import order_cancel_for_user, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL
from tests.orders.test_concurrency import Outcomes, race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


class CountingProvider(payments.PaymentProvider):
    """Accept every payment and refund after a processor-like pause, and count them."""

    name = "test"
    charges: list[int] = []
    refunds: list[int] = []
    lock = threading.Lock()

    def start(self, *, order, return_url):
        time.sleep(0.05)
        with self.lock:
            self.charges.append(order.pk)
        return PaymentStart(charge=Charge(f"counted_{secrets.token_hex(4)}", order.total_cents, timezone.now()))

    def refund(self, *, payment, amount_cents, idempotency_key):
        time.sleep(0.05)
        with self.lock:
            self.refunds.append(amount_cents)
        return f"counted_re_{secrets.token_hex(4)}"


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setitem(payments.PROVIDERS, "test", f"{__name__}.CountingProvider")
    CountingProvider.charges, CountingProvider.refunds = [], []
    return CountingProvider


@pytest.fixture
def pending_order(alice, make_product):
    tea = make_product("TEA-PAY", stock=5, price_cents=1000)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
    return order_place(user=alice, **CONTACT)


def pay(user, order_id):
    return order_pay(user=user, order_id=order_id, return_url=RETURN_URL)


def cancel(user, order_id):
    return order_cancel_for_user(user=user, order_id=order_id)


def test_ten_simultaneous_payments_of_one_order_charge_once(alice, pending_order, provider):
    outcomes = race(lambda _: pay(alice, pending_order.pk), range(10))

    assert Outcomes(outcomes) == {"Order": 1, "IllegalTransition": 9}
    assert provider.charges == [pending_order.pk]
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == Order.Status.PAID and order.paid_cents == 2000
    assert list(Payment.objects.filter(order=order).values_list("amount_cents", flat=True)) == [2000]


def test_pay_racing_cancel_refunds_a_cancelled_paid_order_once(alice, pending_order, provider):
    moves = [pay, cancel] * 5

    outcomes = race(lambda move: move(alice, pending_order.pk), moves)

    order = Order.objects.get(pk=pending_order.pk)
    stock = Product.objects.get(sku="TEA-PAY").stock
    # Some cancel wins, the stock is back once.
    assert order.status == Order.Status.CANCELLED and stock == 5, Outcomes(outcomes)
    # Either nothing was charged, or the one charge was refunded in full, once.
    assert len(provider.charges) <= 1, Outcomes(outcomes)
    assert provider.refunds == [2000] * len(provider.charges)
    assert order.paid_cents == order.refunded_cents == 2000 * len(provider.charges)
    assert Refund.objects.filter(order=order).count() == len(provider.charges)

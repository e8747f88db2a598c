"""Paying races: a double click on Pay, or Pay against Cancel, move the shopper's money exactly once.

Real threads against the real database (SQLite, MariaDB and PostgreSQL alike), with a payment
provider that counts its charges and refunds and takes a moment, like a real processor's round trip.
"""

import secrets
import threading
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Product
from orders import payments
from orders.models import Order, Payment, Refund
from orders.payments import Charge, PaymentStart
from orders.services import order_cancel_for_user, order_expire, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL
from tests.orders.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.orders.test_concurrency import Outcomes, race
from tests.orders.test_stripe import WEBHOOK

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
        return PaymentStart(
            charge=Charge(f"counted_{secrets.token_hex(4)}", order.total_cents, order.currency, timezone.now())
        )

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


# Stripe: notifications arrive on several web processes at once, and the expiry job runs on a worker.


@pytest.fixture
def fake_stripe(settings):
    with FakeStripe() as fake:
        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.url
        yield fake


def checkout(user, order, fake) -> str:
    pay(user, order.pk)
    return next(reversed(fake.sessions))


def deliver(notification):
    payload, signature = notification
    return Client().post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def expire(order_id):
    return order_expire(order_id=order_id)


def test_the_same_notification_delivered_five_times_at_once_pays_once(alice, pending_order, fake_stripe):
    notification = fake_stripe.complete(checkout(alice, pending_order, fake_stripe))

    outcomes = race(lambda _: deliver(notification).status_code, range(5))

    assert outcomes == [200] * 5, Outcomes(outcomes)
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status == Order.Status.PAID and order.paid_cents == 2000 and order.refunded_cents == 0
    assert Payment.objects.count() == 1 and not fake_stripe.refunds


def test_two_notifications_of_one_payment_at_once_record_it_once(alice, pending_order, fake_stripe):
    session_id = checkout(alice, pending_order, fake_stripe)
    notifications = [
        fake_stripe.complete(session_id),
        fake_stripe.complete(session_id, event_type="checkout.session.async_payment_succeeded"),
    ] * 2

    outcomes = race(lambda notification: deliver(notification).status_code, notifications)

    assert outcomes == [200] * 4, Outcomes(outcomes)
    assert Payment.objects.count() == 1 and Order.objects.get(pk=pending_order.pk).paid_cents == 2000
    assert not fake_stripe.refunds


def test_expiry_and_payment_at_the_same_moment_move_the_money_once(alice, make_product, fake_stripe):
    tea = make_product("TEA-RACE-X", stock=10, price_cents=1000)
    rounds = []
    for _ in range(4):
        cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
        order = order_place(user=alice, **CONTACT)
        session_id = checkout(alice, order, fake_stripe)
        due = timezone.now() - timedelta(milliseconds=200)  # the deadline just passed ...
        Order.objects.filter(pk=order.pk).update(payment_due_at=due)
        # ... and the shopper paid just before it: the notification and the expiry job meet.
        notification = fake_stripe.complete(session_id, created=(due - timedelta(seconds=1)).timestamp())
        moves = [(deliver, notification), (expire, order.pk)]
        rounds.append((order, session_id, race(lambda move: move[0](move[1]), moves)))

    for order, session_id, outcomes in rounds:
        order.refresh_from_db()
        refunded = fake_stripe.refunded(fake_stripe.sessions[session_id]["payment_intent"])
        assert outcomes[0].status_code == 200, Outcomes(outcomes)
        if order.status == Order.Status.PAID:  # the payment won: the expiry found nothing to do
            assert outcomes[1] is False and refunded == [] and order.refunded_cents == 0
        else:  # the expiry won: the payment that came too late went straight back, once
            assert order.status == Order.Status.EXPIRED and refunded == [2000] and order.refunded_cents == 2000
        assert order.paid_cents == 2000 and Payment.objects.filter(order=order).count() == 1
    held = sum(2 for order, _, _ in rounds if order.status == Order.Status.PAID)
    assert Product.objects.get(pk=tea.pk).stock == 10 - held

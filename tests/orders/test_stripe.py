"""The Stripe path end to end: the real `stripe` SDK against a local fake of the API, and signed webhooks.

Payment is confirmed only by a notification whose signature checks out; each is applied once, in any
order; money that arrives for an order no longer awaiting it goes straight back.
"""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.models import Order, Payment, PaymentEvent, Refund
from orders.services import order_place
from tests.conftest import CONTACT, api_client_for
from tests.jobs import run_jobs
from tests.orders.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign

pytestmark = pytest.mark.django_db
WEBHOOK = "/payments/stripe/webhook/"


@pytest.fixture
def fake_stripe(settings):
    with FakeStripe() as fake:
        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.url
        yield fake


@pytest.fixture
def order(alice, product):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    return order_place(user=alice, **CONTACT)


def start_checkout(user, order, fake) -> str:
    """Press Pay through the API; return the Checkout Session it made."""
    response = api_client_for(user).post(f"/api/orders/{order.pk}/pay")
    assert response.status_code == 200, response.content
    [session] = [s for s in fake.sessions.values() if s["url"] == response.json()["redirect_url"]]
    return session["id"]


def deliver(notification):
    payload, signature = notification
    return Client().post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def stock(product) -> int:
    product.refresh_from_db()
    return product.stock


def test_pay_opens_a_checkout_session_for_the_order_and_pays_nothing_yet(alice, order, fake_stripe):
    response = api_client_for(alice).post(f"/api/orders/{order.pk}/pay")

    assert response.status_code == 200
    [session] = fake_stripe.sessions.values()
    assert response.json() == {"redirect_url": session["url"]}
    assert session["amount_total"] == order.total_cents == 25600 and session["currency"] == "cny"
    assert session["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert session["client_reference_id"] == order.number
    assert session["success_url"] == session["cancel_url"] == f"http://testserver/orders/{order.number}/"
    assert session["expires_at"] >= int(order.payment_due_at.timestamp())
    assert fresh(order).status == Order.Status.PENDING and not Payment.objects.exists()


def test_the_order_page_sends_the_shopper_to_stripe(alice, order, fake_stripe):
    from tests.conftest import page_client_for

    response = page_client_for(alice).post(f"/orders/{order.number}/pay/")
    [session] = fake_stripe.sessions.values()
    assert response.status_code == 302 and response["Location"] == session["url"]
    page = page_client_for(alice).get(f"/orders/{order.number}/")
    assert "Test payment" not in page.content.decode() and "测试支付" not in page.content.decode()


def test_a_signed_completion_pays_the_order_once_and_a_replay_changes_nothing(alice, order, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    notification = fake_stripe.complete(session_id)

    assert deliver(notification).status_code == 200
    paid = fresh(order)
    payment = paid.payments.get()
    assert paid.status == Order.Status.PAID and paid.paid_cents == 25600 and paid.paid_at
    assert (payment.provider, payment.reference) == ("stripe", fake_stripe.sessions[session_id]["payment_intent"])

    assert deliver(notification).status_code == 200  # Stripe retries a delivery it thinks failed
    # The same payment reported again by another event (async_payment_succeeded) is the same payment.
    again = fake_stripe.complete(session_id, event_type="checkout.session.async_payment_succeeded")
    assert deliver(again).status_code == 200
    assert Payment.objects.count() == 1 and fresh(order).paid_cents == 25600 and not Refund.objects.exists()
    assert PaymentEvent.objects.count() == 2


def _forged(payload: bytes, kind: str) -> str:
    return {
        "missing": "",
        "garbage": "t=1,v1=deadbeef",
        "other-secret": sign(payload, secret="whsec_someone_else"),
        "stale": sign(payload, timestamp=int(time.time()) - 3600),  # a captured request replayed an hour later
    }[kind]


@pytest.mark.parametrize("kind", ["missing", "garbage", "other-secret", "stale"])
def test_a_forged_or_stale_notification_is_refused_and_changes_nothing(alice, order, fake_stripe, kind):
    session_id = start_checkout(alice, order, fake_stripe)
    payload, _good = fake_stripe.complete(session_id)

    response = deliver((payload, _forged(payload, kind)))

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert fresh(order).status == Order.Status.PENDING and not Payment.objects.exists()
    assert not PaymentEvent.objects.exists()


def test_a_tampered_notification_is_refused(alice, order, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    payload, signature = fake_stripe.complete(session_id)
    response = deliver((payload.replace(b'"amount_total": 25600', b'"amount_total": 1'), signature))
    assert response.status_code == 400 and not Payment.objects.exists()


def test_a_payment_after_the_order_expired_is_refunded_automatically(alice, order, product, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    run_jobs(queue="default", at=order.payment_due_at)
    assert fresh(order).status == Order.Status.EXPIRED and stock(product) == 5

    assert deliver(fake_stripe.complete(session_id)).status_code == 200  # the shopper paid anyway, too late

    late = fresh(order)
    intent = fake_stripe.sessions[session_id]["payment_intent"]
    assert late.status == Order.Status.EXPIRED and stock(product) == 5
    assert late.paid_cents == late.refunded_cents == 25600 and fake_stripe.refunded(intent) == [25600]
    assert late.refunds.get().reason == Refund.Reason.NOT_PAYABLE
    assert api_client_for(alice).get(f"/api/orders/{order.pk}").json()["refunded_cents"] == 25600


def test_a_payment_made_in_time_but_notified_after_the_deadline_still_pays(alice, order, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    paid_at = order.payment_due_at - timedelta(seconds=5)
    deliver(fake_stripe.complete(session_id, created=paid_at.timestamp()))
    assert fresh(order).status == Order.Status.PAID and not fake_stripe.refunds


def test_a_payment_made_after_the_deadline_before_the_expiry_job_ran_is_refunded(alice, order, product, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(seconds=10))
    deliver(fake_stripe.complete(session_id, created=(timezone.now() - timedelta(seconds=5)).timestamp()))
    late = fresh(order)
    assert late.status == Order.Status.EXPIRED and stock(product) == 5
    assert late.refunded_cents == 25600 and len(fake_stripe.refunds) == 1


def test_a_completion_for_a_cancelled_order_is_refunded(alice, order, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    assert api_client_for(alice).post(f"/api/orders/{order.pk}/cancel").json()["status"] == "CANCELLED"

    deliver(fake_stripe.complete(session_id))

    cancelled = fresh(order)
    assert cancelled.status == Order.Status.CANCELLED and cancelled.paid_cents == cancelled.refunded_cents == 25600
    assert fake_stripe.refunded(fake_stripe.sessions[session_id]["payment_intent"]) == [25600]


def test_a_second_checkout_paid_for_a_paid_order_is_refunded(alice, order, fake_stripe):
    first, second = start_checkout(alice, order, fake_stripe), start_checkout(alice, order, fake_stripe)
    deliver(fake_stripe.complete(first))
    deliver(fake_stripe.complete(second))
    paid = fresh(order)
    assert paid.status == Order.Status.PAID and paid.paid_cents == 51200 and paid.refunded_cents == 25600
    assert fake_stripe.refunded(fake_stripe.sessions[second]["payment_intent"]) == [25600]
    assert fake_stripe.refunded(fake_stripe.sessions[first]["payment_intent"]) == []


def test_cancelling_a_paid_order_refunds_it_through_stripe_once(alice, order, product, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    deliver(fake_stripe.complete(session_id))
    api = api_client_for(alice)

    body = api.post(f"/api/orders/{order.pk}/cancel").json()

    intent = fake_stripe.sessions[session_id]["payment_intent"]
    assert body["status"] == "CANCELLED" and body["refunded_cents"] == 25600 and stock(product) == 5
    assert fake_stripe.refunded(intent) == [25600]
    assert api.post(f"/api/orders/{order.pk}/cancel").status_code == 409
    # A late replay of the completion (out of order, after the refund) changes nothing.
    deliver(fake_stripe.complete(session_id, event_type="checkout.session.async_payment_succeeded"))
    assert fake_stripe.refunded(intent) == [25600] and fresh(order).refunded_cents == 25600


def test_cancelling_a_line_refunds_that_line_through_stripe(alice, product, make_product, fake_stripe):
    mug = make_product("MUG-S", price_cents=3900, stock=10)
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=mug, quantity=2)
    order = order_place(user=alice, **CONTACT)
    deliver(fake_stripe.complete(start_checkout(alice, order, fake_stripe)))
    line = order.items.get(sku="MUG-S")

    body = api_client_for(alice).post(f"/api/orders/{order.pk}/items/{line.pk}/cancel").json()

    assert body["status"] == "PAID" and body["refunded_cents"] == 7800
    assert [item["cancelled"] for item in body["items"]] == [False, True]
    assert [refund["amount"] for refund in fake_stripe.refunds] == [7800] and stock(mug) == 10


def test_a_refund_stripe_refuses_changes_nothing(alice, order, product, fake_stripe):
    deliver(fake_stripe.complete(start_checkout(alice, order, fake_stripe)))
    fake_stripe.fail_refunds = True

    response = api_client_for(alice).post(f"/api/orders/{order.pk}/cancel")

    assert response.status_code == 502 and response.json()["error"]["code"] == "refund_failed"
    still = fresh(order)
    assert still.status == Order.Status.PAID and still.refunded_cents == 0 and stock(product) == 3
    fake_stripe.fail_refunds = False
    assert api_client_for(alice).post(f"/api/orders/{order.pk}/cancel").json()["refunded_cents"] == 25600


def test_notifications_the_shop_does_not_act_on_are_acknowledged(alice, order, fake_stripe):
    session_id = start_checkout(alice, order, fake_stripe)
    session = {k: v for k, v in fake_stripe.sessions[session_id].items() if k != "params"}
    response = deliver(fake_stripe.event("checkout.session.expired", session))
    assert response.status_code == 200 and json.loads(response.content) == {"received": True}
    assert fresh(order).status == Order.Status.PENDING and not Payment.objects.exists()


@pytest.mark.parametrize("reference", [None, "NOSUCHORDER2"])
def test_a_payment_for_no_order_of_the_shop_is_acknowledged_once_and_changes_nothing(
    alice, order, fake_stripe, caplog, reference
):
    """A Payment Link or another integration on the same Stripe account: answering 4xx would make Stripe retry
    for days and then disable the endpoint, and the shop's own payments would no longer be confirmed."""
    session_id = start_checkout(alice, order, fake_stripe)
    fake_stripe.sessions[session_id]["client_reference_id"] = reference
    notification = fake_stripe.complete(session_id)

    response = deliver(notification)

    assert response.status_code == 200 and response.json() == {"received": True}
    assert PaymentEvent.objects.count() == 1 and not Payment.objects.exists()
    assert fresh(order).status == Order.Status.PENDING and not fake_stripe.refunds
    assert "for no order of the shop" in caplog.text
    assert deliver(notification).status_code == 200 and PaymentEvent.objects.count() == 1


def test_a_payment_in_another_currency_is_refunded_and_the_checkout_asks_for_the_orders_currency(
    alice, order, fake_stripe, settings
):
    settings.SHOP_CURRENCY = "USD"  # the shop changed its currency after the order was placed in yuan
    session_id = start_checkout(alice, order, fake_stripe)
    assert fake_stripe.sessions[session_id]["currency"] == "cny"

    fake_stripe.sessions[session_id]["currency"] = "usd"  # 25600 US cents are not 25600 fen
    deliver(fake_stripe.complete(session_id))

    unpaid = fresh(order)
    assert unpaid.status == Order.Status.PENDING and unpaid.paid_cents == unpaid.refunded_cents == 25600
    assert fake_stripe.refunded(fake_stripe.sessions[session_id]["payment_intent"]) == [25600]

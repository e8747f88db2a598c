"""ACP completion with Stripe shared payment tokens, against the local fake of Stripe's API."""

import pytest

from orders.models import Order, Payment
from orders.services import order_cancel
from tests.agents.test_acp_attacks import ready_session
from tests.agents.test_acp_checkout import valid_error, valid_session
from tests.orders.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def fake_stripe(settings):
    with FakeStripe() as fake:
        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.url
        yield fake


def token(value: str) -> dict:
    return {
        "payment_data": {
            "handler_id": "card_tokenized",
            "instrument": {"type": "card", "credential": {"type": "spt", "token": value}},
        }
    }


def test_a_shared_payment_token_pays_the_order_once(acp, fake_stripe, product, shipping):
    path = ready_session(acp)
    session = valid_session(acp.get(path))
    assert session["capabilities"]["payment"]["handlers"][0]["psp"] == "stripe"
    completed = valid_session(
        acp.post(f"{path}/complete", token("spt_good_1"), key="pay"), definition="CheckoutSessionWithOrder"
    )
    order = Order.objects.get(number=completed["order"]["id"])
    [intent] = fake_stripe.intents.values()
    assert (intent["amount"], intent["currency"], intent["status"]) == (order.total_cents, "cny", "succeeded")
    assert intent["shared_payment_granted_token"] == "spt_good_1" and intent["metadata"]["order_number"] == order.number
    assert (order.status, Payment.objects.get().reference) == (Order.Status.PAID, intent["id"])
    # A replay asks Stripe nothing more.
    acp.post(f"{path}/complete", token("spt_good_1"), key="pay")
    assert len(fake_stripe.intents) == 1 and Payment.objects.count() == 1
    # Cancelling the order refunds the intent.
    order_cancel(order=order)
    assert fake_stripe.refunded(intent["id"]) == [order.total_cents]


@pytest.mark.parametrize("value", ["spt_declined_1", "spt_3ds_1"])
def test_a_declined_token_or_one_needing_the_buyer_orders_nothing(acp, fake_stripe, product, shipping, value):
    path = ready_session(acp)
    declined = valid_session(acp.post(f"{path}/complete", token(value)))
    assert [m["code"] for m in declined["messages"] if m["type"] == "error"] == ["payment_declined"]
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert all(intent["status"] in ("requires_payment_method", "canceled") for intent in fake_stripe.intents.values())


def test_a_token_that_is_no_shared_payment_token_is_refused_before_stripe(acp, fake_stripe, product, shipping):
    path = ready_session(acp)
    valid_error(acp.post(f"{path}/complete", token("tok_visa")), 400, "unsupported")
    assert fake_stripe.intents == {} and not Order.objects.exists()

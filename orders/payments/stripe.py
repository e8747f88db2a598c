"""The `stripe` provider: Stripe Checkout (Stripe's hosted page: no card data and no script of theirs on ours).

A payment is confirmed only by a webhook whose signature checks out against STRIPE_WEBHOOK_SECRET;
the redirect back to the order page proves nothing. Card everywhere, plus Alipay and WeChat Pay for CNY.
STRIPE_API_BASE points the official SDK at another server (the tests' local fake of the API).
"""

from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.exceptions import InvalidSignature, PaymentFailed, RefundFailed
from orders.payments import Charge, PaymentProvider, PaymentStart, ProviderEvent

# Stripe lets a Checkout Session live 30 minutes to 24 hours. A shorter payment deadline still holds: a
# payment that arrives after it is refunded by the order services.
SESSION_MIN_LIFETIME = timedelta(minutes=31)
SESSION_MAX_LIFETIME = timedelta(hours=23)
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def _payment_methods(currency: str) -> list[str]:
    return ["card", "alipay", "wechat_pay"] if currency == "cny" else ["card"]


class StripeProvider(PaymentProvider):
    name = "stripe"

    def start(self, *, order, return_url: str) -> PaymentStart:
        currency = order.currency.lower()  # the order's, even if the shop's currency changed since
        now = timezone.now()
        expires_at = min(max(order.payment_due_at, now + SESSION_MIN_LIFETIME), now + SESSION_MAX_LIFETIME)
        params = {
            "mode": "payment",
            "client_reference_id": order.number,
            "metadata": {"order_number": order.number},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": order.total_cents,
                        "product_data": {"name": _("Order #%(number)s") % {"number": order.number}},
                    },
                }
            ],
            "payment_method_types": _payment_methods(currency),
            "success_url": return_url,
            "cancel_url": return_url,
            "expires_at": int(expires_at.timestamp()),
        }
        if currency == "cny":
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        try:
            session = _client().v1.checkout.sessions.create(params=params)
        except stripe.StripeError as error:
            raise PaymentFailed(order_id=order.pk, provider_error=type(error).__name__) from error
        return PaymentStart(redirect_url=session.url)

    def refund(self, *, payment, amount_cents: int, idempotency_key: str) -> str:
        try:
            refund = _client().v1.refunds.create(
                params={"payment_intent": payment.reference, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise RefundFailed(provider_error=type(error).__name__) from error
        return refund.id

    def parse_event(self, *, payload: bytes, signature: str) -> ProviderEvent:
        try:
            event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise InvalidSignature() from error
        session = event.data.object.to_dict()
        if event.type not in PAID_EVENTS or session.get("payment_status") != "paid":
            return ProviderEvent(id=event.id, type=event.type)
        charge = Charge(
            reference=session["payment_intent"],
            amount_cents=session["amount_total"],
            currency=session["currency"].upper(),
            paid_at=datetime.fromtimestamp(event.created, tz=UTC),
        )
        return ProviderEvent(
            id=event.id, type=event.type, order_number=session.get("client_reference_id") or "", charge=charge
        )

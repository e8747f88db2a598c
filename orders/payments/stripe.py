"""The `stripe` provider: Stripe Checkout (Stripe's hosted page: no card data and no script of theirs on ours),
and agents' shared payment tokens (ACP's delegated payment), charged at once.

A Checkout payment is confirmed only by a webhook whose signature checks out against STRIPE_WEBHOOK_SECRET;
the redirect back to the order page proves nothing. A shared payment token is charged by the API call
itself: its answer (the PaymentIntent succeeded) is the confirmation. Card everywhere, plus Alipay and
WeChat Pay for CNY. STRIPE_API_BASE points the official SDK at another server (the tests' local fake of the API).
"""

import logging
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.exceptions import InvalidSignature, PaymentDeclined, PaymentFailed, PaymentUnsupported, RefundFailed
from orders.payments import Charge, PaymentCredential, PaymentProvider, PaymentStart, ProviderEvent

logger = logging.getLogger(__name__)

# Stripe lets a Checkout Session live 30 minutes to 24 hours. A shorter payment deadline still holds: a
# payment that arrives after it is refunded by the order services.
SESSION_MIN_LIFETIME = timedelta(minutes=31)
SESSION_MAX_LIFETIME = timedelta(hours=23)
SHARED_PAYMENT_TOKEN_PREFIX = "spt_"  # noqa: S105  (Stripe's marker of a shared payment token)
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

    def charge(self, *, order, credential: PaymentCredential, idempotency_key: str) -> Charge:
        """Charge an agent's Stripe shared payment token (`spt_...`, granted to this account) for the order's
        total at once: a PaymentIntent confirmed with it. A decline raises PaymentDeclined; an intent that would
        need the buyer (3-D Secure) is cancelled and declined too, as the shop offers agents no intervention."""
        if not credential.token.startswith(SHARED_PAYMENT_TOKEN_PREFIX):
            raise PaymentUnsupported(_("Stripe takes shared payment tokens (spt_...) only."), provider=self.name)
        params = {
            "amount": order.total_cents,
            "currency": order.currency.lower(),
            "confirm": True,
            "payment_method_data": {"shared_payment_granted_token": credential.token},
            "metadata": {"order_number": order.number},
        }
        client = _client()
        try:
            intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            raise PaymentDeclined(provider_error=error.code or type(error).__name__) from error
        except stripe.StripeError as error:
            raise PaymentFailed(order_id=order.pk, provider_error=type(error).__name__) from error
        if intent.status != "succeeded":
            try:
                client.v1.payment_intents.cancel(intent.id)
            except stripe.StripeError:
                logger.exception("Stripe PaymentIntent %s (%s) could not be cancelled", intent.id, intent.status)
            raise PaymentDeclined(provider_error=f"status_{intent.status}")
        return Charge(
            reference=intent.id,
            amount_cents=intent.amount_received or intent.amount,
            currency=intent.currency.upper(),
            paid_at=datetime.fromtimestamp(intent.created, tz=UTC),
        )

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

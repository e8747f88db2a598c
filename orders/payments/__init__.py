"""Payment providers behind one interface, chosen by `settings.PAYMENT_PROVIDER`.

A provider starts a payment for an order (paid at once, or a page of the provider's to send the shopper
to), refunds part or all of a payment, and reads its own signed notifications (webhooks). What a
payment or a refund does to an order is decided by the order services, the same for every provider.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

from orders.exceptions import PaymentUnsupported

PROVIDERS = {
    "test": "orders.payments.test.TestProvider",
    "stripe": "orders.payments.stripe.StripeProvider",
}


@dataclass(frozen=True)
class Charge:
    """Money a provider confirms it received for an order."""

    reference: str  # the provider's id of the payment, the one its refunds name
    amount_cents: int
    currency: str  # ISO 4217, upper case, as Order.currency
    paid_at: datetime  # when the shopper paid, as the provider says (not when we heard of it)


@dataclass(frozen=True)
class PaymentCredential:
    """What an agent platform obtained from the buyer to pay a checkout session: a token (or a card) for a
    payment handler the shop accepts. Never stored."""

    handler: str  # the handler id the agent chose, e.g. "mock_payment_handler"
    type: str  # "card", "stripe_token", ...
    token: str = ""


@dataclass(frozen=True)
class PaymentStart:
    """How a payment goes on: paid already (`charge`) or on the provider's page (`redirect_url`)."""

    charge: Charge | None = None
    redirect_url: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    """A verified notification from a provider; `charge` is set when it confirms a payment of `order_number`."""

    id: str
    type: str
    order_number: str = ""
    charge: Charge | None = None


class PaymentProvider:
    """The interface every provider implements."""

    name: str

    def start(self, *, order, return_url: str) -> PaymentStart:
        raise NotImplementedError

    def charge(self, *, order, credential: PaymentCredential, idempotency_key: str) -> Charge:
        """Charge `order`'s total with an agent's `credential` at once; raise PaymentDeclined if refused.

        The same `idempotency_key` never charges twice. A provider that cannot take credentials raises
        PaymentUnsupported.
        """
        raise PaymentUnsupported(provider=self.name)

    def refund(self, *, payment, amount_cents: int, idempotency_key: str) -> str:
        """Give `amount_cents` of `payment` back; return the provider's refund reference.

        The same `idempotency_key` never refunds twice, so a retried refund is safe.
        """
        raise NotImplementedError

    def parse_event(self, *, payload: bytes, signature: str) -> ProviderEvent:
        """Verify a notification's signature and read it; raise InvalidSignature when it is not genuine."""
        raise NotImplementedError


def get_provider(name: str | None = None) -> PaymentProvider:
    """Return the configured provider, or the one named (the provider that took a payment refunds it)."""
    return import_string(PROVIDERS[name or settings.PAYMENT_PROVIDER])()

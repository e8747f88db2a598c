"""The `test` provider: every payment succeeds at once and every refund too; no money moves.

For development and test shops only: production settings refuse it unless PAYMENT_TEST_MODE=1.
"""

import secrets

from django.utils import timezone

from orders.exceptions import InvalidSignature
from orders.payments import Charge, PaymentProvider, PaymentStart


class TestProvider(PaymentProvider):
    name = "test"

    def start(self, *, order, return_url: str) -> PaymentStart:
        reference = f"test_{secrets.token_hex(8)}"
        charge = Charge(
            reference=reference, amount_cents=order.total_cents, currency=order.currency, paid_at=timezone.now()
        )
        return PaymentStart(charge=charge)

    def refund(self, *, payment, amount_cents: int, idempotency_key: str) -> str:
        return f"test_re_{secrets.token_hex(8)}"

    def parse_event(self, *, payload: bytes, signature: str):
        raise InvalidSignature()  # the test provider sends no notifications

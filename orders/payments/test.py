"""The `test` provider: every payment succeeds at once and every refund too; no money moves.

Agents' credentials (UCP's `mock_payment_handler`) are accepted, except the token `fail_token`, declined.

For development and test shops only: production settings refuse it unless PAYMENT_TEST_MODE=1.
"""

import hashlib
import secrets

from django.utils import timezone

from orders.exceptions import InvalidSignature, PaymentDeclined
from orders.payments import Charge, PaymentCredential, PaymentProvider, PaymentStart

# The credential token the test provider declines (the UCP conformance suite's `fail_token`).
DECLINED_TOKEN = "fail_token"  # noqa: S105 (a test fixture, not a secret)


class TestProvider(PaymentProvider):
    name = "test"

    def start(self, *, order, return_url: str) -> PaymentStart:
        reference = f"test_{secrets.token_hex(8)}"
        charge = Charge(
            reference=reference, amount_cents=order.total_cents, currency=order.currency, paid_at=timezone.now()
        )
        return PaymentStart(charge=charge)

    def charge(self, *, order, credential: PaymentCredential, idempotency_key: str) -> Charge:
        if credential.token == DECLINED_TOKEN:
            raise PaymentDeclined()
        reference = f"test_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]}"
        return Charge(
            reference=reference, amount_cents=order.total_cents, currency=order.currency, paid_at=timezone.now()
        )

    def refund(self, *, payment, amount_cents: int, idempotency_key: str) -> str:
        return f"test_re_{secrets.token_hex(8)}"

    def parse_event(self, *, payload: bytes, signature: str):
        raise InvalidSignature()  # the test provider sends no notifications

"""Payment gateways. The shop calls `get_gateway().charge(order)`; the test gateway always succeeds."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentResult:
    ok: bool
    reference: str = ""
    message: str = ""


class TestGateway:
    """Accept every payment and return a reference like a real processor would."""

    def charge(self, order) -> PaymentResult:
        return PaymentResult(ok=True, reference=f"test_{secrets.token_hex(8)}")


def get_gateway():
    return import_string(settings.SHOP_PAYMENT_GATEWAY)()

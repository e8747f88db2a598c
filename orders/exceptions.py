from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import Conflict, InvalidInput, NotFound, ShopError


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("No such order.")


class IllegalTransition(Conflict):
    code = "illegal_transition"
    default_message = _("The order cannot move to this status now.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = _("This Idempotency-Key was already used for a different order.")


class PaymentFailed(Conflict):
    code = "payment_failed"
    default_message = _("The payment did not go through.")


class TimeZoneUnavailable(ShopError):
    code = "time_zone_unavailable"
    status = 503
    default_message = _(
        "The database cannot convert dates to the shop's time zone. On MySQL or MariaDB, load its time zone "
        "tables: mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql"
    )


class OrderExpired(Conflict):
    code = "order_expired"
    default_message = _("The time to pay for this order has passed: it expired and its items went back on sale.")


class RefundFailed(ShopError):
    code = "refund_failed"
    status = 502
    default_message = _("The payment provider did not accept the refund. Nothing was changed; please try again.")


class InvalidSignature(InvalidInput):
    code = "invalid_signature"
    default_message = _("The notification's signature is missing or wrong.")


class OrderItemNotFound(NotFound):
    code = "order_item_not_found"
    default_message = _("No such line in this order.")


class LineAlreadyCancelled(Conflict):
    code = "line_already_cancelled"
    default_message = _("This line is already cancelled.")


class DiscountInvalid(InvalidInput):
    """A discount code that does not apply; `details["reason"]` says why in a stable word."""

    code = "discount_invalid"
    default_message = _("This discount code is not valid.")


class ShippingUnavailable(InvalidInput):
    code = "shipping_unavailable"
    default_message = _("This shipping option is not available for the address.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different request.")


class PaymentDeclined(ShopError):
    code = "payment_declined"
    status = 402
    default_message = _("The payment was declined.")


class PaymentUnsupported(InvalidInput):
    code = "payment_unsupported"
    default_message = _("This payment method cannot be charged here.")


class PaymentRequired(InvalidInput):
    code = "payment_required"
    default_message = _("A payment credential is required to complete the checkout.")


class SessionNotFound(NotFound):
    code = "checkout_session_not_found"
    default_message = _("No such checkout session.")


class SessionFinal(Conflict):
    """A completed or canceled session (or one past its expiry) takes no change."""

    code = "checkout_session_final"
    default_message = _("This checkout session is %(status)s and cannot be changed.")

    def __init__(self, message=None, **details):
        super().__init__(message or self.default_message % {"status": details.get("status", "")}, **details)


class SessionChanged(Conflict):
    """The session is no longer the one handed to the shopper (changed, or handed over again)."""

    code = "checkout_session_changed"
    default_message = _("This checkout session changed after its summary was shown.")


class FulfillmentMissing(InvalidInput):
    code = "fulfillment_missing"
    default_message = _("Fulfillment address and option must be selected.")


class ItemNotFound(InvalidInput):
    """A line names a product the shop does not sell (a request's mistake, so 400, not a missing resource)."""

    code = "item_not_found"
    default_message = _("Product not found.")

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

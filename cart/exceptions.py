from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import InvalidInput, NotFound


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"
    default_message = _("This item is not in your cart.")


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"

    def __init__(self, message=None, **details):
        maximum = settings.SHOP_MAX_LINE_QUANTITY
        message = message or _("Quantity must be a whole number from 1 to %(max)d.") % {"max": maximum}
        super().__init__(message, max=maximum, **details)


class EmptyCart(InvalidInput):
    code = "empty_cart"
    default_message = _("Your cart is empty.")


class CartDiscountNotFound(NotFound):
    code = "discount_not_in_cart"
    default_message = _("This discount code is not on your cart.")

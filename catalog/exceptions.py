from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import Conflict, InvalidInput, NotFound


class ProductNotFound(NotFound):
    code = "unknown_sku"
    default_message = _("No product has this SKU.")


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = _("Not enough stock.")


class DuplicateSku(Conflict):
    code = "duplicate_sku"
    default_message = _("A product with this SKU already exists.")


class SearchModeUnavailable(InvalidInput):
    code = "search_mode_unavailable"
    default_message = _("This search mode is not available here; use mode=keyword.")

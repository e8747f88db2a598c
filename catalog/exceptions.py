from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import Conflict, InvalidInput, NotFound


class ProductNotFound(NotFound):
    code = "unknown_sku"
    default_message = _("No product has this SKU.")


class InsufficientStock(Conflict):
    """Fewer units are left than asked for; with `available` given, the message says how many (every door
    shows this one message: the API, pages, the assistant, MCP)."""

    code = "insufficient_stock"
    default_message = _("Not enough stock.")

    def __init__(self, message=None, **details):
        available = details.get("available")
        if message is None and isinstance(available, int):
            if available <= 0:
                message = gettext("Not enough stock. This product is sold out.")
            else:
                message = ngettext(
                    "Not enough stock. Only %(count)d left.", "Not enough stock. Only %(count)d left.", available
                ) % {"count": available}
        super().__init__(message, **details)


class DuplicateSku(Conflict):
    code = "duplicate_sku"
    default_message = _("A product with this SKU already exists.")


class SearchModeUnavailable(InvalidInput):
    code = "search_mode_unavailable"
    default_message = _("This search mode is not available here; use mode=keyword.")


class ImportedStockRefused(Conflict):
    """An import file's stock figure that would undo sales or empty the shelf below zero: the row is refused."""

    code = "imported_stock_refused"
    default_message = _("The file's stock cannot be applied.")

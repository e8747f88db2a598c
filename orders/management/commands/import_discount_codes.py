from catalog.management.importing import ImportCommand, whole_number
from orders.management.offers import OFFER_COLUMNS, offer_save, offer_values
from orders.models import DiscountCode, normalize_code

COLUMNS = ("code", *OFFER_COLUMNS, "usage_limit", "per_customer_limit")


class Command(ImportCommand):
    help = (
        "Create or update discount codes from a CSV or JSON file, matched by code (any case; stored in "
        f"capitals). Columns: {', '.join(COLUMNS)}. kind is percent or fixed; a percent code needs percent "
        "(1-100), a fixed one amount_cents; amounts are in cents; starts_at and ends_at are dates (2026-12-31) "
        "or dates and times in the shop's time zone; stackable, is_active: true/false. A new code needs title "
        "and kind; for an existing one only the given values change (an empty cell leaves the value as it "
        "is). Bad rows are listed with the reason and not imported; importing the same file again changes nothing."
    )
    columns = COLUMNS
    key_columns = ("code",)
    key_label = "code"
    noun, singular = "discount codes", "code"

    def row_key(self, row: dict) -> str:
        return normalize_code(row.get("code") or "")

    def import_row(self, key: str, row: dict, **options) -> str:
        values = offer_values(
            row, DiscountCode.Kind.values, code=None, usage_limit=whole_number, per_customer_limit=whole_number
        )
        offer = DiscountCode.objects.filter(code=key).first() or DiscountCode(code=key)
        return offer_save(offer, values, needs=("title", "kind"))

import re

from catalog.management.importing import ImportCommand, RowError
from catalog.models import Product
from orders.management.offers import OFFER_COLUMNS, offer_save, offer_values
from orders.models import Promotion

COLUMNS = (*OFFER_COLUMNS, "products")


def skus(raw) -> list[str]:
    """A products cell: SKUs separated by spaces or commas (a JSON list of SKUs too)."""
    if isinstance(raw, list) and all(isinstance(sku, str) for sku in raw):
        return [sku.strip() for sku in raw if sku.strip()]
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a list of SKUs")
    return [sku for sku in re.split(r"[\s,]+", raw) if sku]


class Command(ImportCommand):
    help = (
        "Create or update automatic promotions from a CSV or JSON file, matched by title. Columns: "
        f"{', '.join(COLUMNS)}. kind is percent, fixed or free_shipping; a percent promotion needs percent "
        "(1-100), a fixed one amount_cents, free shipping neither; amounts (and min_subtotal_cents, the subtotal "
        "it needs) are in cents; products are SKUs separated by spaces: then only carts of those products "
        "alone qualify. starts_at and ends_at are dates or dates and times in the shop's time zone. A new "
        "promotion needs kind; for an existing one only the given values change. Bad rows are listed with the "
        "reason and not imported; importing the same file again changes nothing."
    )
    columns = COLUMNS
    key_columns = ("title",)
    key_label = "title"
    noun, singular = "promotions", "promotion"

    def import_row(self, key: str, row: dict, **options) -> str:
        if not key:
            raise RowError({"title": "missing"})
        values = offer_values(row, Promotion.Kind.values, title=None, products=skus)
        wanted = values.pop("products", None)
        found = list(Promotion.objects.filter(title=key)[:2])
        if len(found) > 1:
            raise RowError({"title": "two promotions have this title: rename one in the admin"})
        promotion = found[0] if found else Promotion(title=key)
        outcome = offer_save(promotion, values, needs=("kind",))
        if wanted is not None:
            products = {p.sku: p.pk for p in Product.objects.filter(sku__in=wanted)}
            unknown = [sku for sku in wanted if sku not in products]
            if unknown:
                raise RowError({"products": f"no product has the SKU {', '.join(unknown)}"})
            if set(promotion.products.values_list("pk", flat=True)) != set(products.values()):
                promotion.products.set(products.values())
                outcome = "updated" if outcome == "unchanged" else outcome
        return outcome

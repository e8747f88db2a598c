from catalog.management.importing import (
    ImportCommand,
    RowError,
    flag,
    parse_cells,
    save_changes,
    text,
    whole_number,
)
from orders.models import ShippingMethod, ShippingRate

COLUMNS = (
    "method",
    "name",
    "name_en",
    "position",
    "is_active",
    "code",
    "country",
    "region",
    "price_cents",
    "estimated_days",
)
METHOD_COLUMNS = ("name", "name_en", "position", "is_active")
RATE_COLUMNS = ("code", "price_cents", "estimated_days")


def country(raw) -> str:
    return text(raw).strip().upper()


def region(raw) -> str:
    return " ".join(text(raw).split())


class Command(ImportCommand):
    help = (
        "Create or update shipping methods and their rates from a CSV or JSON file, one row per rate. "
        f"Columns: {', '.join(COLUMNS)}. method is the method's code (e.g. standard): rows with the same code "
        "are rates of one method; name, name_en, position and is_active describe the method (a new method needs "
        "name; give them on any of its rows). A rate is matched by method, country (ISO 3166-1 alpha-2, empty "
        "for every other country) and region (empty for the whole country); code is the rate's own optional "
        "code (e.g. exp-ship-us), price_cents its price in cents, estimated_days its delivery time (both needed "
        "for a new rate). Bad rows are listed with the reason and not imported; importing the same file again "
        "changes nothing."
    )
    columns = COLUMNS
    key_columns = ("method", "country", "region")
    required_columns = ("method",)
    key_label = "rate"
    noun, singular = "shipping rates", "rate"

    def row_key(self, row: dict) -> str:
        place = f"{str(row.get('country') or '').strip().upper() or '*'} {str(row.get('region') or '').strip()}"
        return f"{str(row.get('method') or '').strip()} {place}".strip()

    def import_row(self, key: str, row: dict, **options) -> str:
        values = parse_cells(
            row,
            {
                "method": None,
                "position": whole_number,
                "is_active": flag,
                "country": country,
                "region": region,
                "price_cents": whole_number,
                "estimated_days": whole_number,
            },
        )
        code = str(row.get("method") or "").strip()
        if not code:
            raise RowError({"method": "missing: the method's code"})
        method = ShippingMethod.objects.filter(code=code).first() or ShippingMethod(code=code)
        method_outcome = save_changes(method, {n: values[n] for n in METHOD_COLUMNS if n in values}, needs=("name",))
        rate = ShippingRate.objects.filter(
            method=method, country=values.get("country", ""), region=values.get("region", "")
        ).first() or ShippingRate(method=method, country=values.get("country", ""), region=values.get("region", ""))
        rate_outcome = save_changes(
            rate, {n: values[n] for n in RATE_COLUMNS if n in values}, needs=("price_cents", "estimated_days")
        )
        outcomes = {method_outcome, rate_outcome}
        return next(outcome for outcome in ("created", "updated", "unchanged") if outcome in outcomes)

"""`manage.py import_flower_shop FOLDER`: load the UCP conformance suite's `flower_shop` test data through the
shop's own importers (what `make ucp-conformance` seeds a fresh database with)."""

import csv
import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Category

CATEGORY = {"slug": "flowers", "name": "鲜花", "name_en": "Flowers"}
# The suite's rates say nothing of delivery times, which the shop's rates need: these are this converter's.
ESTIMATED_DAYS = {"standard": 5, "express": 2}
FILES = ("products.csv", "inventory.csv", "discounts.csv", "promotions.csv", "shipping_rates.csv", "customers.csv",
         "addresses.csv")  # fmt: skip


class Command(BaseCommand):
    help = (
        "Load the UCP conformance suite's flower_shop folder (products, inventory, discounts, promotions, "
        "shipping rates, customers and addresses) through the shop's importers: each file is written in the "
        "shop's own format, then imported. Products go into the category 'flowers' (made if missing), their "
        "stock set to the inventory's figures; prices are taken as cents of SHOP_CURRENCY (USD for the suite)."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="The flower_shop folder (suite/test_data/flower_shop).")

    def handle(self, *args, folder: Path, **options):
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise CommandError(f"{folder}: no {', '.join(missing)}; give the suite's test_data/flower_shop folder.")
        if settings.SHOP_CURRENCY != "USD":
            self.stderr.write(
                f"Note: the suite's prices are USD cents; this shop's currency is {settings.SHOP_CURRENCY}."
            )
        Category.objects.get_or_create(slug=CATEGORY["slug"], defaults=CATEGORY)
        with tempfile.TemporaryDirectory(prefix="flower-shop-") as work:
            shop = Path(work)
            for command, name, rows, args in (
                ("import_products", "products.csv", products(folder), ["--set-stock"]),
                ("import_discount_codes", "codes.csv", discount_codes(folder), []),
                ("import_promotions", "promotions.csv", promotions(folder), []),
                ("import_shipping", "shipping.csv", shipping(folder), []),
                ("import_agent_buyers", "buyers.csv", buyers(folder), []),
            ):
                path = write_csv(shop / name, rows)
                self.stdout.write(f"{command} ({folder.name}: {len(rows)} rows)")
                call_command(command, str(path), *args, stdout=self.stdout, stderr=self.stderr)


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def products(folder: Path) -> list[dict]:
    stock = {row["product_id"]: row["quantity"] for row in read_csv(folder / "inventory.csv")}
    return [
        {
            "sku": row["id"],
            "name": row["title"],
            "name_en": row["title"],
            "category": CATEGORY["slug"],
            "price_cents": row["price"],
            "stock": stock.get(row["id"], "0"),
        }
        for row in read_csv(folder / "products.csv")
    ]


def discount_codes(folder: Path) -> list[dict]:
    """The suite's codes combine (10OFF then WELCOME20 compound): stackable."""
    kinds = {"percentage": ("percent", "percent"), "fixed_amount": ("fixed", "amount_cents")}
    rows = []
    for row in read_csv(folder / "discounts.csv"):
        kind, column = kinds.get(row["type"], (row["type"], "percent"))
        rows.append(
            {
                "code": row["code"],
                "title": row["description"],
                "title_en": row["description"],
                "kind": kind,
                "percent": row["value"] if column == "percent" else "",
                "amount_cents": row["value"] if column == "amount_cents" else "",
                "stackable": "yes",
            }
        )
    return rows


def promotions(folder: Path) -> list[dict]:
    return [
        {
            "title": row["description"],
            "title_en": row["description"],
            "kind": row["type"],
            "min_subtotal_cents": row["min_subtotal"],
            "products": " ".join(json.loads(row["eligible_item_ids"] or "[]")),
            "stackable": "yes",
        }
        for row in read_csv(folder / "promotions.csv")
    ]


def shipping(folder: Path) -> list[dict]:
    """One method per service level (named after it: Standard Shipping, Express Shipping), one rate per row;
    the rate's id is its code (the UCP option id), country `default` is every other country."""
    return [
        {
            "method": row["service_level"],
            "name": f"{row['service_level'].capitalize()} Shipping",
            "name_en": f"{row['service_level'].capitalize()} Shipping",
            "code": row["id"],
            "country": "" if row["country_code"] == "default" else row["country_code"],
            "price_cents": row["price"],
            "estimated_days": ESTIMATED_DAYS.get(row["service_level"], 5),
        }
        for row in read_csv(folder / "shipping_rates.csv")
    ]


ADDRESS_COLUMNS = ("address_id", "recipient", "phone", "street", "city", "region", "postal_code", "country")


def buyers(folder: Path) -> list[dict]:
    """The address book: one row per address (its id is the one agents see), and a row without an address
    for a customer who has none."""
    addresses: dict[str, list[dict]] = {}
    for row in read_csv(folder / "addresses.csv"):
        addresses.setdefault(row["customer_id"], []).append(row)
    rows = []
    for customer in read_csv(folder / "customers.csv"):
        buyer = {"email": customer["email"], "name": customer["name"], "reference": customer["id"]}
        blank = dict.fromkeys(ADDRESS_COLUMNS, "")
        rows.extend(
            {
                **buyer,
                **blank,
                "address_id": address["id"],
                "recipient": customer["name"],
                "street": address["street_address"],
                "city": address["city"],
                "region": address["state"],
                "postal_code": address["postal_code"],
                "country": address["country"],
            }
            for address in addresses.get(customer["id"], [])
        )
        if customer["id"] not in addresses:
            rows.append({**buyer, **blank})
    return rows

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction

from catalog.management.progress import Progress
from catalog.models import Category, Product
from catalog.services import product_create, product_stock_from_file, product_update
from mcpshop_site.exceptions import ShopError

COLUMNS = (
    "sku",
    "name",
    "name_en",
    "category",
    "price_cents",
    "stock",
    "description",
    "description_en",
    "is_active",
    "is_featured",
)
NEW_PRODUCT_NEEDS = ("name", "category", "price_cents")
INTEGERS = ("price_cents", "stock")
BOOLEANS = {"1": True, "true": True, "yes": True, "y": True, "0": False, "false": False, "no": False, "n": False}


class RowError(Exception):
    """A row that cannot be imported, with one message per field."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (where, sku, why)


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV or JSON file, matched by SKU. Columns (CSV header or JSON keys): "
        f"{', '.join(COLUMNS)}; category is a category slug, prices are in cents. A new product needs name, "
        "category and price_cents; for an existing one only the given values change (an empty CSV cell or a "
        "JSON null leaves the value as it is). Stock counts from the last import: an existing product's stock "
        "moves by the difference between the file's figure and the one the last import gave, so units sold "
        "since stay sold; --set-stock sets the figures as they are. Every row is checked on its own: bad rows "
        "are listed with the reason and not imported, good rows are. Products go through the catalog "
        "services, so they are searchable at once. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .csv file with a header row, or a .json list of objects.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; save nothing.")
        parser.add_argument(
            "--set-stock",
            action="store_true",
            help="Set existing products' stock to the file's figures (a count of the shelves), instead of moving "
            "it by the change since the last import. Units sold meanwhile are not counted: use it right after a count.",
        )
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="The CSV file's encoding (default UTF-8; gb18030 for files saved by Excel on Chinese Windows).",
        )

    @no_translations  # the report is in English throughout, the services' reasons included
    def handle(self, *args, file: Path, dry_run: bool, set_stock: bool, encoding: str, **options):
        rows = read_rows(file, encoding=encoding)
        categories = {category.slug: category for category in Category.objects.all()}
        report = Report()
        seen: dict[str, str] = {}
        with Progress(len(rows), "Checking products" if dry_run else "Importing products", stream=self.stderr) as bar:
            for where, row in rows:
                sku = str(row.get("sku") or "").strip()
                try:
                    if sku in seen:
                        raise RowError({"sku": f"{sku} is already on {seen[sku]} of this file"})
                    outcome = self._import_row(sku, row, categories=categories, dry_run=dry_run, set_stock=set_stock)
                except RowError as error:
                    report.rejected.append((where, sku, str(error)))
                else:
                    setattr(report, outcome, getattr(report, outcome) + 1)
                if sku:
                    seen.setdefault(sku, where)
                bar.advance()
        self._print_report(report, dry_run=dry_run, total=len(rows))

    def _import_row(
        self, sku: str, row: dict, *, categories: dict[str, Category], dry_run: bool, set_stock: bool
    ) -> str:
        """Create or update one product; return "created", "updated" or "unchanged", or raise RowError."""
        if not sku:
            raise RowError({"sku": "missing"})
        values = parse_values(row, categories=categories)
        try:
            with transaction.atomic():
                product = Product.objects.filter(sku=sku).first()
                if product is None:
                    missing = [name for name in NEW_PRODUCT_NEEDS if name not in values]
                    if missing:
                        raise RowError(dict.fromkeys(missing, "required for a new product"))
                    product = product_create(sku=sku, **values)
                    product_stock_from_file(product_id=product.pk, stock=product.stock, absolute=True)
                    outcome = "created"
                else:
                    stock = values.pop("stock", None)
                    changes = {name: value for name, value in values.items() if _differs(product, name, value)}
                    moved = stock is not None and _stock_moves(product, stock, absolute=set_stock)
                    if not changes and not moved:
                        return "unchanged"
                    if moved:
                        product_stock_from_file(product_id=product.pk, stock=stock, absolute=set_stock)
                    if changes:
                        product_update(product=product, **changes)
                    outcome = "updated"
                if dry_run:
                    transaction.set_rollback(True)
        except ShopError as error:
            raise RowError(_field_errors(error)) from None
        return outcome

    def _print_report(self, report: Report, *, dry_run: bool, total: int) -> None:
        for where, sku, why in report.rejected:
            self.stderr.write(f"{where}{f' (SKU {sku})' if sku else ''}: {why}")
        verb = "would be " if dry_run else ""
        summary = (
            f"{total:,} rows: {report.created:,} {verb}created, {report.updated:,} {verb}updated, "
            f"{report.unchanged:,} unchanged, {len(report.rejected):,} rejected."
        )
        if dry_run:
            summary += " Dry run: nothing was saved."
        if report.rejected:
            self.stdout.write(summary)
            count = len(report.rejected)
            rows = "row was" if count == 1 else "rows were"
            if dry_run:
                raise CommandError(f"{count:,} {rows} not valid (listed above). Fix them before importing the file.")
            raise CommandError(
                f"{count:,} {rows} not imported (listed above). Fix them and import the file again: the rows "
                "imported now will show as unchanged."
            )
        self.stdout.write(self.style.SUCCESS(summary))


def read_rows(path: Path, *, encoding: str) -> list[tuple[str, dict]]:
    """Return (where, row) pairs from a CSV or JSON file; refuse a file that cannot be read as a whole."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise CommandError(f"{path}: give a .csv or a .json file.")
    try:
        text = path.read_text(encoding=encoding if suffix == ".csv" else "utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file.") from None
    except UnicodeDecodeError as error:
        raise CommandError(f"{path} is not {encoding} text ({error.reason}); try --encoding gb18030.") from None
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines(keepends=True))
        check_columns(reader.fieldnames or [], path)
        rows = []
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row:
                rows.append((where, {"sku": row.get("sku"), "extra cells": row.pop(None)}))
            else:
                rows.append((where, {name: value.strip() for name, value in row.items() if value and value.strip()}))
        return rows
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CommandError(f"{path}: expected a JSON list of objects, one per product.")
    check_columns({name for item in items for name in item}, path)
    return [
        (f"item {number}", {name: value for name, value in item.items() if value is not None})
        for number, item in enumerate(items, start=1)
    ]


def check_columns(names, path: Path) -> None:
    """Refuse the whole file over an unknown or missing column: a typo must not drop a value silently."""
    unknown = sorted(set(names) - set(COLUMNS))
    if unknown:
        raise CommandError(f"{path}: unknown columns {', '.join(unknown)}. Known columns: {', '.join(COLUMNS)}.")
    if "sku" not in names:
        raise CommandError(f"{path}: no sku column; it says which product each row is.")


def parse_values(row: dict, *, categories: dict[str, Category]) -> dict:
    """Turn a row's cells into product field values; collect every bad cell into one RowError."""
    if "extra cells" in row:
        raise RowError({"row": f"more cells than columns ({row['extra cells']!r} left over)"})
    values, errors = {}, {}
    for name, raw in row.items():
        if isinstance(raw, str) and "\x00" in raw:  # PostgreSQL stores no NUL: refused as Django's forms do
            errors[name] = str(ProhibitNullCharactersValidator.message)
            continue
        if name == "sku":
            continue
        if name == "category":
            slug = str(raw).strip()
            if slug in categories:
                values[name] = categories[slug]
            else:
                errors[name] = f"no category has the slug {slug!r}"
        elif name in INTEGERS:
            number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
                number = int(raw)
            if number is None or number < 0:
                errors[name] = f"{raw!r} is not a whole number, 0 or more"
            else:
                values[name] = number
        elif name in ("is_active", "is_featured"):
            flag = raw if isinstance(raw, bool) else BOOLEANS.get(str(raw).strip().lower())
            if flag is None:
                errors[name] = f"{raw!r} is not one of true/false, yes/no, 1/0"
            else:
                values[name] = flag
        elif isinstance(raw, str):
            values[name] = raw
        else:
            errors[name] = f"{raw!r} is not text"
    if errors:
        raise RowError(errors)
    return values


def _stock_moves(product: Product, stock: int, *, absolute: bool) -> bool:
    """Return whether the file's stock figure changes anything: the stock, or the figure the last import gave."""
    if absolute:
        return (product.stock, product.imported_stock) != (stock, stock)
    return product.imported_stock != stock


def _differs(product: Product, name: str, value) -> bool:
    if name == "category":
        return product.category_id != value.pk  # without loading the current category
    return getattr(product, name) != value


def _field_errors(error: ShopError) -> dict[str, str]:
    """Return a service error as one message per field (InvalidInput carries them all)."""
    fields = error.details.get("fields")
    if fields:
        return {name: " ".join(str(message) for message in messages) for name, messages in fields.items()}
    return {"product": error.message}

"""What the shop's file importers share (products, discount codes, promotions, shipping, customers).

A file is a CSV with a header row, or a JSON list of objects. Every row is checked on its own: bad rows are
listed with one reason per field and not imported, good rows are, each in its own transaction. The report
counts rows created, updated, unchanged and rejected; importing the same file again changes nothing.
A subclass of `ImportCommand` names its columns and its key columns and imports one row.
"""

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from catalog.management.progress import Progress
from mcpshop_site.exceptions import ShopError

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
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (where, key, why)


class ImportCommand(BaseCommand):
    """Import a file row by row.

    Subclasses set `columns`, `key_columns` (they name the row's object; every file has them, or has
    `required_columns`), `key_label` (the report's name for a key), `noun` and `singular`, and write
    `import_row`, which returns "created", "updated" or "unchanged", or raises RowError (a ShopError from a
    service or a model's ValidationError also rejects the row, with its messages).
    """

    columns: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
    required_columns: tuple[str, ...] | None = None  # every file has them (default: the key columns)
    key_label = "key"
    noun, singular = "rows", "row"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .csv file with a header row, or a .json list of objects.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; save nothing.")
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="The CSV file's encoding (default UTF-8; gb18030 for files saved by Excel on Chinese Windows).",
        )

    def row_key(self, row: dict) -> str:
        """The row's key as the report shows it: its key cells, joined by spaces."""
        return " ".join(str(row.get(name) or "").strip() for name in self.key_columns).strip()

    def prepare(self, **options) -> None:
        """Load what every row needs (e.g. the categories by slug) once, before the rows."""

    def import_row(self, key: str, row: dict, **options) -> str:
        raise NotImplementedError

    @no_translations  # the report is in English throughout, the services' and models' reasons included
    def handle(self, *args, file: Path, dry_run: bool, encoding: str, **options):
        required = self.key_columns if self.required_columns is None else self.required_columns
        rows = read_rows(file, encoding=encoding, columns=self.columns, required=required)
        self.prepare(**options)
        report = Report()
        seen: dict[str, str] = {}
        label = f"Checking {self.noun}" if dry_run else f"Importing {self.noun}"
        with Progress(len(rows), label, stream=self.stderr) as bar:
            for where, row in rows:
                key = self.row_key(row)
                try:
                    if "extra cells" in row:
                        raise RowError({"row": f"more cells than columns ({row['extra cells']!r} left over)"})
                    if key in seen:
                        raise RowError({self.key_columns[0]: f"{key} is already on {seen[key]} of this file"})
                    outcome = self._import_atomically(key, row, dry_run=dry_run, **options)
                except RowError as error:
                    report.rejected.append((where, key, str(error)))
                else:
                    setattr(report, outcome, getattr(report, outcome) + 1)
                if key:
                    seen.setdefault(key, where)
                bar.advance()
        self._print_report(report, dry_run=dry_run, total=len(rows))

    def _import_atomically(self, key: str, row: dict, *, dry_run: bool, **options) -> str:
        try:
            with transaction.atomic():
                outcome = self.import_row(key, row, **options)
                if dry_run:
                    transaction.set_rollback(True)
        except ShopError as error:
            raise RowError(_shop_error_fields(error, self.singular)) from None
        except ValidationError as error:
            raise RowError(validation_errors(error)) from None
        return outcome

    def _print_report(self, report: Report, *, dry_run: bool, total: int) -> None:
        for where, key, why in report.rejected:
            self.stderr.write(f"{where}{f' ({self.key_label} {key})' if key else ''}: {why}")
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


def read_rows(path: Path, *, encoding: str, columns, required) -> list[tuple[str, dict]]:
    """Return (where, row) pairs from a CSV or JSON file; refuse a file that cannot be read as a whole.

    Empty CSV cells and JSON nulls are left out of a row (the value stays as it is).
    """
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
        check_columns(reader.fieldnames or [], path, columns=columns, required=required)
        rows = []
        for row in reader:
            where = f"line {reader.line_num}"
            if None in row:
                extra = row.pop(None)
                rows.append((where, {**{name: row.get(name) for name in required}, "extra cells": extra}))
            else:
                rows.append((where, {name: value.strip() for name, value in row.items() if value and value.strip()}))
        return rows
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CommandError(f"{path}: expected a JSON list of objects, one per row.")
    check_columns({name for item in items for name in item}, path, columns=columns, required=required)
    return [
        (f"item {number}", {name: value for name, value in item.items() if value is not None})
        for number, item in enumerate(items, start=1)
    ]


def check_columns(names, path: Path, *, columns, required) -> None:
    """Refuse the whole file over an unknown or missing column: a typo must not drop a value silently."""
    unknown = sorted(set(names) - set(columns))
    if unknown:
        raise CommandError(f"{path}: unknown columns {', '.join(unknown)}. Known columns: {', '.join(columns)}.")
    missing = [name for name in required if name not in names]
    if missing:
        raise CommandError(f"{path}: no {', '.join(missing)} column; it says which row is which.")


# Cell parsers: each takes a cell (text from a CSV, any JSON value) and returns the value or raises ValueError.


def text(raw) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not text")
    return raw


def whole_number(raw) -> int:
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        number = int(raw)
    if number is None or number < 0:
        raise ValueError(f"{raw!r} is not a whole number, 0 or more")
    return number


def flag(raw) -> bool:
    value = raw if isinstance(raw, bool) else BOOLEANS.get(str(raw).strip().lower())
    if value is None:
        raise ValueError(f"{raw!r} is not one of true/false, yes/no, 1/0")
    return value


def moment(raw) -> datetime:
    """A date (its midnight) or a date and time, ISO 8601; without an offset, in the shop's time zone."""
    raw = text(raw).strip()
    try:
        value = parse_datetime(raw)
        if value is None and (day := parse_date(raw)) is not None:
            value = datetime.combine(day, time())
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"{raw!r} is not a date (2026-12-31) or a date and time (2026-12-31 18:00)")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def parse_cells(row: dict, parsers: dict) -> dict:
    """Turn a row's cells into values with `parsers` (column -> parser, None to leave a column out, text by
    default); collect every bad cell into one RowError."""
    values, errors = {}, {}
    for name, raw in row.items():
        if isinstance(raw, str) and "\x00" in raw:  # PostgreSQL stores no NUL: refused as Django's forms do
            errors[name] = str(ProhibitNullCharactersValidator.message)
            continue
        parser = parsers.get(name, text)
        if parser is None:
            continue
        try:
            values[name] = parser(raw)
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise RowError(errors)
    return values


def save_changes(obj, values: dict, *, needs: tuple[str, ...] = (), check=None) -> str:
    """Apply `values` to a model object (new: unsaved) and, if anything changed, check it (`check(obj)` may
    raise RowError, then the model's own validation, as the admin's) and save it; return the outcome."""
    created = obj.pk is None
    if created:
        missing = [name for name in needs if name not in values]
        if missing:
            raise RowError(dict.fromkeys(missing, f"required for a new {obj._meta.verbose_name}"))
    changes = {name: value for name, value in values.items() if created or getattr(obj, name) != value}
    if not changes and not created:
        return "unchanged"
    for name, value in changes.items():
        setattr(obj, name, value)
    if check is not None:
        check(obj)
    obj.full_clean()
    obj.save()
    return "created" if created else "updated"


def validation_errors(error: ValidationError) -> dict[str, str]:
    """Return a model's ValidationError as one message per field."""
    if hasattr(error, "error_dict"):
        return {name: " ".join(messages) for name, messages in error.message_dict.items()}
    return {"row": " ".join(error.messages)}


def _shop_error_fields(error: ShopError, noun: str) -> dict[str, str]:
    """Return a service error as one message per field (InvalidInput carries them all)."""
    fields = error.details.get("fields")
    if fields:
        return {name: " ".join(str(message) for message in messages) for name, messages in fields.items()}
    return {noun: error.message}

"""What the discount code and promotion importers share: an offer's columns, their parsing and saving."""

from catalog.management.importing import RowError, flag, moment, parse_cells, save_changes, whole_number

OFFER_COLUMNS = (
    "title",
    "title_en",
    "kind",
    "percent",
    "amount_cents",
    "min_subtotal_cents",
    "starts_at",
    "ends_at",
    "stackable",
    "is_active",
)
VALUE_COLUMNS = {"PERCENT": "percent", "FIXED": "amount_cents"}  # the one value column of each kind


def offer_values(row: dict, kinds, **parsers) -> dict:
    """Parse an offer's cells. A row that gives the kind clears the value column the kind does not use."""

    def kind(raw) -> str:
        value = str(raw).strip().upper().replace(" ", "_").replace("-", "_")
        if value not in kinds:
            raise ValueError(f"{raw!r} is not one of {', '.join(k.lower() for k in kinds)}")
        return value

    values = parse_cells(
        row,
        {
            "kind": kind,
            "percent": whole_number,
            "amount_cents": whole_number,
            "min_subtotal_cents": whole_number,
            "starts_at": moment,
            "ends_at": moment,
            "stackable": flag,
            "is_active": flag,
            **parsers,
        },
    )
    if "kind" in values:
        for column in VALUE_COLUMNS.values():
            if VALUE_COLUMNS.get(values["kind"]) != column:
                values.setdefault(column, None)
    return values


def offer_save(offer, values: dict, *, needs: tuple[str, ...]) -> str:
    """Apply `values` to an offer (new: unsaved) and save it if anything changed; return the outcome.

    A kind without its value, or with another's, is said in plain words (not as a database constraint's name).
    """
    return save_changes(offer, values, needs=needs, check=_value_fits_kind)


def _value_fits_kind(offer) -> None:
    wanted = VALUE_COLUMNS.get(offer.kind)
    for column in VALUE_COLUMNS.values():
        if column == wanted and getattr(offer, column) is None:
            raise RowError({column: f"required for a {offer.kind.lower()} offer"})
        if column != wanted and getattr(offer, column) is not None:
            raise RowError({column: f"not used by a {offer.kind.lower()} offer: leave it empty"})

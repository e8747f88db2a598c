from catalog.management.importing import ImportCommand, RowError, parse_cells, save_changes
from mcpshop_site.countries import COUNTRY_CODES
from ucp.models import Buyer, BuyerAddress

COLUMNS = ("email", "name", "reference", "address_id", "recipient", "phone", "street", "city", "region",
           "postal_code", "country")  # fmt: skip
ADDRESS_COLUMNS = ("street", "city", "region", "postal_code", "country")


class Command(ImportCommand):
    help = (
        "Create or update the buyers agents may name by email (UCP's address book) and their addresses, from a "
        f"CSV or JSON file. Columns: {', '.join(COLUMNS)}. One row per address (address_id, unique per buyer, "
        "is the id agents see, e.g. addr_1; country is an ISO 3166-1 code), or one row with no address_id for "
        "a buyer without addresses. name and reference (your customer number) describe the buyer. These "
        "addresses are offered to any agent that names the buyer's email. Bad rows are listed with the reason "
        "and not imported; importing the same file again changes nothing."
    )
    columns = COLUMNS
    key_columns = ("email", "address_id")
    required_columns = ("email",)
    key_label = "buyer and address"
    noun, singular = "buyers' addresses", "address"

    def row_key(self, row: dict) -> str:
        return f"{str(row.get('email') or '').strip().lower()} {str(row.get('address_id') or '').strip()}".strip()

    def import_row(self, key: str, row: dict, **options) -> str:
        values = {name: value.strip() for name, value in parse_cells(row, {}).items()}
        email = values.pop("email", "").lower()
        buyer = Buyer.objects.filter(email=email).first() or Buyer(email=email)
        outcome = save_changes(buyer, {name: values.pop(name) for name in ("name", "reference") if name in values})
        address_id = values.pop("address_id", "")
        if not address_id:
            if values:
                raise RowError({"address_id": "required with an address"})
            return outcome
        if "country" in values:
            values["country"] = values["country"].upper()
            if values["country"] not in COUNTRY_CODES:
                raise RowError({"country": f"{values['country']!r} is not an ISO 3166-1 country code"})
        values["name"] = values.pop("recipient", values.get("name", ""))
        address = BuyerAddress.objects.filter(buyer=buyer, owner="", address_id=address_id).first()
        address = address or BuyerAddress(buyer=buyer, owner="", address_id=address_id)
        changed = save_changes(address, values, needs=("country",))
        return "updated" if changed == "unchanged" and outcome != "unchanged" else changed

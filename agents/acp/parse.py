"""ACP request bodies read into plain values for the checkout-session core, every fault a 400 with its JSONPath.

Fields the shop does not use (affiliate attribution, intent traces, order notes, risk signals...) are
ignored, as the spec asks of unknown fields; the fields it uses are checked for their type and size here,
and for their meaning (a product that exists, an address the shop ships to) by the core.
`null` clears a field and an absent field is left as it is (the spec's rule for updates).
"""

from django.utils.translation import gettext as _

from agents.acp.errors import AcpError

MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_TEXT = 200
MAX_CODES = 5
ABSENT = object()


def _invalid(path: str, message) -> AcpError:
    return AcpError(400, "invalid", message, param=path)


def _object(value, path: str, *, nullable: bool = False) -> dict | None:
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        raise _invalid(path, _("%(path)s must be an object.") % {"path": path})
    return value


def _list(value, path: str, *, limit: int) -> list:
    if not isinstance(value, list):
        raise _invalid(path, _("%(path)s must be an array.") % {"path": path})
    if len(value) > limit:
        raise _invalid(path, _("%(path)s may have at most %(limit)d entries.") % {"path": path, "limit": limit})
    return value


def _text(value, path: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _invalid(path, _("%(path)s must be a string.") % {"path": path})
    value = value.strip()
    if required and not value:
        raise _invalid(path, _("%(path)s is required.") % {"path": path})
    if len(value) > limit:
        raise _invalid(path, _("%(path)s is too long.") % {"path": path})
    return value


def line_items(value, path: str = "$.line_items") -> list[tuple[str, int]]:
    """Return the items as (item id, quantity); quantity defaults to 1 (the 2026-04-17 Item carries none)."""
    items = _list(value, path, limit=MAX_LINES)
    if not items:
        raise _invalid(path, _("At least one item is required."))
    lines: list[tuple[str, int]] = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        item = _object(item, where)
        item_id = _text(item.get("id"), f"{where}.id", required=True, limit=64)
        quantity = item.get("quantity", 1)
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise _invalid(
                f"{where}.quantity",
                _("The quantity must be a whole number from 1 to %(limit)d.") % {"limit": MAX_QUANTITY},
            )
        if any(existing == item_id for existing, _quantity in lines):
            raise _invalid(f"{where}.id", _("Each item may be listed once; give its quantity instead."))
        lines.append((item_id, quantity))
    return lines


def buyer(value, path: str = "$.buyer") -> dict | None:
    """Return the buyer as {email, first_name, last_name, phone}, or None for `null` (clear it)."""
    given = _object(value, path, nullable=True)
    if given is None:
        return None
    first = _text(given.get("first_name"), f"{path}.first_name")
    last = _text(given.get("last_name"), f"{path}.last_name")
    if not (first or last):
        first = _text(given.get("full_name"), f"{path}.full_name")
    return {
        "email": _text(given.get("email"), f"{path}.email", required=True, limit=254),
        "first_name": first,
        "last_name": last,
        "phone": _text(given.get("phone_number"), f"{path}.phone_number", limit=32),
    }


def address(value, path: str) -> dict:
    """Return an ACP Address as its fields, each checked for type and size."""
    given = _object(value, path)
    fields = {}
    for field in ("name", "line_one", "line_two", "city", "state", "country", "postal_code"):
        required = field in ("line_one", "city", "country")
        fields[field] = _text(given.get(field), f"{path}.{field}", required=required)
    if len(fields["country"]) != 2 or not fields["country"].isascii() or not fields["country"].isalpha():
        raise _invalid(f"{path}.country", _("The country must be an ISO 3166-1 alpha-2 code."))
    fields["country"] = fields["country"].upper()
    return fields


def fulfillment_details(value, path: str = "$.fulfillment_details") -> dict | None:
    """Return {name, phone, email, address (or None)}, or None for `null` (clear the destination)."""
    given = _object(value, path, nullable=True)
    if given is None:
        return None
    raw_address = given.get("address")
    return {
        "name": _text(given.get("name"), f"{path}.name"),
        "phone": _text(given.get("phone_number"), f"{path}.phone_number", limit=32),
        "email": _text(given.get("email"), f"{path}.email", limit=254),
        "address": None if raw_address is None else address(raw_address, f"{path}.address"),
    }


def selected_option(value, path: str = "$.selected_fulfillment_options") -> str | None:
    """Return the shipping option chosen (the first selection's option_id), or None when the list is empty."""
    if value is None:
        return None
    selections = _list(value, path, limit=MAX_LINES)
    for index, selection in enumerate(selections):
        where = f"{path}[{index}]"
        selection = _object(selection, where)
        if selection.get("type", "shipping") != "shipping":
            raise _invalid(f"{where}.type", _("This shop only ships: the fulfillment type must be shipping."))
        nested = selection.get("shipping")
        if isinstance(nested, dict):  # the OpenAPI example's form: {"type": "shipping", "shipping": {...}}
            selection, where = nested, f"{where}.shipping"
        return _text(selection.get("option_id"), f"{where}.option_id", required=True, limit=100)
    return None


def discount_codes(body: dict) -> list[str] | object:
    """Return `discounts.codes` (or the deprecated `coupons`), replacing the session's; ABSENT when neither is sent."""
    if "discounts" in body:
        discounts = _object(body["discounts"], "$.discounts", nullable=True) or {}
        if "codes" not in discounts:
            return ABSENT if body["discounts"] is not None else []
        value, path = discounts["codes"], "$.discounts.codes"
    elif "coupons" in body:
        value, path = body["coupons"], "$.coupons"
    else:
        return ABSENT
    if value is None:
        return []
    codes = _list(value, path, limit=MAX_CODES)
    return [_text(code, f"{path}[{index}]", required=True, limit=64) for index, code in enumerate(codes)]


def checkout_changes(body: dict, *, create: bool) -> dict:
    """Return what a create or update body sets: only the keys it sends (lines, buyer, fulfillment, option, codes)."""
    changes: dict = {}
    if create or "line_items" in body:
        changes["lines"] = line_items(body.get("line_items"))
    if "buyer" in body:
        changes["buyer"] = buyer(body["buyer"])
    if "fulfillment_details" in body:
        changes["fulfillment"] = fulfillment_details(body["fulfillment_details"])
    if "selected_fulfillment_options" in body:
        changes["shipping_option"] = selected_option(body["selected_fulfillment_options"])
    codes = discount_codes(body)
    if codes is not ABSENT:
        changes["codes"] = codes
    if "capabilities" in body:
        _object(body["capabilities"], "$.capabilities", nullable=True)
    return changes


def currency(body: dict, shop_currency: str) -> None:
    """Refuse a create whose currency is not the shop's (prices are only ever in the shop's currency)."""
    value = _text(body.get("currency"), "$.currency", required=True, limit=3)
    if value.lower() != shop_currency.lower():
        raise _invalid("$.currency", _("This shop sells in %(currency)s only.") % {"currency": shop_currency.lower()})


def locale(body: dict) -> str:
    """Return the create body's `locale` ("" without one); refuse one that is not a string of a tag's size."""
    return _text(body.get("locale"), "$.locale", limit=35)


def payment_token(body: dict, *, handler_ids: set[str]) -> tuple[str, str, str]:
    """Return the (handler id, instrument type, token) a complete body pays with; refuse any other form of payment."""
    data = _object(body.get("payment_data"), "$.payment_data")
    if "handler_id" not in data and "purchase_order_number" in data:
        raise AcpError(400, "unsupported", _("This shop takes no purchase orders."), param="$.payment_data")
    handler = _text(data.get("handler_id"), "$.payment_data.handler_id", required=True, limit=100)
    if handler not in handler_ids:
        raise _invalid("$.payment_data.handler_id", _("Unknown payment handler: %(id)s.") % {"id": handler})
    instrument = _object(data.get("instrument"), "$.payment_data.instrument")
    kind = _text(instrument.get("type"), "$.payment_data.instrument.type", required=True, limit=50)
    credential = _object(instrument.get("credential"), "$.payment_data.instrument.credential")
    token = _text(credential.get("token"), "$.payment_data.instrument.credential.token", required=True, limit=500)
    return handler, kind, token

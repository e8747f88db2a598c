"""UCP checkout bodies <-> the checkout-session core: requests read into the core's fields, sessions rendered
as UCP Checkout objects. Lenient as UCP asks: unknown or echoed fields (ids, totals, options, handlers) are
ignored; what the core needs is checked by the core."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from mcpshop_site.exceptions import InvalidInput
from orders.checkout_sessions import HAND_OFF_MESSAGE, SessionView, clean_destination
from orders.models import CheckoutSession
from orders.payments import PaymentCredential
from policies.models import Policy
from policies.selectors import policy_links
from ucp.addresses import addresses_for, addresses_remember
from ucp.protocol import checkout_capabilities, payment_handlers, response_ucp

METHOD_ID = "shipping"
GROUP_ID = "group_1"
# UCP address fields -> the core's destination fields.
ADDRESS_FIELDS = {
    "street_address": "street",
    "address_locality": "city",
    "address_region": "region",
    "postal_code": "postal_code",
    "address_country": "country",
    "phone_number": "phone",
}
# The shop's policy pages -> UCP's well-known link types (checkout.md, "Well-Known Link Types").
LINK_TYPES = {
    Policy.Kind.PRIVACY: "privacy_policy",
    Policy.Kind.TERMS: "terms_of_service",
    Policy.Kind.RETURNS: "refund_policy",
    Policy.Kind.SHIPPING: "shipping_policy",
}


def _object(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(_("%(field)s must be an object.") % {"field": field}, field=field)
    return value


def _list(value, field: str) -> list:
    if not isinstance(value, list):
        raise InvalidInput(_("%(field)s must be a list.") % {"field": field}, field=field)
    return value


def _lines(line_items) -> list[dict]:
    lines = []
    for line in _list(line_items, "line_items"):
        line = _object(line, "line_items")
        item = _object(line.get("item"), "item")
        lines.append({"id": line.get("id"), "sku": item.get("id"), "quantity": line.get("quantity")})
    return lines


def _buyer(buyer) -> dict:
    buyer = _object(buyer, "buyer")
    return {
        "email": buyer.get("email"),
        "first_name": buyer.get("first_name"),
        "last_name": buyer.get("last_name"),
        "full_name": buyer.get("full_name") or buyer.get("fullName"),
        "phone": buyer.get("phone_number"),
        "consent": buyer.get("consent"),
    }


def _destination(address) -> dict:
    """Return a UCP address as a checked core destination (its id may be empty)."""
    address = _object(address, "destinations")
    name = " ".join(
        part for part in (address.get("first_name"), address.get("last_name")) if isinstance(part, str) and part
    )
    typed = {core: address.get(field) for field, core in ADDRESS_FIELDS.items()}
    return clean_destination({**typed, "id": address.get("id"), "name": name or address.get("full_name")})


def _payment(payment) -> dict:
    """Return what is kept of a payment selection: the instrument chosen and the instruments without credentials."""
    payment = _object(payment, "payment")
    kept = {}
    if isinstance(payment.get("selected_instrument_id"), str):
        kept["selected_instrument_id"] = payment["selected_instrument_id"][:100]
    instruments = payment.get("instruments")
    if isinstance(instruments, list):
        kept["instruments"] = [
            {key: value for key, value in instrument.items() if key != "credential"}
            for instrument in instruments[:10]
            if isinstance(instrument, dict)
        ]
    return kept


def _fulfillment(fulfillment, *, owner: str, email: str, current: CheckoutSession | None, user) -> dict:
    """Return the core's changes for a UCP fulfillment: the (single) shipping method's destinations, the
    selected destination and the selected option of its (single) group. Omitted parts keep their values; a
    method sent without destinations, on a session without any, is given the buyer's address book (a linked
    shopper's: their own saved addresses)."""
    methods = _list(_object(fulfillment, "fulfillment").get("methods") or [], "methods")
    if not methods:
        return {}
    method = _object(methods[0], "methods")
    if method.get("type", "shipping") != "shipping":
        raise InvalidInput(_("Only shipping is offered."), field="type")
    changes: dict = {"extra": {**(current.extra if current else {}), "fulfillment": True}}
    if method.get("destinations") is not None:
        destinations = [_destination(address) for address in _list(method["destinations"], "destinations")]
        changes["destinations"] = addresses_remember(owner=owner, email=email, destinations=destinations, user=user)
    elif not (current and current.destinations):
        changes["destinations"] = addresses_for(owner=owner, email=email, user=user)
    if "selected_destination_id" in method:
        changes["destination_id"] = method["selected_destination_id"] or ""
    groups = method.get("groups")
    if isinstance(groups, list) and groups and isinstance(groups[0], dict) and "selected_option_id" in groups[0]:
        changes["shipping_option"] = groups[0]["selected_option_id"] or ""
    return changes


def session_changes(body: dict, *, owner: str, current: CheckoutSession | None = None, user=None) -> dict:
    """Return the core's fields for a create (`current` None) or update body; only what the body carries.

    For a session linked to the shopper `user` (ucp.identity), the buyer's email is the account's (the order's
    emails go there) and the address book is the account's own.
    """
    currency = body.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency.upper() != settings.SHOP_CURRENCY):
        raise InvalidInput(
            _("This shop sells in %(currency)s.") % {"currency": settings.SHOP_CURRENCY}, field="currency"
        )
    changes = {}
    if "line_items" in body or current is None:
        changes["lines"] = _lines(body.get("line_items"))
    if body.get("buyer") is not None:
        changes["buyer"] = _buyer(body["buyer"])
    if user is not None and user.email and ("buyer" in changes or current is None):
        changes["buyer"] = {**changes.get("buyer", {}), "email": user.email}
    email = (changes.get("buyer") or (current.buyer if current else {})).get("email") or ""
    if body.get("fulfillment") is not None:
        changes.update(_fulfillment(body["fulfillment"], owner=owner, email=str(email), current=current, user=user))
    discounts = body.get("discounts")
    if discounts is not None:
        changes["codes"] = _object(discounts, "discounts").get("codes") or []
    if body.get("payment") is not None:
        changes["payment"] = _payment(body["payment"])
    return changes


def credential_of(body: dict) -> PaymentCredential | None:
    """Return the payment credential of a complete body (`payment_data`), or None when it carries none."""
    instrument = body.get("payment_data")
    if not isinstance(instrument, dict) or not isinstance(instrument.get("credential"), dict):
        return None
    credential = instrument["credential"]
    handler, kind, token = instrument.get("handler_id"), credential.get("type"), credential.get("token", "")
    if not isinstance(handler, str) or not isinstance(kind, str) or not kind or not isinstance(token, str):
        return None
    if handler not in {h["id"] for h in payment_handlers()}:
        raise InvalidInput(_("The payment handler %(handler)s is not accepted here.") % {"handler": handler[:64]})
    return PaymentCredential(handler=handler, type=kind[:32], token=token)


def _total(kind: str, amount: int, text: str = "") -> dict:
    return {"type": kind, "amount": amount, **({"display_text": text} if text else {})}


def _address(destination: dict) -> dict:
    address = {"id": destination["id"]}
    for field, core in ADDRESS_FIELDS.items():
        if destination.get(core):
            address[field] = destination[core]
    if destination.get("name"):
        address["full_name"] = destination["name"]
    return address


def option_title(option, *, free: bool) -> str:
    """Return a shipping option's title as UCP shows it (free shipping says so)."""
    return f"{option.display_name} ({_('Free')})" if free and option.price_cents == 0 else option.display_name


def _fulfillment_body(view: SessionView, line_ids: list[str]) -> dict | None:
    session = view.session
    if not (session.extra.get("fulfillment") or session.destinations):
        return None
    method = {"id": METHOD_ID, "type": "shipping", "line_item_ids": line_ids}
    if session.destinations:
        method["destinations"] = [_address(destination) for destination in session.destinations]
    if session.destination_id:
        method["selected_destination_id"] = session.destination_id
    if session.destination is not None:
        group = {
            "id": GROUP_ID,
            "line_item_ids": line_ids,
            "options": [
                {
                    "id": option.code,
                    "title": option_title(option, free=view.quote.free_shipping),
                    "description": _("Arrives in %(days)d days") % {"days": option.estimated_days},
                    "totals": [_total("subtotal", option.price_cents), _total("total", option.price_cents)],
                }
                for option in view.quote.options
            ],
        }
        if view.quote.shipping is not None:
            group["selected_option_id"] = view.quote.shipping.code
        method["groups"] = [group]
    return {"methods": [method]}


def _money(view: SessionView) -> tuple[int, list[dict], int | None, int, int]:
    """Return (subtotal, discounts [{code, title, amount}], shipping or None, tax, total): the order's when the
    session is completed (what was charged), else the quote's."""
    order = view.session.order
    if order is not None:
        discounts = [{"code": d["code"], "title": d["title"], "amount": d["amount_cents"]} for d in order.discounts]
        shipping = order.shipping_cents if order.shipping_method_name else None
        return order.subtotal_cents, discounts, shipping, order.tax_cents, order.total_cents
    priced = view.quote
    discounts = [{"code": d.code, "title": d.display_title, "amount": d.amount_cents} for d in priced.discounts]
    shipping = priced.shipping.price_cents if priced.shipping else None
    return priced.subtotal_cents, discounts, shipping, priced.tax_cents, priced.total_cents


def render_checkout(view: SessionView, *, request) -> dict:
    """Return the session as a UCP Checkout object."""
    session = view.session
    line_ids = [line.id for line in view.lines]
    shares = view.quote.line_discounts
    line_items = [
        {
            "id": line.id,
            "item": {"id": line.product.sku, "title": line.product.display_name, "price": line.product.price_cents},
            "quantity": line.quantity,
            "totals": [
                _total("subtotal", line.product.price_cents * line.quantity),
                _total("total", line.product.price_cents * line.quantity - share),
            ],
        }
        for line, share in zip(view.lines, shares, strict=True)
    ]
    subtotal, discounts, shipping, tax, total = _money(view)
    totals = [_total("subtotal", subtotal)]
    totals += [_total("discount", d["amount"], d["code"] or d["title"]) for d in discounts if d["amount"] > 0]
    if shipping is not None:
        totals.append(_total("fulfillment", shipping))
    if tax:
        totals.append(_total("tax", tax))
    totals.append(_total("total", total))
    messages = [
        {"type": "warning", "code": f"discount_code_{reason}", "content": message, "path": "$.discounts.codes"}
        for _code, reason, message in view.quote.rejected
    ] + [
        {"type": "error", "code": code, "content": message, "severity": "requires_buyer_input"}
        for code, message in view.problems
    ]
    if session.status == CheckoutSession.Status.ESCALATED:  # handed to the shopper (the MCP binding)
        messages.append(
            {
                "type": "error",
                "code": "buyer_review_required",
                "content": str(HAND_OFF_MESSAGE),
                "severity": "requires_buyer_review",
            }
        )
    body = {
        "ucp": response_ucp(*checkout_capabilities()),
        "id": session.public_id,
        "status": session.status,
        "currency": session.currency,
        "line_items": line_items,
        "totals": totals,
        "messages": messages,
        "links": [
            {"type": LINK_TYPES[link.kind], "url": link.url, "title": link.title}
            for link in policy_links(base_url=request.build_absolute_uri("/"))
        ],
        "payment": {"handlers": payment_handlers(), **session.payment},
        "expires_at": session.expires_at.isoformat(),
    }
    if session.status == CheckoutSession.Status.ESCALATED:
        body["continue_url"] = session.extra["continue_url"]
    if session.buyer:
        buyer = {key: value for key, value in session.buyer.items() if key != "phone"}
        if session.buyer.get("phone"):
            buyer["phone_number"] = session.buyer["phone"]
        body["buyer"] = buyer
    fulfillment = _fulfillment_body(view, line_ids)
    if fulfillment is not None:
        body["fulfillment"] = fulfillment
    if session.codes or discounts:
        applied = [
            {"code": d["code"], "title": d["title"], "amount": d["amount"]}
            if d["code"]
            else {"title": d["title"], "amount": d["amount"], "automatic": True}
            for d in discounts
        ]
        body["discounts"] = {"codes": session.codes, "applied": applied}
    if session.order is not None:
        body["order"] = {"id": session.order.number, "permalink_url": order_permalink(session.order, request)}
    return body


def order_permalink(order, request) -> str:
    return request.build_absolute_uri(reverse("ucp:order", kwargs={"order_id": order.number}))

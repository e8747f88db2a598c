"""Checkout sessions: outside agents' checkouts (UCP, ACP, MCP), one core under every protocol's door.

A session keeps what the agent said (lines, buyer, destinations, the chosen destination and shipping
option, discount codes, a payment selection); `session_view` prices it afresh through orders.pricing
every time, and `session_complete` places the order through `orders.services.order_create` (the cart's
checkout's own function) and charges the agent's payment credential through the payment provider, all
in one transaction: an order that is paid, or nothing (stock and code uses back). Every function takes
the agent's `owner` key: another agent's session is not found. Writes to a completed or canceled session
(or one past its expiry) raise SessionFinal. Idempotency keys are the adapters' (`orders.idempotency`).

A session may instead be handed to the shopper (`session_escalate`, the MCP bindings: status
`requires_escalation`): then only `session_place`, run by the shopper's own click in the shop, places its
order, unpaid, as the storefront's checkout does; any change to the session withdraws the hand-off.
"""

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.addresses import address_clean
from accounts.models import format_address
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from catalog.services import product_check_available
from mcpshop_site.db import retry_on_deadlock
from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import (
    DiscountInvalid,
    FulfillmentMissing,
    ItemNotFound,
    PaymentRequired,
    SessionChanged,
    SessionFinal,
    SessionNotFound,
    ShippingUnavailable,
)
from orders.models import CheckoutSession, Order
from orders.payments import PaymentCredential, get_provider
from orders.pricing import PriceLine, Quote, quote
from orders.services import order_create, order_payment_received

SESSION_LIFETIME = timedelta(hours=6)
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)  # the form of `new_session_id`'s ids
MAX_LINES = 100
MAX_QUANTITY = 10**6  # beyond any shelf: larger figures are refused as figures, not looked up
MAX_DESTINATIONS = 20
MAX_CODES = 10
TEXT_LIMIT = 200
BUYER_FIELDS = ("email", "first_name", "last_name", "full_name", "phone")
# A destination's fields, named as orders and the address book name them.
DESTINATION_FIELDS = ("id", "name", "phone", "street", "city", "region", "postal_code", "country")
# What a session handed to the shopper (`requires_escalation`) tells the agent, in every protocol's message.
HAND_OFF_MESSAGE = gettext_lazy(
    "The shopper reviews this order and confirms it on the shop's page at continue_url; nothing is ordered "
    "until they do. They then pay on the order's page."
)
CHANGEABLE = ("lines", "buyer", "destinations", "destination_id", "shipping_option", "codes", "payment", "extra")


@dataclass(frozen=True)
class SessionLine:
    """A session's line with its product: what adapters render (title, price) beside the quote's totals."""

    id: str
    product: Product
    quantity: int


@dataclass(frozen=True)
class SessionView:
    """A session priced now: its lines with their products, the quote, and what stands between it and an order.

    `problems` are (code, message) pairs: a line out of stock, a missing destination or shipping option.
    `quote.rejected` lists the codes that do not apply (unknown ones with reason "unknown").
    """

    session: CheckoutSession
    lines: tuple[SessionLine, ...]
    quote: Quote
    problems: tuple[tuple[str, str], ...]


def _text(value, field: str, limit: int = TEXT_LIMIT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(_("%(field)s must be text.") % {"field": field}, field=field)
    value = " ".join(str(value).split())
    if len(value) > limit:
        raise InvalidInput(_("%(field)s is too long.") % {"field": field}, field=field, max_length=limit)
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise InvalidInput(_("%(field)s may not hold control characters.") % {"field": field}, field=field)
    return value


def _quantity(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidInput(
            _("Quantity must be a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}, field="quantity"
        )
    return value


def _clean_lines(lines) -> list[dict]:
    """Return lines as [{"id", "sku", "quantity"}] (ids kept or made), or raise InvalidInput."""
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(_("A checkout needs 1 to %(max)d lines.") % {"max": MAX_LINES}, field="lines")
    cleaned, seen = [], set()
    for index, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise InvalidInput(_("Each line must be an object."), field="lines")
        sku = _text(line.get("sku"), "sku", 32)
        if not sku:
            raise InvalidInput(_("Each line needs an item id."), field="sku")
        line_id = _text(line.get("id"), "line id", 64) or f"li_{index}"
        if line_id in seen:
            line_id = f"li_{index}"
        seen.add(line_id)
        cleaned.append({"id": line_id, "sku": sku, "quantity": _quantity(line.get("quantity"))})
    return cleaned


def _products(lines: list[dict]) -> dict[str, Product]:
    """Return the lines' products by SKU (active ones only), in one query."""
    skus = {line["sku"] for line in lines}
    return {product.sku: product for product in Product.objects.filter(sku__in=skus, is_active=True)}


def _check_stock(lines: list[dict]) -> None:
    """Raise ItemNotFound for a product the shop does not sell, then InsufficientStock for a line beyond its stock.

    A snapshot: the order takes the stock under its locks at completion.
    """
    products = _products(lines)
    wanted: dict[str, int] = {}
    for line in lines:
        if line["sku"] not in products:
            raise ItemNotFound(_("Product %(sku)s not found.") % {"sku": line["sku"]}, sku=line["sku"])
        wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
    for sku, quantity in wanted.items():
        product = products[sku]
        product_check_available(sku=sku, quantity=quantity, stock=product.stock, is_active=product.is_active)


def _clean_buyer(buyer) -> dict:
    if buyer is None:
        return {}
    if not isinstance(buyer, dict):
        raise InvalidInput(_("buyer must be an object."), field="buyer")
    cleaned = {field: _text(buyer.get(field), field) for field in BUYER_FIELDS if buyer.get(field) is not None}
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise InvalidInput(_("Enter a valid email address."), field="email") from None
    consent = buyer.get("consent")
    if consent is not None:
        if not isinstance(consent, dict) or len(consent) > 20:
            raise InvalidInput(_("consent must be an object."), field="consent")
        cleaned["consent"] = {
            _text(name, "consent", 64): value for name, value in consent.items() if isinstance(value, bool)
        }
    return cleaned


def clean_destination(destination) -> dict:
    """Return a destination with its fields checked by the address book's rules, or raise InvalidInput.

    Only the country is required (shipping options are priced by country and region; agents often send no
    more until the buyer confirms). Its `id` may be empty (the adapter or the address book gives one).
    """
    if not isinstance(destination, dict):
        raise InvalidInput(_("Each destination must be an object."), field="destinations")
    typed = {field: _text(destination.get(field), field) for field in DESTINATION_FIELDS}
    place = {
        "recipient": typed["name"],
        "phone": typed["phone"],
        "street": typed["street"],
        "city": typed["city"],
        "region": typed["region"],
        "postal_code": typed["postal_code"],
        "country": typed["country"],
    }
    cleaned = address_clean({field: value for field, value in place.items() if value}, partial=True)
    if not cleaned.get("country"):
        raise InvalidInput(_("%(field)s is required.") % {"field": "country"}, field="country")
    return {
        "id": typed["id"][:100],
        "name": cleaned.get("recipient", ""),
        "phone": cleaned.get("phone", ""),
        **{field: cleaned.get(field, "") for field in ("street", "city", "region", "postal_code", "country")},
    }


def _clean_codes(codes) -> list[str]:
    if not isinstance(codes, list) or len(codes) > MAX_CODES:
        raise InvalidInput(_("At most %(max)d discount codes.") % {"max": MAX_CODES}, field="codes")
    return [code for code in (_text(code, "code", 64) for code in codes) if code]


def _clean(changes: dict) -> dict:
    """Return the changes checked and tidied, or raise InvalidInput (nothing is stored then)."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise TypeError(f"not a session field: {sorted(unknown)}")
    cleaned = dict(changes)
    if "lines" in changes:
        cleaned["lines"] = _clean_lines(changes["lines"])
        _check_stock(cleaned["lines"])
    if "buyer" in changes:
        cleaned["buyer"] = _clean_buyer(changes["buyer"])
    if "destinations" in changes:
        destinations = changes["destinations"] or []
        if not isinstance(destinations, list) or len(destinations) > MAX_DESTINATIONS:
            raise InvalidInput(_("At most %(max)d destinations.") % {"max": MAX_DESTINATIONS}, field="destinations")
        cleaned["destinations"] = [clean_destination(destination) for destination in destinations]
    for field in ("destination_id", "shipping_option"):
        if field in changes:
            cleaned[field] = _text(changes[field], field, 100)
    if "codes" in changes:
        cleaned["codes"] = _clean_codes(changes["codes"] or [])
    for field in ("payment", "extra"):
        if field in changes and not isinstance(changes[field] or {}, dict):
            raise InvalidInput(_("%(field)s must be an object.") % {"field": field}, field=field)
        if field in changes:
            cleaned[field] = changes[field] or {}
    return cleaned


def _status(view_problems: tuple, session: CheckoutSession) -> str:
    if session.is_final:
        return session.status
    if view_problems:
        return CheckoutSession.Status.INCOMPLETE
    if session.status == CheckoutSession.Status.ESCALATED:
        return session.status
    return CheckoutSession.Status.READY


def session_view(session: CheckoutSession) -> SessionView:
    """Return the session priced now (lines with their products, the quote, what is missing), and keep its
    status in step: `ready_for_complete` when nothing is missing, else `incomplete`.

    A completed session is priced at today's prices too: what its order charged is on `session.order`.
    A shipping option the destination no longer has is dropped from the quote and reported as missing.
    """
    products = _products(session.lines)
    lines = tuple(
        SessionLine(id=line["id"], product=products[line["sku"]], quantity=line["quantity"])
        for line in session.lines
        if line["sku"] in products
    )
    destination = session.destination
    problems = []
    pricing = {
        "lines": [PriceLine(line.product.pk, line.product.price_cents, line.quantity) for line in lines],
        "codes": session.codes,
        "user": session.user,
        "email": session.buyer.get("email", ""),
        "country": destination["country"] if destination else "",
        "region": destination["region"] if destination else "",
    }
    chosen = session.shipping_option if destination else ""
    try:
        priced = quote(**pricing, shipping_option=chosen or None)
    except ShippingUnavailable:
        priced, chosen = quote(**pricing), ""
    if not chosen:
        priced = replace(priced, shipping=None)  # the quote's cheapest option is offered, not chosen
    if not session.is_final:
        for line in lines:
            if line.quantity > line.product.stock:
                problems.append(("insufficient_stock", str(InsufficientStock(available=line.product.stock))))
        if destination is None or not priced.ships or (priced.options and not chosen):
            problems.append(("fulfillment_missing", str(FulfillmentMissing.default_message)))
    status = _status(tuple(problems), session)
    if status != session.status:
        CheckoutSession.objects.filter(pk=session.pk, status=session.status).update(status=status)
        session.status = status
    return SessionView(session=session, lines=lines, quote=priced, problems=tuple(problems))


def session_create(*, owner: str, user=None, lines, **fields) -> SessionView:
    """Create a session for the agent `owner` (optionally linked to the shop `user`) and return it priced.

    `lines` are [{"sku", "quantity", "id"?}]; `fields` any of buyer, destinations, destination_id,
    shipping_option, codes, payment, extra (as `session_update` takes them). The id is made here, never
    taken from the agent. Raises InvalidInput, ItemNotFound or InsufficientStock (nothing is stored then).
    """
    cleaned = _clean({"lines": lines, **fields})
    session = CheckoutSession.objects.create(
        owner=owner,
        user=user,
        currency=settings.SHOP_CURRENCY,
        expires_at=timezone.now() + SESSION_LIFETIME,
        **cleaned,
    )
    return session_view(session)


def session_get(*, owner: str, session_id) -> CheckoutSession:
    """Return the agent's session by its public id; another agent's, or none, raises SessionNotFound (an id not of
    the form of the shop's ids without a lookup: PostgreSQL refuses to compare text holding a NUL)."""
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        raise SessionNotFound(session_id=str(session_id)[:40])
    session = CheckoutSession.objects.filter(owner=owner, public_id=session_id).first()
    if session is None:
        raise SessionNotFound(session_id=str(session_id)[:40])
    return session


def _lock(*, owner: str, session_id) -> CheckoutSession:
    session_get(owner=owner, session_id=session_id)  # not found before any lock
    session = CheckoutSession.objects.select_for_update().get(owner=owner, public_id=session_id)
    if session.is_final:
        raise SessionFinal(status=session.status, session_id=session.public_id)
    if session.expires_at <= timezone.now():
        raise SessionFinal(_("This checkout session has expired."), status="expired", session_id=session.public_id)
    return session


@transaction.atomic
def session_update(*, owner: str, session_id, **changes) -> SessionView:
    """Change the fields given (any of lines, buyer, destinations, destination_id, shipping_option, codes,
    payment, extra; each replaced whole) and return the session priced. Raises SessionNotFound, SessionFinal,
    InvalidInput, ItemNotFound or InsufficientStock (nothing changes then)."""
    session = _lock(owner=owner, session_id=session_id)
    for field, value in _clean(changes).items():
        setattr(session, field, value)
    if session.status == CheckoutSession.Status.ESCALATED:  # what the shopper was shown is no longer this
        session.status = CheckoutSession.Status.INCOMPLETE
    session.save()
    return session_view(session)


@transaction.atomic
def session_cancel(*, owner: str, session_id) -> SessionView:
    """Cancel the session (nothing was reserved: there is nothing to give back) and return it."""
    session = _lock(owner=owner, session_id=session_id)
    session.status = CheckoutSession.Status.CANCELED
    session.save(update_fields=["status", "updated_at"])
    return session_view(session)


def session_complete(*, owner: str, session_id, credential: PaymentCredential | None) -> SessionView:
    """Place the session's order and pay it with the agent's `credential`, in one transaction; return the
    completed session (its `order` paid).

    No credential, no order (PaymentRequired). A destination and, where the shop ships there, a shipping option
    must be chosen (FulfillmentMissing). The order goes through `order_create` (stock, codes: InsufficientStock,
    DiscountInvalid), then the provider charges the credential once (its idempotency key is the session's id):
    PaymentDeclined or PaymentUnsupported roll everything back and the session stays open.
    """
    session = retry_on_deadlock(_session_complete, owner=owner, session_id=session_id, credential=credential)
    return session_view(session)


@transaction.atomic
def _session_complete(*, owner: str, session_id, credential: PaymentCredential | None) -> CheckoutSession:
    session = _lock(owner=owner, session_id=session_id)
    if credential is None or not credential.type:
        raise PaymentRequired()
    order = _place(session)
    provider = get_provider()
    charge = provider.charge(order=order, credential=credential, idempotency_key=f"checkout-{session.public_id}")
    order = order_payment_received(order=order, provider=provider.name, charge=charge)
    if order.status != Order.Status.PAID:
        raise AssertionError(f"order {order.number} not paid by its own charge")  # the charge is the order's total
    return _completed(session, order)


def _order_lines(session: CheckoutSession) -> list[tuple[Product, int]]:
    """Return the session's lines as order_create takes them, one per product in primary-key order; raise
    ItemNotFound for a product the shop no longer sells."""
    products = _products(session.lines)
    missing = [line["sku"] for line in session.lines if line["sku"] not in products]
    if missing:
        raise ItemNotFound(_("Product %(sku)s not found.") % {"sku": missing[0]}, sku=missing[0])
    wanted: dict[int, tuple[Product, int]] = {}
    for line in session.lines:
        product = products[line["sku"]]
        wanted[product.pk] = (product, wanted.get(product.pk, (product, 0))[1] + line["quantity"])
    return [wanted[pk] for pk in sorted(wanted)]


def _place(session: CheckoutSession) -> Order:
    """Place the (locked) session's order through `order_create`, as the storefront's checkout does: stock and
    code uses taken, the order pending payment. Raises FulfillmentMissing, ItemNotFound, InsufficientStock,
    DiscountInvalid or ShippingUnavailable (the caller rolls back)."""
    destination = session.destination
    if destination is None:
        raise FulfillmentMissing()
    buyer = session.buyer
    return order_create(
        user=session.user,
        email=buyer.get("email", "") or (session.user.email if session.user else ""),
        lines=_order_lines(session),
        delivery=session_delivery(session),
        shipping_option=_shipping_choice(session, destination),
        codes=session.codes,
    )


def _completed(session: CheckoutSession, order: Order) -> CheckoutSession:
    session.status = CheckoutSession.Status.COMPLETED
    session.order = order
    session.save(update_fields=["status", "order", "updated_at"])
    return session


@transaction.atomic
def session_escalate(*, owner: str, session_id, extra: dict) -> SessionView:
    """Hand the session to its shopper instead of completing it: check that its order could be placed now
    (FulfillmentMissing, ItemNotFound, InsufficientStock, DiscountInvalid, as a completion would refuse it),
    merge `extra` (the adapter's hand-off, e.g. the shopper's `continue_url`) and set `requires_escalation`.
    Nothing is ordered, reserved or charged: `session_place` does that on the shopper's confirmation."""
    session = _lock(owner=owner, session_id=session_id)
    destination = session.destination
    if destination is None:
        raise FulfillmentMissing()
    for product, quantity in _order_lines(session):
        product_check_available(sku=product.sku, quantity=quantity, stock=product.stock, is_active=product.is_active)
    _shipping_choice(session, destination)
    view = session_view(session)
    if view.quote.rejected:
        code, reason, message = view.quote.rejected[0]
        raise DiscountInvalid(message, code=code, reason=reason)
    session.extra = {**session.extra, **extra}
    session.status = CheckoutSession.Status.ESCALATED
    session.save(update_fields=["extra", "status", "updated_at"])
    return session_view(session)


def session_place(*, owner: str, session_id) -> SessionView:
    """Place the order of a session handed to its shopper (their confirmation in the shop), unpaid as a storefront
    order is: the shopper pays it on the order's page. Raises SessionChanged unless the session is still
    `requires_escalation`, SessionFinal when it is completed, canceled or expired, and what `order_create` raises.
    """
    session = retry_on_deadlock(_session_place, owner=owner, session_id=session_id)
    return session_view(session)


@transaction.atomic
def _session_place(*, owner: str, session_id) -> CheckoutSession:
    session = _lock(owner=owner, session_id=session_id)
    if session.status != CheckoutSession.Status.ESCALATED:
        raise SessionChanged(session_id=session.public_id)
    return _completed(session, _place(session))


def _shipping_choice(session: CheckoutSession, destination: dict) -> str | None:
    """Return the chosen shipping option; raise FulfillmentMissing when the shop ships there and none is chosen."""
    if session.shipping_option:
        return session.shipping_option
    options = quote(lines=[], country=destination["country"], region=destination["region"]).options
    if options:
        raise FulfillmentMissing()
    return None


def session_delivery(session: CheckoutSession) -> dict:
    """Return the order's delivery fields (orders.services' names) for the session's selected destination and
    buyer; the destination must be selected."""
    destination, buyer = session.destination, session.buyer
    name = (
        destination["name"]
        or " ".join(filter(None, (buyer.get("first_name"), buyer.get("last_name"))))
        or buyer.get("full_name", "")
    )
    place = {
        "country": destination["country"],
        "region": destination["region"],
        "city": destination["city"],
        "district": "",
        "street": destination["street"],
        "postal_code": destination["postal_code"],
    }
    return {
        "name": (name or buyer.get("email", ""))[:100],
        "phone": (destination["phone"] or buyer.get("phone", ""))[:32],
        "address": format_address(**place)[:300],
        **place,
    }

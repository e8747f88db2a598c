"""The ACP checkout operations over the checkout-session core: requests in, CheckoutSession bodies out.

Each operation takes a request that passed the gate (`protocol.AcpRequest`) and returns (status, body), in the
session's language (`protocol.answer_language`: the `locale` it was created with, kept in its `extra`, else the
request's Accept-Language). Writes run through the core's idempotency store (`orders.idempotency.idempotent`),
keyed by the platform and the endpoint's path as the spec scopes keys: a replay answers the stored status and
body, the same key with another body is 422 `idempotency_conflict`. Shop errors are translated to ACP's flat
errors here; a server failure (5xx) is not stored, so a retry runs afresh.
"""

import re

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from agents.acp import parse, render
from agents.acp.errors import AcpError
from agents.acp.orders import order_body, order_event
from agents.acp.protocol import AcpRequest, answer_language, locale_language, locale_tag
from catalog.exceptions import InsufficientStock
from mcpshop_site.exceptions import InvalidInput, ShopError
from orders.checkout_sessions import (
    HAND_OFF_MESSAGE,
    session_cancel,
    session_complete,
    session_create,
    session_get,
    session_update,
    session_view,
)
from orders.exceptions import (
    DiscountInvalid,
    FulfillmentMissing,
    IdempotencyKeyReused,
    ItemNotFound,
    PaymentDeclined,
    PaymentRequired,
    PaymentUnsupported,
    SessionFinal,
    SessionNotFound,
    ShippingUnavailable,
)
from orders.idempotency import idempotent
from orders.models import CheckoutSession
from orders.payments import PaymentCredential

DESTINATION_ID = "acp"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
# Where the core's fields come from in an ACP body, for an error's JSONPath.
PARAMS = {
    "lines": "$.line_items",
    "sku": "$.line_items",
    "quantity": "$.line_items",
    "email": "$.buyer.email",
    "first_name": "$.buyer.first_name",
    "last_name": "$.buyer.last_name",
    "full_name": "$.buyer.full_name",
    "phone": "$.fulfillment_details.phone_number",
    "recipient": "$.fulfillment_details.address.name",
    "street": "$.fulfillment_details.address.line_one",
    "city": "$.fulfillment_details.address.city",
    "region": "$.fulfillment_details.address.state",
    "postal_code": "$.fulfillment_details.address.postal_code",
    "country": "$.fulfillment_details.address.country",
    "codes": "$.discounts.codes",
    "code": "$.discounts.codes",
    "shipping_option": "$.selected_fulfillment_options",
}
PROBLEMS = {"insufficient_stock": ("out_of_stock", "$.line_items"), "fulfillment_missing": ("missing", "")}


# Requests to the core's fields ------------------------------------------------------------------


def _destination(fulfillment: dict) -> dict:
    address = fulfillment["address"] or {}
    street = ", ".join(part for part in (address.get("line_one", ""), address.get("line_two", "")) if part)
    return {
        "id": DESTINATION_ID,
        "name": address.get("name") or fulfillment["name"],
        "phone": fulfillment["phone"],
        "street": street,
        "city": address.get("city", ""),
        "region": address.get("state", ""),
        "postal_code": address.get("postal_code", ""),
        "country": address.get("country", ""),
    }


def core_changes(body: dict, *, create: bool) -> dict:
    """Return the core's fields (lines, buyer, destinations, ...) an ACP create or update body sets."""
    changes = parse.checkout_changes(body, create=create)
    fields: dict = {}
    if "lines" in changes:
        fields["lines"] = [{"sku": item_id, "quantity": quantity} for item_id, quantity in changes["lines"]]
    if "buyer" in changes:
        fields["buyer"] = changes["buyer"] or {}
    if "fulfillment" in changes:
        fulfillment = changes["fulfillment"]
        has_place = fulfillment is not None and fulfillment["address"] is not None
        fields["destinations"] = [_destination(fulfillment)] if has_place else []
        fields["destination_id"] = DESTINATION_ID if has_place else ""
        if fulfillment and fulfillment["email"] and "buyer" not in changes and create:
            fields["buyer"] = {"email": fulfillment["email"]}
    if "shipping_option" in changes:
        fields["shipping_option"] = changes["shipping_option"] or ""
    if "codes" in changes:
        fields["codes"] = changes["codes"]
    return fields


# Core answers to ACP bodies ---------------------------------------------------------------------


def _buyer(buyer: dict) -> dict | None:
    if not buyer.get("email"):
        return None
    shown = {"email": buyer["email"]}
    for ours, theirs in (("first_name", "first_name"), ("last_name", "last_name"), ("phone", "phone_number")):
        if buyer.get(ours):
            shown[theirs] = buyer[ours]
    if buyer.get("full_name") and not (buyer.get("first_name") or buyer.get("last_name")):
        shown["full_name"] = buyer["full_name"]
    return shown


def _fulfillment_details(destination: dict | None, buyer: dict) -> dict | None:
    if destination is None:
        return None
    details = {}
    if destination["name"]:
        details["name"] = destination["name"]
    if destination["phone"]:
        details["phone_number"] = destination["phone"]
    if buyer.get("email"):
        details["email"] = buyer["email"]
    details["address"] = {
        "name": destination["name"],
        "line_one": destination["street"],
        "city": destination["city"],
        "state": destination["region"],
        "country": destination["country"],
        "postal_code": destination["postal_code"],
    }
    return details


def _messages(view) -> list[dict]:
    messages = []
    for problem, text in view.problems:
        code, param = PROBLEMS.get(problem, ("invalid", ""))
        if problem == "fulfillment_missing":
            missing_address = view.session.destination is None
            param = "$.fulfillment_details.address" if missing_address else "$.selected_fulfillment_options"
        message = {"type": "error", "code": code, "content_type": "plain", "content": str(text)}
        if param:
            message["param"] = param
        messages.append(message)
    if view.session.status == CheckoutSession.Status.ESCALATED:  # handed to the shopper (the MCP binding)
        messages.append(
            {
                "type": "error",
                "code": "approval_required",
                "content_type": "plain",
                "content": str(HAND_OFF_MESSAGE),
                "resolution": "requires_buyer_review",
            }
        )
    return messages + render.rejected_code_messages(view.session.codes, view.quote)


def session_body(view, request: AcpRequest, *, extra_messages=()) -> dict:
    """Return the session as ACP's CheckoutSession (with its `order` once completed)."""
    session, quote = view.session, view.quote
    products = {line.product.sku: line.product for line in view.lines}
    lines = [{"id": line.id, "sku": line.product.sku} for line in view.lines]
    body = {
        "id": session.public_id,
        "protocol": {"version": request.api_version},
        "capabilities": render.capabilities(),
        "status": render.STATUSES.get(session.status, "not_ready_for_payment"),
        "currency": session.currency.lower(),
        "locale": locale_tag(translation.get_language()),
        "line_items": render.line_items(lines, quote, products),
        "fulfillment_options": render.fulfillment_options(quote, session.updated_at),
        "totals": render.totals(quote),
        "messages": [*extra_messages, *_messages(view)],
        "links": render.links(base_url=request.base_url),
        "discounts": render.discounts(session.codes, quote),
        "created_at": session.created_at.isoformat(),
        "updated_at": session.updated_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
    }
    buyer = _buyer(session.buyer)
    if buyer:
        body["buyer"] = buyer
    details = _fulfillment_details(session.destination, session.buyer)
    if details:
        body["fulfillment_details"] = details
    if quote.shipping is not None:
        body["selected_fulfillment_options"] = [
            {
                "type": "shipping",
                "option_id": render.option_id(quote.shipping),
                "item_ids": [line["sku"] for line in lines],
            }
        ]
    if session.status == CheckoutSession.Status.ESCALATED:
        body["continue_url"] = session.extra["continue_url"]
    if session.order_id:
        body["order"] = order_body(session.order, session_id=session.public_id)
    return body


# Errors -------------------------------------------------------------------------------------------


def _item_param(error: ShopError, body: dict | None) -> str:
    sku = error.details.get("sku")
    items = (body or {}).get("line_items")
    if sku and isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("id") == sku:
                return f"$.line_items[{index}]"
    return "$.line_items"


def acp_error(error: ShopError, body: dict | None = None) -> AcpError:
    """Return the ACP error a shop error is (the core's refusals); a server failure stays a 5xx."""
    if isinstance(error, SessionNotFound):
        return AcpError(404, "session_not_found", error.message, param="$.id")
    if isinstance(error, SessionFinal):
        return AcpError(409, "checkout_session_final", error.message)
    if isinstance(error, ItemNotFound):
        return AcpError(400, "invalid_item_id", error.message, param=f"{_item_param(error, body)}.id")
    if isinstance(error, InsufficientStock):
        return AcpError(400, "out_of_stock", error.message, param=_item_param(error, body))
    if isinstance(error, PaymentRequired):
        return AcpError(400, "missing", error.message, param="$.payment_data")
    if isinstance(error, PaymentUnsupported):
        return AcpError(400, "unsupported", error.message, param="$.payment_data.handler_id")
    if isinstance(error, FulfillmentMissing):
        return AcpError(400, "missing", error.message, param="$.fulfillment_details")
    if isinstance(error, ShippingUnavailable):
        return AcpError(400, "invalid", error.message, param="$.selected_fulfillment_options")
    if isinstance(error, DiscountInvalid):
        return AcpError(400, "invalid", error.message, param="$.discounts.codes")
    if isinstance(error, InvalidInput):
        return AcpError(400, "invalid", error.message, param=PARAMS.get(error.details.get("field"), ""))
    if error.status < 500:
        return AcpError(error.status, error.code, error.message)
    return AcpError(error.status, error.code, error.message, type_="processing_error")


# Operations ---------------------------------------------------------------------------------------


def _language(request: AcpRequest, session_id: str) -> str:
    """Return the language of answers on the agent's session: its stored locale first (`answer_language`); a
    session not found answers in the request's language."""
    try:
        locale = session_get(owner=request.owner, session_id=session_id).extra.get("locale", "")
    except ShopError:
        locale = ""
    return answer_language(request, locale=locale)


def _write(request: AcpRequest, path: str, operation, *, language: str) -> tuple[int, dict]:
    """Run a write once per Idempotency-Key (per owner and path), in `language`; 4xx answers are stored and
    replayed too.

    Without a key (only over MCP, where the binding makes it optional) the write simply runs."""

    def run() -> tuple[int, dict]:
        try:
            with transaction.atomic():
                return operation()
        except AcpError as error:
            return error.status, error.as_dict()
        except ShopError as error:
            refused = acp_error(error, request.body)
            if refused.status >= 500:
                raise refused from error
            return refused.status, refused.as_dict()

    with translation.override(language):
        if not request.idempotency_key:
            return run()
        try:
            return idempotent(
                owner=f"{request.owner} POST {path}",
                key=request.idempotency_key,
                request=request.body,
                run=run,
            )
        except IdempotencyKeyReused:
            raise AcpError(
                422, "idempotency_conflict", _("Idempotency-Key has already been used with a different request body.")
            ) from None


def create(request: AcpRequest, path: str) -> tuple[int, dict]:
    """Create a session; a `locale` the shop speaks is kept on it (`extra`) for every later answer."""
    locale = locale_language(request.body.get("locale"))

    def operation():
        parse.currency(request.body, settings.SHOP_CURRENCY)
        parse.locale(request.body)
        fields = core_changes(request.body, create=True)
        if locale:
            fields["extra"] = {"locale": locale}
        view = session_create(owner=request.owner, user=request.user, **fields)
        return 201, session_body(view, request)

    return _write(request, path, operation, language=answer_language(request, locale=locale))


def _known_form(session_id: str) -> str:
    """Return the id if it has the form of the core's session ids; anything else is not found without a lookup
    (PostgreSQL refuses to compare text holding a NUL)."""
    if not SESSION_ID.fullmatch(session_id):
        raise AcpError(404, "session_not_found", SessionNotFound.default_message, param="$.id")
    return session_id


def retrieve(request: AcpRequest, session_id: str) -> tuple[int, dict]:
    session_id = _known_form(session_id)
    with translation.override(answer_language(request)):
        try:
            session = session_get(owner=request.owner, session_id=session_id)
        except ShopError as error:
            raise acp_error(error) from None
    with translation.override(answer_language(request, locale=session.extra.get("locale", ""))):
        return 200, session_body(session_view(session), request)


def update(request: AcpRequest, path: str, session_id: str) -> tuple[int, dict]:
    session_id = _known_form(session_id)

    def operation():
        changes = core_changes(request.body, create=False)
        view = session_update(owner=request.owner, session_id=session_id, **changes)
        return 200, session_body(view, request)

    return _write(request, path, operation, language=_language(request, session_id))


def complete(request: AcpRequest, path: str, session_id: str) -> tuple[int, dict]:
    """Complete with the delegated payment token; a declined token answers the open session with a
    `payment_declined` error message (the spec's example), nothing ordered and nothing charged."""
    session_id = _known_form(session_id)

    def operation():
        handler, kind, token = parse.payment_token(request.body, handler_ids={render.HANDLER_ID})
        owner = request.owner
        if "buyer" in request.body:
            session_update(owner=owner, session_id=session_id, buyer=parse.buyer(request.body["buyer"]) or {})
        credential = PaymentCredential(handler=handler, type=kind, token=token)
        try:
            with transaction.atomic():
                view = session_complete(owner=owner, session_id=session_id, credential=credential)
        except PaymentDeclined as declined:
            view = session_view(session_get(owner=owner, session_id=session_id))
            message = {
                "type": "error",
                "code": "payment_declined",
                "content_type": "plain",
                "content": declined.message,
            }
            return 200, session_body(view, request, extra_messages=[message])
        if request.platform is not None:
            order_event(platform=request.platform, session=view.session, kind="order_create")
        return 200, session_body(view, request)

    return _write(request, path, operation, language=_language(request, session_id))


def hand_off(request: AcpRequest, path: str, session_id: str, hand_over) -> tuple[int, dict]:
    """Complete over MCP, where the shopper confirms in the shop: `hand_over(owner=, session_id=)` hands the session
    to them (status `requires_escalation`, `continue_url`). A payment credential in the body is never charged."""
    session_id = _known_form(session_id)

    def operation():
        if "buyer" in request.body:
            session_update(owner=request.owner, session_id=session_id, buyer=parse.buyer(request.body["buyer"]) or {})
        view = hand_over(owner=request.owner, session_id=session_id)
        return 200, session_body(view, request)

    return _write(request, path, operation, language=_language(request, session_id))


def cancel(request: AcpRequest, path: str, session_id: str) -> tuple[int, dict]:
    session_id = _known_form(session_id)

    def operation():
        try:
            view = session_cancel(owner=request.owner, session_id=session_id)
        except SessionFinal as error:
            raise AcpError(405, "checkout_session_final", error.message) from None
        message = {"type": "info", "content_type": "plain", "content": _("The checkout session is canceled.")}
        return 200, session_body(view, request, extra_messages=[message])

    return _write(request, path, operation, language=_language(request, session_id))

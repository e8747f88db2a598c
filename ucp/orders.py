"""UCP orders: an order placed by an agent's checkout, as UCP's Order object, its record of fulfillment events
and adjustments, the test hook that ships it, and the order webhooks to the agent."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from mcpshop_site.exceptions import InvalidInput
from mcpshop_site.webhooks import UCP_SIGNER, enqueue_webhook
from orders.exceptions import OrderNotFound
from orders.models import Order
from orders.services import order_mark_shipped
from ucp.models import UcpOrder
from ucp.protocol import ORDER, response_ucp

_LINE_REFERENCES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "quantity"],
        "properties": {"id": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
    },
}
# What PUT /orders/<id> may change (UCP's append-only logs), checked as UCP's Order schema states them.
ORDER_UPDATE = Draft202012Validator(
    {
        "type": "object",
        "properties": {
            "fulfillment": {
                "type": "object",
                "properties": {
                    "events": {
                        "type": "array",
                        "maxItems": 100,
                        "items": {
                            "type": "object",
                            "required": ["id", "occurred_at", "type", "line_items"],
                            "properties": {
                                "id": {"type": "string", "maxLength": 200},
                                "occurred_at": {"type": "string", "maxLength": 64},
                                "type": {"type": "string", "maxLength": 64},
                                "line_items": _LINE_REFERENCES,
                                "tracking_number": {"type": "string", "maxLength": 200},
                                "tracking_url": {"type": "string", "maxLength": 2000},
                                "carrier": {"type": "string", "maxLength": 200},
                                "description": {"type": "string", "maxLength": 2000},
                            },
                        },
                    }
                },
            },
            "adjustments": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["id", "type", "occurred_at", "status"],
                    "properties": {
                        "id": {"type": "string", "maxLength": 200},
                        "type": {"type": "string", "maxLength": 64},
                        "occurred_at": {"type": "string", "maxLength": 64},
                        "status": {"enum": ["pending", "completed", "failed"]},
                        "line_items": _LINE_REFERENCES,
                        "amount": {"type": "integer", "minimum": 0},
                        "description": {"type": "string", "maxLength": 2000},
                    },
                },
            },
        },
    }
)


class OrderInvalid(InvalidInput):
    code = "invalid_order"
    status = 422
    default_message = _("The order does not match UCP's Order schema.")


def ucp_order_get(*, owner: str, user=None, order_id) -> UcpOrder:
    """Return the UCP record of the agent's order by its number; another agent's, or none, is not found, nor is
    one whose session is not `user`'s (None: a guest session's; see ucp.identity)."""
    found = (
        UcpOrder.objects.select_related("order", "session")
        .filter(order__number=str(order_id)[:16].upper(), session__owner=owner, session__user=user)
        .first()
    )
    if found is None:
        raise OrderNotFound(order_id=str(order_id)[:16])
    return found


def _line_id(item) -> str:
    return f"line_{item.pk}"


def render_order(record: UcpOrder, *, request) -> dict:
    """Return the order as UCP's Order object."""
    order, session = record.order, record.session
    fulfilled: dict[str, int] = {}
    for event in record.events:
        if event.get("type") != "processing":
            for line in event.get("line_items", []):
                fulfilled[line["id"]] = fulfilled.get(line["id"], 0) + line["quantity"]
    items = []
    for item in order.items.all():
        done = min(item.quantity, fulfilled.get(_line_id(item), 0))
        items.append(
            {
                "id": _line_id(item),
                "item": {"id": item.sku, "title": item.display_name, "price": item.unit_price_cents},
                "quantity": {"total": item.quantity, "fulfilled": done},
                "totals": [
                    {"type": "subtotal", "amount": item.line_total_cents},
                    {"type": "total", "amount": item.paid_amount_cents},
                ],
                "status": "fulfilled" if done == item.quantity else "partial" if done else "processing",
            }
        )
    destination = {
        "id": session.destination_id or "destination",
        **{
            field: getattr(order, core)
            for field, core in (
                ("street_address", "street"),
                ("address_locality", "city"),
                ("address_region", "region"),
                ("postal_code", "postal_code"),
                ("address_country", "country"),
            )
            if getattr(order, core)
        },
        **({"full_name": order.name} if order.name else {}),
    }
    totals = [{"type": "subtotal", "amount": order.subtotal_cents}]
    totals += [{"type": "discount", "amount": d["amount_cents"]} for d in order.discounts if d["amount_cents"]]
    totals.append({"type": "fulfillment", "amount": order.shipping_cents})
    if order.tax_cents:
        totals.append({"type": "tax", "amount": order.tax_cents})
    totals.append({"type": "total", "amount": order.total_cents})
    return {
        "ucp": response_ucp(ORDER),
        "id": order.number,
        "checkout_id": session.public_id,
        "permalink_url": request.build_absolute_uri(reverse("ucp:order", kwargs={"order_id": order.number})),
        "line_items": items,
        "fulfillment": {
            "expectations": [
                {
                    "id": "expectation_1",
                    "line_items": [{"id": line["id"], "quantity": line["quantity"]["total"]} for line in items],
                    "method_type": "shipping",
                    "destination": destination,
                    "description": record.description,
                }
            ],
            "events": record.events,
        },
        "adjustments": record.adjustments,
        "totals": totals,
    }


@transaction.atomic
def ucp_order_update(*, owner: str, user=None, order_id, body) -> UcpOrder:
    """Store the fulfillment events and adjustments of a whole UCP order sent back (the rest is the shop's and
    is not changed); raise OrderInvalid (422) for a body that breaks UCP's Order schema."""
    record = ucp_order_get(owner=owner, user=user, order_id=order_id)
    errors = sorted(ORDER_UPDATE.iter_errors(body), key=lambda error: list(error.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path)
        raise OrderInvalid(f"{where or 'order'}: {errors[0].message[:200]}", path=where)
    record = UcpOrder.objects.select_for_update().get(pk=record.pk)
    record.events = (body.get("fulfillment") or {}).get("events", record.events)
    record.adjustments = body.get("adjustments", record.adjustments)
    record.save(update_fields=["events", "adjustments"])
    return record


def order_webhook(record: UcpOrder, event_type: str, *, request) -> None:
    """Queue the order event to the agent's webhook (from its profile), in the caller's transaction."""
    url = record.session.extra.get("webhook_url")
    if url:
        enqueue_webhook(
            url,
            {
                "event_type": event_type,
                "checkout_id": record.session.public_id,
                "order": render_order(record, request=request),
            },
            event_id=f"ucp:{event_type}:{record.order_id}",
            signer=UCP_SIGNER,
        )


@transaction.atomic
def ucp_order_simulate_shipping(*, order_id, request) -> UcpOrder:
    """Ship an agent's order as the shop would (the conformance suite's test hook): the shop's order is marked
    shipped, a `shipped` event is recorded, and `order_shipped` is sent to the agent."""
    record = (
        UcpOrder.objects.select_related("order", "session").filter(order__number=str(order_id)[:16].upper()).first()
    )
    if record is None:
        raise OrderNotFound(order_id=str(order_id)[:16])
    if record.order.status == Order.Status.PAID:
        order_mark_shipped(order=record.order)
    record = UcpOrder.objects.select_for_update().select_related("order", "session").get(pk=record.pk)
    record.events = [
        *record.events,
        {
            "id": f"shipped_{record.order.number}_{len(record.events) + 1}",
            "occurred_at": timezone.now().isoformat(),
            "type": "shipped",
            "line_items": [{"id": _line_id(item), "quantity": item.quantity} for item in record.order.items.all()],
            "tracking_number": record.order.number,
            "description": _("Shipped"),
        },
    ]
    record.save(update_fields=["events"])
    order_webhook(record, "order_shipped", request=request)
    return record

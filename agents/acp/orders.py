"""An order as ACP shows it (the spec's Order: lines, fulfillment status, refunds as adjustments, totals),
and the order events (`order_create`, `order_update`) sent to the platform's webhook.

Events go through the shop's webhook job (`mcpshop_site.webhooks`): queued in the transaction that
changes the order, once per event id, retried, and signed at each attempt with `Merchant-Signature`
(`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the platform's webhook secret). The data is the
whole Order, never a delta, as the webhook spec asks.
"""

from django.utils import translation
from django.utils.translation import gettext as _

from agents.models import AgentPlatform
from mcpshop_site.mail import shop_link
from mcpshop_site.webhooks import WebhookRefused, acp_merchant_signature, enqueue_webhook
from orders.models import CheckoutSession, Order

SIGNER = "agents.acp.orders.sign"
OWNER_PREFIX = "acp:"
STATUSES = {
    Order.Status.PENDING: "created",
    Order.Status.PAID: "confirmed",
    Order.Status.SHIPPED: "shipped",
    Order.Status.DELIVERED: "completed",
    Order.Status.CANCELLED: "canceled",
    Order.Status.EXPIRED: "canceled",
}


def _total(kind: str, text, amount: int) -> dict:
    return {"type": kind, "display_text": str(text), "amount": amount}


def order_body(order: Order, *, session_id: str) -> dict:
    """Return the order as ACP's Order, in the language it was placed in."""
    shipped = order.status in (Order.Status.SHIPPED, Order.Status.DELIVERED)
    with translation.override(order.language):
        lines = []
        for item in order.items.all():
            current = (
                0
                if item.cancelled_at or order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED)
                else item.quantity
            )
            line = {
                "id": f"li_{item.pk}",
                "title": item.display_name,
                "quantity": {"ordered": item.quantity, "current": current, "fulfilled": current if shipped else 0},
                "unit_price": item.unit_price_cents,
                "subtotal": item.paid_amount_cents,
                "status": "removed" if not current else ("fulfilled" if shipped else "processing"),
            }
            if item.product_id:
                line["product_id"] = item.sku
            lines.append(line)
        adjustments = [
            {
                "id": f"refund_{refund.pk}",
                "type": "refund",
                "occurred_at": refund.created_at.isoformat(),
                "status": "completed",
                "amount": refund.amount_cents,
                "currency": order.currency.lower(),
            }
            for refund in order.refunds.order_by("pk")
        ]
        totals = [_total("subtotal", _("Subtotal"), order.subtotal_cents)]
        if order.discount_cents:
            totals.append(_total("discount", _("Discount"), order.discount_cents))
        totals += [
            _total("fulfillment", _("Shipping"), order.shipping_cents),
            _total("tax", _("Tax"), order.tax_cents),
            _total("total", _("Total"), order.total_cents),
        ]
        if order.refunded_cents:
            totals.append(_total("amount_refunded", _("Refunded"), order.refunded_cents))
    return {
        "type": "order",
        "id": order.number,
        "checkout_session_id": session_id,
        "order_number": order.number,
        "permalink_url": shop_link(order.get_absolute_url()),
        "status": STATUSES[order.status],
        "line_items": lines,
        "adjustments": adjustments,
        "totals": totals,
    }


def sign(content: bytes, *, platform_id: int) -> dict:
    """Return the `Merchant-Signature` header of an event, with the platform's webhook secret as it is now."""
    platform = AgentPlatform.objects.filter(pk=platform_id).first()
    if platform is None:
        raise WebhookRefused(f"agent platform {platform_id} no longer exists")
    return {"Merchant-Signature": acp_merchant_signature(content, platform.webhook_secret)}


def order_event(*, platform: AgentPlatform, session: CheckoutSession, kind: str) -> bool:
    """Queue `kind` (order_create / order_update) of the session's order to the platform's webhook, once per change.

    Call it in the transaction that made the change. Returns False when the platform has no webhook URL or
    this change was queued already.
    """
    if not platform.webhook_url or not platform.is_active:
        return False
    order = session.order
    if kind == "order_create":
        event_id = f"acp:order_create:{order.pk}"
    else:  # one event per status and per refund: a cancelled line is a change of its own
        event_id = f"acp:order_update:{order.pk}:{order.status}:{order.refunds.count()}"
    return enqueue_webhook(
        platform.webhook_url,
        {"type": kind, "data": order_body(order, session_id=session.public_id)},
        event_id=event_id,
        signer=SIGNER,
        signer_args={"platform_id": platform.pk},
    )


def _platform_of(session: CheckoutSession) -> AgentPlatform | None:
    platform_id = session.owner.removeprefix(OWNER_PREFIX)
    return AgentPlatform.objects.filter(pk=int(platform_id)).first() if platform_id.isdigit() else None


def on_order_changed(sender, *, order: Order, **kwargs) -> None:
    """Tell the platform whose checkout session placed `order` that it changed (shipped, delivered, cancelled...)."""
    session = CheckoutSession.objects.filter(order=order, owner__startswith=OWNER_PREFIX).first()
    if session is None:  # not an ACP order, or one being placed (its session is linked after payment)
        return
    platform = _platform_of(session)
    if platform is not None:
        order_event(platform=platform, session=session, kind="order_update")

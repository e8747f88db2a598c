"""A checkout session as ACP shows it (the spec's CheckoutSession), translated from the core's session and quote.

Nothing is computed here that the pricing service does not say: line amounts, discounts and their
allocation, shipping and tax come from `orders.pricing.Quote`; only the order-level tax is shared among
the lines for display (by `pricing.allocate`, the rule the discounts use), so the lines add up to it.
"""

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from mcpshop_site.mail import shop_link
from orders.models import DiscountCode
from orders.payments import get_provider
from orders.pricing import allocate
from policies.models import Policy
from policies.selectors import policy_links

HANDLER_ID = "card_tokenized"
HANDLER_SPEC = "https://acp.dev/handlers/tokenized.card"
DISCOUNT_EXTENSION = {
    "name": "discount",
    "extends": [
        "$.CheckoutSessionCreateRequest.discounts",
        "$.CheckoutSessionUpdateRequest.discounts",
        "$.CheckoutSession.discounts",
    ],
}
STATUSES = {
    "incomplete": "not_ready_for_payment",
    "ready_for_complete": "ready_for_payment",
    "requires_escalation": "requires_escalation",
    "completed": "completed",
    "canceled": "canceled",
    "expired": "expired",
}
# The shop's policy pages -> ACP's Link types.
LINK_TYPES = {
    Policy.Kind.PRIVACY: "privacy_policy",
    Policy.Kind.TERMS: "terms_of_use",
    Policy.Kind.RETURNS: "return_policy",
    Policy.Kind.SHIPPING: "shipping_policy",
}
# The pricing service's reasons a code does not apply, as the discount extension names them.
REJECTIONS = {
    "unknown": "discount_code_invalid",
    "expired": "discount_code_expired",
    "not_yet_valid": "discount_code_invalid",
    "used_up": "discount_code_usage_limit_reached",
    "customer_limit": "discount_code_user_ineligible",
    "empty_cart": "discount_code_minimum_not_met",
    "below_minimum": "discount_code_minimum_not_met",
    "not_stackable": "discount_code_combination_disallowed",
}


def payment_handlers() -> list[dict]:
    """Return the payment handler the shop takes: delegated card tokens for its payment provider."""
    provider = get_provider()
    return [
        {
            "id": HANDLER_ID,
            "name": "dev.acp.tokenized.card",
            "display_name": _("Card"),
            "version": "2026-01-22",
            "spec": HANDLER_SPEC,
            "requires_delegate_payment": True,
            "requires_pci_compliance": False,
            "psp": provider.name,
            "config_schema": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
            "instrument_schemas": ["https://acp.dev/schemas/handlers/tokenized.card/instrument.json"],
            "config": {"psp": provider.name, "environment": "test" if provider.name == "test" else "production"},
        }
    ]


def capabilities() -> dict:
    """Return the session's negotiated capabilities: the handler, no interventions, the discount extension."""
    return {
        "payment": {"handlers": payment_handlers()},
        "interventions": {"supported": [], "required": [], "enforcement": "conditional"},
        "extensions": [DISCOUNT_EXTENSION],
    }


def _total(kind: str, text, amount: int) -> dict:
    return {"type": kind, "display_text": str(text), "amount": amount}


def line_items(lines: list[dict], quote, products: dict) -> list[dict]:
    """Return the ACP line items of the session's `lines` ({id, sku, quantity}), priced as `quote` prices them."""
    discounts = quote.line_discounts
    nets = [line.total_cents - discount for line, discount in zip(quote.lines, discounts, strict=True)]
    taxes = allocate(quote.tax_cents, nets)
    items = []
    for index, line in enumerate(lines):
        priced, product = quote.lines[index], products[line["sku"]]
        item = {
            "id": line["id"],
            "item": {"id": line["sku"]},
            "quantity": priced.quantity,
            "name": product.display_name,
            "unit_amount": priced.unit_price_cents,
            "sku": product.sku,
            "totals": [
                _total("items_base_amount", _("Base amount"), priced.total_cents),
                _total("discount", _("Discount"), discounts[index]),
                _total("subtotal", _("Subtotal"), nets[index]),
                _total("tax", _("Tax"), taxes[index]),
                _total("total", _("Total"), nets[index] + taxes[index]),
            ],
        }
        if product.image:
            item["images"] = [shop_link(product.image.url)]
        items.append(item)
    return items


def option_id(option) -> str:
    return option.code or str(option.id)


def fulfillment_options(quote, now) -> list[dict]:
    options = []
    for option in quote.options:
        arrives = (now + timedelta(days=option.estimated_days)).isoformat()
        options.append(
            {
                "type": "shipping",
                "id": option_id(option),
                "title": option.display_name,
                "earliest_delivery_time": arrives,
                "latest_delivery_time": arrives,
                "totals": [_total("total", option.display_name, option.price_cents)],
            }
        )
    return options


def _coupon(applied) -> dict:
    offer = applied.offer
    kind = "code" if isinstance(offer, DiscountCode) else "promotion"
    coupon = {"id": f"{kind}_{offer.pk}", "name": applied.display_title or applied.code}
    if offer.percent is not None:
        coupon["percent_off"] = float(offer.percent)
    else:
        coupon["amount_off"] = offer.amount_cents
        coupon["currency"] = settings.SHOP_CURRENCY.lower()
    return coupon


def discounts(codes: list[str], quote) -> dict:
    """Return the discount extension's `discounts`: the codes sent, what applied (with allocations), what not."""
    applied = []
    for priority, discount in enumerate(quote.discounts, start=1):
        entry = {
            "id": f"discount_{priority}",
            "coupon": _coupon(discount),
            "amount": discount.amount_cents,
            "automatic": not discount.code,
            "method": "across",
            "priority": priority,
            "allocations": [
                {"path": f"$.line_items[{index}]", "amount": share}
                for index, share in enumerate(discount.allocation)
                if share
            ],
        }
        if discount.code:
            entry["code"] = discount.code
        applied.append(entry)
    rejected = [
        {"code": code, "reason": REJECTIONS.get(reason, "discount_code_invalid"), "message": message}
        for code, reason, message in quote.rejected
    ]
    return {"codes": list(codes), "applied": applied, "rejected": rejected}


def rejected_code_messages(codes: list[str], quote) -> list[dict]:
    """Return a warning for each code that does not apply (the discount extension asks for both)."""
    typed = [code.strip().upper() for code in codes]
    messages = []
    for code, reason, message in quote.rejected:
        message_entry = {
            "type": "warning",
            "code": REJECTIONS.get(reason, "discount_code_invalid"),
            "content_type": "plain",
            "content": message,
        }
        if code.upper() in typed:
            message_entry["param"] = f"$.discounts.codes[{typed.index(code.upper())}]"
        messages.append(message_entry)
    return messages


def totals(quote) -> list[dict]:
    """Return the session's totals: items, their discount, subtotal, shipping, tax, total (the quote's money)."""
    net = quote.subtotal_cents - quote.discount_cents
    rows = [_total("items_base_amount", _("Item(s) total"), quote.subtotal_cents)]
    if quote.discount_cents:
        rows.append(_total("items_discount", _("Discount"), quote.discount_cents))
    rows.append(_total("subtotal", _("Subtotal"), net))
    if quote.shipping is not None:
        rows.append(_total("fulfillment", _("Shipping"), quote.shipping_cents))
    rows.append(_total("tax", _("Tax"), quote.tax_cents))
    rows.append(_total("total", _("Total"), quote.total_cents))
    return rows


def links(*, base_url: str) -> list[dict]:
    """Return the shop's published policy pages as ACP's Links (`base_url`: the shop as the agent reaches it)."""
    return [
        {"type": LINK_TYPES[link.kind], "title": link.title, "url": link.url}
        for link in policy_links(base_url=base_url)
    ]

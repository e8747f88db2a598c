"""The demo shop's shipping, promotion and discount code (seed_demo): standard and express in China, express
and international abroad, free shipping over 199 yuan, and WELCOME10 (10% off, once per customer)."""

from orders.models import DiscountCode, Promotion, ShippingMethod, ShippingRate

FREE_SHIPPING_OVER_CENTS = 19900
# (name, English name, position, [(country, region, price in cents, estimated days), ...]); "" = everywhere else
SHIPPING = [
    ("标准快递", "Standard", 0, [("CN", "", 1000, 3), ("CN", "新疆", 2500, 7), ("CN", "西藏", 2500, 8)]),
    (
        "顺丰特快",
        "SF Express",
        1,
        [("CN", "", 2300, 1), ("HK", "", 5000, 2), ("SG", "", 8000, 4), ("US", "", 15000, 6)],
    ),
    (
        "国际快递",
        "International",
        2,
        [("HK", "", 3000, 5), ("JP", "", 6000, 7), ("US", "", 9000, 10), ("GB", "", 9000, 10)],
    ),
]


def load_demo_pricing() -> str:
    """Create what is missing (matched by name or code; staff edits survive) and say what there is."""
    for name, name_en, position, rates in SHIPPING:
        method, _created = ShippingMethod.objects.get_or_create(
            name=name, defaults={"name_en": name_en, "position": position}
        )
        for country, region, price_cents, days in rates:
            ShippingRate.objects.get_or_create(
                method=method,
                country=country,
                region=region,
                defaults={"price_cents": price_cents, "estimated_days": days},
            )
    Promotion.objects.get_or_create(
        title="满199包邮",
        defaults={
            "title_en": "Free shipping over ¥199",
            "kind": Promotion.Kind.FREE_SHIPPING,
            "min_subtotal_cents": FREE_SHIPPING_OVER_CENTS,
        },
    )
    DiscountCode.objects.get_or_create(
        code="WELCOME10",
        defaults={
            "title": "新客九折",
            "title_en": "Welcome: 10% off",
            "kind": DiscountCode.Kind.PERCENT,
            "percent": 10,
            "per_customer_limit": 1,
        },
    )
    return f"Shipping: {len(SHIPPING)} methods; free shipping over ¥199; discount code WELCOME10."

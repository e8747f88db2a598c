"""Reads for pricing: the live promotions, a cart's discount codes, a destination's shipping options."""

from dataclasses import dataclass

from django.db.models import Count, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import _in_language
from orders.exceptions import DiscountInvalid
from orders.models import DiscountCode, Promotion, ShippingRate, normalize_code


@dataclass(frozen=True)
class ShippingOption:
    """A shipping method priced for one destination (after free-shipping promotions).

    `code` names the option to agents (a UCP fulfillment option id): the chosen rate's code, else the method's,
    else the method's id; one destination's options never share one (the models' `clean` keeps codes apart).
    """

    id: int
    code: str
    name: str
    name_en: str
    price_cents: int
    estimated_days: int

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.display_name,
            "price_cents": self.price_cents,
            "estimated_days": self.estimated_days,
        }


def _live(now) -> Q:
    return (
        Q(is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


def promotions_for(*, product_ids: list[int], now=None) -> list[Promotion]:
    """Return the live promotions these products qualify for, in id order, in one query.

    A promotion with products qualifies only when every product of the cart is one of them.
    """
    if not product_ids:
        return []
    wanted = set(product_ids)
    promotions = (
        Promotion.objects.filter(_live(now or timezone.now()))
        .annotate(
            restricted=Count("products", distinct=True),
            matching=Count("products", filter=Q(products__in=wanted), distinct=True),
        )
        .order_by("id")
    )
    return [p for p in promotions if not p.restricted or p.matching == len(wanted)]


def codes_for_cart(*, cart_id: int | None, user=None) -> tuple[list[DiscountCode], dict[int, int] | None]:
    """Return the codes applied to a cart, in the order applied, and (for a user) their past uses by that user.

    One query; the second value is None without a user (per-customer limits are then not checked).
    """
    if cart_id is None:
        return [], None
    codes = DiscountCode.objects.filter(cart_discounts__cart_id=cart_id).order_by("cart_discounts__added_at", "id")
    if user is None:
        return list(codes), None
    codes = list(codes.annotate(customer_uses=Count("redemptions", filter=Q(redemptions__user=user), distinct=True)))
    return codes, {code.pk: code.customer_uses for code in codes}


def codes_named(
    *, codes: list[str], user=None, email: str = ""
) -> tuple[list[DiscountCode], dict[int, int], list[str]]:
    """Return the codes named (as a checkout session lists them), in that order, their past uses by the customer
    (the account's, else the orders to `email`; none without either), and the names that are no code of the
    shop. One query.
    """
    wanted = list(dict.fromkeys(filter(None, (typed_code(code) for code in codes))))
    found = DiscountCode.objects.filter(code__in=wanted)
    if user is not None or email:
        customer = Q(redemptions__user=user) if user is not None else Q(redemptions__order__email__iexact=email)
        found = found.annotate(customer_uses=Count("redemptions", filter=customer, distinct=True))
    by_code = {code.code: code for code in found}
    named = [by_code[code] for code in wanted if code in by_code]
    uses = {code.pk: getattr(code, "customer_uses", 0) for code in named}
    return named, uses, [code for code in wanted if code not in by_code]


def typed_code(code: str) -> str:
    """Return a code as typed, as codes are stored (`normalize_code`) and cut to 64 characters; empty when it
    holds a NUL (no code does, and PostgreSQL refuses to compare text holding one)."""
    typed = normalize_code(code)[:64]
    return "" if "\x00" in typed else typed


def code_unknown(code: str) -> DiscountInvalid:
    """Return the error for a name that is no discount code of the shop."""
    return DiscountInvalid(_("There is no discount code %(code)s.") % {"code": code}, code=code, reason="unknown")


def code_find(code: str) -> DiscountCode:
    """Return the discount code typed (any case, surrounding spaces ignored), or raise DiscountInvalid."""
    typed = typed_code(code)
    found = DiscountCode.objects.filter(code=typed).first() if typed else None
    if found is None:
        raise code_unknown(typed)
    return found


def shipping_options(*, country: str, region: str = "") -> tuple[list[ShippingOption], bool]:
    """Return each active method's price to a destination at list price (before promotions), and whether
    the shop ships at all (has any active rate: a shop without any ships free, as before shipping methods).

    One query. The most specific rate wins: the country and region, then the whole country, then every country.
    """
    region = " ".join(region.split()).casefold()
    active = ShippingRate.objects.filter(method__is_active=True)
    any_rate = Subquery(active.order_by().values("pk")[:1])
    rates = active.filter(Q(country__in=[country, ""]) | Q(pk=any_rate)).select_related("method")
    best: dict[int, tuple[int, ShippingRate]] = {}
    configured = False
    for rate in rates:
        configured = True
        if rate.country not in (country, "") or (rate.region and rate.region.casefold() != region):
            continue
        rank = (2 if rate.region else 1) if rate.country else 0
        if rate.method_id not in best or rank > best[rate.method_id][0]:
            best[rate.method_id] = (rank, rate)
    chosen = sorted((rate for _rank, rate in best.values()), key=lambda r: (r.method.position, r.method_id))
    options = [
        ShippingOption(
            id=rate.method_id,
            code=rate.code or rate.method.code or str(rate.method_id),
            name=rate.method.name,
            name_en=rate.method.name_en,
            price_cents=rate.price_cents,
            estimated_days=rate.estimated_days,
        )
        for rate in chosen
    ]
    return options, configured

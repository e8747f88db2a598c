"""Reads for pricing: the live promotions, a cart's discount codes, a destination's shipping options."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.cache import catalog_version
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


PROMOTIONS_SECONDS = 600  # the longest a cached list of live promotions is kept (none starts or ends sooner)


def _read_live_promotions(now: datetime) -> tuple[list[tuple[Promotion, frozenset[int]]], datetime]:
    """Return the promotions live at `now` with their products, and the next time one starts or ends. One query."""
    coming: dict[int, Promotion] = {}
    products: dict[int, set[int]] = {}
    rows = (
        Promotion.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), is_active=True)
        .annotate(product_id=F("products__id"))  # one row per product of the promotion (one row for none)
        .order_by("id")
    )
    for row in rows:
        coming.setdefault(row.pk, row)
        if row.product_id is not None:
            products.setdefault(row.pk, set()).add(row.product_id)
    live = [
        (promotion, frozenset(products.get(pk, ())))
        for pk, promotion in coming.items()
        if promotion.starts_at is None or promotion.starts_at <= now
    ]
    moments = [moment for promotion in coming.values() for moment in (promotion.starts_at, promotion.ends_at) if moment]
    until = min([moment for moment in moments if moment > now], default=now + timedelta(seconds=PROMOTIONS_SECONDS))
    return live, until


def live_promotions() -> list[tuple[Promotion, frozenset[int]]]:
    """Return the live promotions, in id order, each with the products it is limited to (empty: any product).

    Every cart read and quote needs them, and reading them was a third of a cart's time: they are cached under
    the catalog's version (a promotion saved or deleted, or its products changed, starts a new one: see
    OrdersConfig.ready, so every process sees it at once) and only until the next time one starts or ends.
    """
    now = timezone.now()
    key = f"offers:promotions:{catalog_version()}"
    cached = cache.get(key)
    if cached is not None and cached[0] <= now < cached[1]:
        return cached[2]
    live, until = _read_live_promotions(now)
    cache.set(key, (now, until, live), PROMOTIONS_SECONDS)
    return live


def promotions_for(*, product_ids: list[int], fresh: bool = False) -> list[Promotion]:
    """Return the live promotions these products qualify for, in id order: cached (`live_promotions`), or
    `fresh` from the database (a checkout's price, read in its transaction). At most one query.

    A promotion with products qualifies only when every product of the cart is one of them.
    """
    if not product_ids:
        return []
    wanted = set(product_ids)
    live = _read_live_promotions(timezone.now())[0] if fresh else live_promotions()
    return [promotion for promotion, products in live if not products or wanted <= products]


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

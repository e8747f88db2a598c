"""The one pricing service: what a cart or an order costs, in integer minor units of the shop's currency.

`price()` computes everything from plain inputs (no queries); `quote()` loads those inputs for a set of
lines (the cart's codes, the live promotions, the destination's shipping rates) and calls it. The cart
page, the checkout page, `cart_view` (the API, the assistant, MCP, the widget) and `order_place` all
price through `quote()`, so a price shown is the price charged.

Rules (docs/pricing.md says them for people):
- Minimum subtotals compare the subtotal before any discount.
- Automatic promotions apply first (in id order), then the codes in the order they were applied. Each
  percent discount takes its percent of what is left to pay on the lines after the discounts before it
  (rounded half up to the minor unit); a fixed one takes its amount, at most what is left. A discount that
  is not stackable combines with no other discount (free shipping is not a discount: it always combines).
- Each discount is shared among the lines by largest remainder, in proportion to what is left on each
  line, so the lines' `discount_cents` sum exactly to the order's.
- Shipping is the chosen method's most specific rate for the destination (country and region, then the
  whole country, then every country), zero when a free-shipping promotion holds.
- Tax is `TAX_RATES[country]` (a decimal string, none by default) of the discounted subtotal, rounded half
  up once for the order; shipping is not taxed.
- total = subtotal - discount + shipping + tax.
"""

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from catalog.models import _in_language
from mcpshop_site.countries import country_name
from mcpshop_site.money import money
from orders.exceptions import DiscountInvalid, ShippingUnavailable
from orders.models import DiscountCode, Promotion
from orders.offers import ShippingOption, code_unknown, codes_for_cart, codes_named, promotions_for, shipping_options


@dataclass(frozen=True)
class PriceLine:
    """A line to price: a product, its unit price now, and a quantity."""

    product_id: int
    unit_price_cents: int
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class AppliedDiscount:
    """A code or promotion that took `amount_cents` off, shared among the lines as `allocation`."""

    code: str  # "" for an automatic promotion
    title: str
    title_en: str
    amount_cents: int
    allocation: tuple[int, ...]
    offer: DiscountCode | Promotion = field(compare=False, repr=False)

    @property
    def display_title(self) -> str:
        return _in_language(self.title, self.title_en)

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.display_title, "amount_cents": self.amount_cents}


@dataclass(frozen=True)
class Quote:
    """What a set of lines costs; the money fields every cart, quote and order body carries."""

    currency: str
    lines: tuple[PriceLine, ...]
    subtotal_cents: int
    discounts: tuple[AppliedDiscount, ...]
    shipping: ShippingOption | None
    tax_cents: int
    free_shipping: bool = False
    # Codes on the cart that do not apply now: [(code, reason, message)]
    rejected: tuple[tuple[str, str, str], ...] = ()
    options: tuple[ShippingOption, ...] = ()
    ships: bool = True  # False when the shop has shipping methods but none to the destination

    @property
    def discount_cents(self) -> int:
        return sum(discount.amount_cents for discount in self.discounts)

    @property
    def shipping_cents(self) -> int:
        return self.shipping.price_cents if self.shipping else 0

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents + self.tax_cents

    @property
    def line_discounts(self) -> list[int]:
        """Return each line's share of all the discounts, in line order."""
        return [sum(shares) for shares in zip(*(d.allocation for d in self.discounts), strict=True)] or [
            0 for _line in self.lines
        ]

    def money(self) -> dict:
        """Return the six money fields of the contract (integers; total = subtotal - discount + shipping + tax)."""
        return {
            "currency": self.currency,
            "subtotal_cents": self.subtotal_cents,
            "discount_cents": self.discount_cents,
            "shipping_cents": self.shipping_cents,
            "tax_cents": self.tax_cents,
            "total_cents": self.total_cents,
        }

    def as_dict(self) -> dict:
        """Return the quote as every door shows it: the money fields, the discounts and the shipping."""
        return {
            **self.money(),
            "total": money(self.total_cents),
            "discounts": [discount.as_dict() for discount in self.discounts],
            "rejected_discounts": [{"code": code, "message": message} for code, _reason, message in self.rejected],
            "shipping": self.shipping.as_dict() if self.shipping else None,
            "free_shipping": self.free_shipping,
        }


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Share `amount` in proportion to `weights` by largest remainder: integers that sum exactly to it.

    Each share stays within its weight when `amount` <= sum(weights); ties go to the earlier line.
    """
    total = sum(weights)
    if not amount or not total:
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for index in by_remainder[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def tax_rate(country: str) -> Decimal:
    """Return the configured tax rate of `country` (TAX_RATES, e.g. {"US": "0.0725"}), zero if none."""
    return Decimal(str(settings.TAX_RATES.get(country, "0")))


def offer_problem(offer, *, subtotal_cents: int, now, customer_uses: int | None = None) -> tuple[str, str] | None:
    """Return why `offer` does not apply on its own now, as (reason, message), or None if it does.

    `customer_uses` (codes only) is how many of the customer's orders used the code; None skips that check.
    """
    label = offer.code if isinstance(offer, DiscountCode) else offer.display_title
    if not offer.is_active or (offer.ends_at and offer.ends_at <= now):
        return "expired", _("The code %(code)s has expired.") % {"code": label}
    if offer.starts_at and offer.starts_at > now:
        when = date_format(timezone.localtime(offer.starts_at), "DATETIME_FORMAT")
        return "not_yet_valid", _("The code %(code)s is valid from %(when)s.") % {"code": label, "when": when}
    if isinstance(offer, DiscountCode):
        if offer.usage_limit is not None and offer.used_count >= offer.usage_limit:
            return "used_up", _("The code %(code)s has been used up.") % {"code": label}
        limit = offer.per_customer_limit
        if customer_uses is not None and limit is not None and customer_uses >= limit:
            return "customer_limit", _("You have already used the code %(code)s.") % {"code": label}
    if not subtotal_cents:
        return "empty_cart", _("Your cart is empty.")
    if subtotal_cents < offer.min_subtotal_cents:
        return "below_minimum", _("The code %(code)s needs a subtotal of at least %(minimum)s.") % {
            "code": label,
            "minimum": money(offer.min_subtotal_cents),
        }
    return None


def _stacking_problem(offer, applied: list[AppliedDiscount]) -> tuple[str, str] | None:
    for other in applied:
        if not offer.stackable or not other.offer.stackable:
            label = offer.code if isinstance(offer, DiscountCode) else offer.display_title
            return "not_stackable", _("The code %(code)s cannot be combined with %(other)s.") % {
                "code": label,
                "other": other.code or other.display_title,
            }
    return None


def _take(offer, left: list[int]) -> int:
    """Return what `offer` takes off when `left` is what remains to pay on each line."""
    base = sum(left)
    if offer.percent is not None:
        return min(base, round_half_up(Decimal(base) * offer.percent / 100))
    return min(base, offer.amount_cents)


def price(
    *,
    lines: list[PriceLine],
    codes: list[DiscountCode] = (),
    promotions: list[Promotion] = (),
    options: list[ShippingOption] = (),
    shipping_option: int | str | None = None,
    country: str = "",
    customer_uses: dict[int, int] | None = None,
    strict: bool = False,
    ships: bool = True,
    now=None,
) -> Quote:
    """Price `lines` with the cart's `codes`, the qualifying `promotions` and the destination's shipping `options`.

    `shipping_option` picks an option by id (the cheapest if None; none at all when `options` is empty).
    A code that does not apply is listed in `rejected`, or with `strict` (checkout) raises DiscountInvalid.
    `customer_uses` maps code ids to the customer's past uses (per-customer limits; None skips them).
    Promotions are taken as qualifying already (window, activity, products: see `offers.promotions_for`).
    """
    now = now or timezone.now()
    subtotal = sum(line.total_cents for line in lines)
    left = [line.total_cents for line in lines]
    applied: list[AppliedDiscount] = []
    rejected: list[tuple[str, str, str]] = []
    free_shipping = False
    offers = [promotion for promotion in promotions if promotion.kind != Promotion.Kind.FREE_SHIPPING] + list(codes)
    for offer in offers:
        is_code = isinstance(offer, DiscountCode)
        uses = (customer_uses or {}).get(offer.pk, 0) if is_code and customer_uses is not None else None
        problem = offer_problem(offer, subtotal_cents=subtotal, now=now, customer_uses=uses)
        problem = problem or _stacking_problem(offer, applied)
        if problem:
            if is_code and strict:
                raise DiscountInvalid(problem[1], code=offer.code, reason=problem[0])
            if is_code:
                rejected.append((offer.code, *problem))
            continue
        shares = allocate(_take(offer, left), left)
        left = [remaining - share for remaining, share in zip(left, shares, strict=True)]
        applied.append(
            AppliedDiscount(
                code=offer.code if is_code else "",
                title=offer.title,
                title_en=offer.title_en,
                amount_cents=sum(shares),
                allocation=tuple(shares),
                offer=offer,
            )
        )
    for promotion in promotions:
        if promotion.kind == Promotion.Kind.FREE_SHIPPING:
            free_shipping = free_shipping or offer_problem(promotion, subtotal_cents=subtotal, now=now) is None
    if free_shipping:
        options = [replace(option, price_cents=0) for option in options]
    shipping = _pick(options, shipping_option)
    tax = round_half_up((subtotal - sum(d.amount_cents for d in applied)) * tax_rate(country))
    return Quote(
        currency=settings.SHOP_CURRENCY,
        lines=tuple(lines),
        subtotal_cents=subtotal,
        discounts=tuple(applied),
        shipping=shipping,
        tax_cents=tax,
        free_shipping=free_shipping,
        rejected=tuple(rejected),
        options=tuple(options),
        ships=ships,
    )


def _pick(options: list[ShippingOption], wanted: int | str | None) -> ShippingOption | None:
    if wanted is None:
        return min(options, key=lambda option: option.price_cents, default=None)
    for option in options:
        if option.id == wanted or option.code == wanted:
            return option
    raise ShippingUnavailable(shipping_option=wanted)


def lines_of(items) -> list[PriceLine]:
    """Return cart items (with their products) as lines to price, at today's prices."""
    return [PriceLine(item.product_id, item.product.price_cents, item.quantity) for item in items]


def quote(
    *,
    lines: list[PriceLine],
    cart_id: int | None = None,
    user=None,
    country: str = "",
    region: str = "",
    shipping_option: int | str | None = None,
    strict: bool = False,
    codes: list[str] | None = None,
    email: str = "",
) -> Quote:
    """Price `lines` with the cart's codes, the live promotions and, for a destination, its shipping.

    `cart_id` None means a cart with no codes (nothing to load). A checkout session names its `codes` instead
    of a cart (per-customer limits counted for `user`, else for the orders to `email`); a name that is no code
    of the shop is listed in `rejected` (reason "unknown"), also with `strict`: it never applied, so it changes
    no price.
    `shipping_option` is a method's id or its option code. Without a `country` there is no shipping
    yet (a cart before checkout). With `strict` (checkout), a code
    that does not apply raises DiscountInvalid and a destination the shop does not ship to raises
    ShippingUnavailable; otherwise they show in the quote (`rejected`, `ships`). Three queries at most
    for a cart (its codes, the promotions, the rates), none for an empty one; the promotions come from the
    cache unless `strict` (offers.promotions_for).
    """
    unknown = []
    if codes is not None:
        codes, uses, unknown = codes_named(codes=codes, user=user, email=email) if lines else ([], None, [])
    else:
        codes, uses = codes_for_cart(cart_id=cart_id, user=user) if lines else ([], None)
    promotions = promotions_for(product_ids=[line.product_id for line in lines], fresh=strict)
    options, configured = shipping_options(country=country, region=region) if country else ([], False)
    ships = bool(options) or not configured
    if not ships and (strict or shipping_option is not None):
        raise ShippingUnavailable(
            _("Sorry, we do not ship to %(place)s yet.") % {"place": country_name(country)}, country=country
        )
    priced = price(
        lines=lines,
        codes=codes,
        promotions=promotions,
        options=options,
        shipping_option=shipping_option if options else None,
        country=country,
        customer_uses=uses,
        strict=strict,
        ships=ships,
    )
    if not unknown:
        return priced
    missing = [(code, "unknown", code_unknown(code).message) for code in unknown]
    return replace(priced, rejected=(*missing, *priced.rejected))

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.formats import date_format

from catalog.models import _in_language
from mcpshop_site.money import money
from orders.exceptions import OrderItemNotFound, OrderNotFound, TimeZoneUnavailable
from orders.models import Order, OrderItem


def order_list_for_user(*, user) -> QuerySet[Order]:
    """Return the user's orders, newest first, with their shipping method and items."""
    return (
        Order.objects.filter(user=user)
        .select_related("shipping_method")
        .prefetch_related(Prefetch("items", OrderItem.objects.order_by("id")))
    )


def order_get_for_user(*, user, order_id) -> Order:
    """Return one of the user's orders; someone else's order is exactly as missing as a wrong id."""
    try:
        order_id = int(order_id)
        if not 0 < order_id < 2**63:
            raise ValueError
        return order_list_for_user(user=user).get(pk=order_id)
    except (Order.DoesNotExist, TypeError, ValueError):
        raise OrderNotFound(id=str(order_id)[:32]) from None


def order_find_for_user(*, user, reference) -> Order:
    """Return one of the user's orders by what the shopper sees, its number ("#K7QX2M9HR4TP", any case),
    or by its id; someone else's order is exactly as missing as a wrong one."""
    text = str(reference).strip().lstrip("#").upper()
    matches = Q(number=text)
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**63:  # "²" is a digit to isdigit(), not to int()
        matches |= Q(pk=int(text))
    # A number made only of digits is read as the number first: that is what the shopper was shown.
    found = sorted(order_list_for_user(user=user).filter(matches), key=lambda order: order.number != text)
    if not text or not found:
        raise OrderNotFound(id=str(reference)[:32])
    return found[0]


def order_item_get(*, order: Order, item_id) -> OrderItem:
    """Return a line of `order`; a line of another order is as missing as a wrong id."""
    try:
        item_id = int(item_id)
        if not 0 < item_id < 2**63:
            raise ValueError
        return order.items.get(pk=item_id)
    except (OrderItem.DoesNotExist, TypeError, ValueError):
        raise OrderItemNotFound(id=str(item_id)[:32]) from None


def order_last_address(*, user) -> dict | None:
    """Return the contact details of the user's latest order, to prefill the next checkout."""
    return Order.objects.filter(user=user).order_by("-created_at", "-id").values("name", "phone", "address").first()


def order_money(order: Order) -> dict:
    """Return the order's money fields: currency, subtotal, discount, shipping, tax and total (integers)."""
    fields = ("currency", "subtotal_cents", "discount_cents", "shipping_cents", "tax_cents", "total_cents")
    return {field: getattr(order, field) for field in fields}


def order_summary(order: Order) -> dict:
    """Return an order as every door but the REST API shows it (the tools, MCP, the chat's events).

    `placed` and `pay_by` are local times in the active language, as the order pages show them;
    `pay_by` is set while the order awaits payment.
    """
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "status_display": str(order.get_status_display()),
        **order_money(order),
        "total": money(order.total_cents),
        "discounts": order.display_discounts,
        "shipping_method": order.shipping_method_display,
        "created_at": order.created_at.isoformat(),
        "placed": date_format(timezone.localtime(order.created_at), "DATETIME_FORMAT"),
        "payment_due_at": order.payment_due_at.isoformat(),
        "pay_by": date_format(timezone.localtime(order.payment_due_at), "DATETIME_FORMAT")
        if order.status == Order.Status.PENDING
        else "",
        "refunded_cents": order.refunded_cents,
        "items": [
            {
                "sku": item.sku,
                "name": item.display_name,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
                "cancelled": item.cancelled_at is not None,
            }
            for item in order.items.all()
        ],
        "can_cancel": order.can_cancel,
    }


# The sales dashboard (staff) --------------------------------------------------------------------

SOLD_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED)
UNSOLD_STATUSES = (Order.Status.CANCELLED, Order.Status.EXPIRED)


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int  # placed that day and neither cancelled nor expired
    revenue_cents: int  # money kept from the orders placed that day: paid minus refunded


@dataclass(frozen=True)
class ProductSales:
    sku: str
    name: str  # as copied at purchase
    name_en: str  # the English name copied at purchase ("" if it had none)
    product_id: int | None  # None once the product is deleted; the line keeps its SKU and name
    units: int
    revenue_cents: int

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)


def _shop_midnight(day: date) -> datetime:
    """Return the start of `day` in the shop's TIME_ZONE (not the visitor's activated one)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def order_sales_per_day(*, days: int = 30, today: date | None = None) -> list[DaySales]:
    """Return the orders placed and the revenue (paid minus refunded) of each of the last `days` days (0 if quiet).

    Days are calendar days in the shop's TIME_ZONE, grouped by the database in one query.
    """
    zone = timezone.get_default_timezone()
    today = today or timezone.localdate(timezone=zone)
    first = today - timedelta(days=days - 1)
    rows = (
        Order.objects.filter(created_at__gte=_shop_midnight(first), created_at__lt=_shop_midnight(today + timedelta(1)))
        .filter(Q(paid_cents__gt=0) | ~Q(status__in=UNSOLD_STATUSES))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            orders=Count("id", filter=~Q(status__in=UNSOLD_STATUSES)),
            revenue=Sum(F("paid_cents") - F("refunded_cents"), default=0),
        )
        .order_by()
    )
    found = {row["day"]: row for row in rows}
    if None in found:  # MySQL/MariaDB answer NULL from CONVERT_TZ without their time zone tables
        raise TimeZoneUnavailable(time_zone=str(zone))
    return [
        DaySales(day=day, orders=found[day]["orders"], revenue_cents=int(found[day]["revenue"]))
        if day in found
        else DaySales(day=day, orders=0, revenue_cents=0)
        for day in (first + timedelta(offset) for offset in range(days))
    ]


def order_top_products(*, since: datetime, by: str = "units", limit: int = 10) -> list[ProductSales]:
    """Return the best sellers among paid, shipped and delivered orders placed since `since` (lines not cancelled).

    `by` is "units" or "revenue"; a line's revenue is what was paid for it (OrderItem.paid_amount_cents:
    its total less its share of the discounts). Lines are grouped by SKU, so a product sold under one SKU
    counts once even if its name changed between orders.
    """
    ranking = {"units": "-units", "revenue": "-revenue_cents"}[by]
    line_paid = Cast("quantity", BigIntegerField()) * F("unit_price_cents") - F("discount_cents")
    rows = (
        OrderItem.objects.filter(
            order__status__in=SOLD_STATUSES, order__created_at__gte=since, cancelled_at__isnull=True
        )
        .values("sku")
        .annotate(
            name=Max("name"),
            name_en=Max("name_en"),
            product_id=Max("product_id"),
            units=Sum("quantity"),
            revenue_cents=Sum(line_paid),
        )
        .order_by(ranking, "sku")[:limit]
    )
    return [
        ProductSales(
            sku=row["sku"],
            name=row["name"],
            name_en=row["name_en"] or "",
            product_id=row["product_id"],
            units=int(row["units"]),
            revenue_cents=int(row["revenue_cents"]),
        )
        for row in rows
    ]

"""The admin's sales and stock dashboard: orders per day, top products, low stock.

Charts are SVG drawn on the server (no script, no CDN, nothing inline for the Content-Security-Policy
to refuse); every figure is also in a table. The numbers come from the selectors, a fixed number of
queries whatever the size of the shop.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from catalog.selectors import product_list_low_stock
from mcpshop_site.exceptions import ShopError
from mcpshop_site.money import money
from orders.selectors import order_sales_per_day, order_top_products

DAYS = 30  # the orders-per-day charts
PERIODS = (7, 30, 90, 365)  # the top products, in days
TOP_PRODUCTS = 10
LOW_STOCK_THRESHOLD = 5
LOW_STOCK_SHOWN = 20

# The column charts' drawing area, in SVG user units (the picture scales to the page's width).
WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 72, 32, 12, 28


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    title: str  # what a pointer or a screen reader gets for this column


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class ColumnChart:
    """A column chart's geometry, ready for templates/admin/dashboard_columns.html."""

    key: str  # the element id prefix
    title: str
    description: str
    columns: list[Column]
    y_ticks: list[Tick]  # horizontal grid lines with their value
    x_ticks: list[Tick]  # labelled days under the columns
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT


def axis_top(value: int) -> int:
    """Return the smallest 2, 4, 6, 8 or 10 x 10^k at or above `value`, so the half-way line is a whole number."""
    magnitude = 1
    while True:
        for mantissa in (2, 4, 6, 8, 10):
            if mantissa * magnitude >= value:
                return mantissa * magnitude
        magnitude *= 10


def column_chart(
    *, key: str, title: str, description: str, values: list[int], labels: list[str], titles: list[str], tick_text
) -> ColumnChart:
    """Lay out one column per value on a shared zero line; label every fifth column from the last."""
    top = axis_top(max(values, default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - RIGHT - LEFT) / max(len(values), 1)
    columns = []
    for index, (value, column_title) in enumerate(zip(values, titles, strict=True)):
        height = round(value / top * plot_height, 1)
        columns.append(
            Column(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                title=column_title,
            )
        )
    y_ticks = [Tick(round(HEIGHT - BOTTOM - share * plot_height, 1), tick_text(top * share)) for share in (0, 0.5, 1)]
    x_ticks = [
        Tick(round(LEFT + (index + 0.5) * slot, 1), label)
        for index, label in enumerate(labels)
        if (len(labels) - 1 - index) % 5 == 0
    ]
    return ColumnChart(key, title, description, columns, y_ticks, x_ticks)


def _whole_money(cents: float) -> str:
    return money(round(cents)).removesuffix(".00")


def _share(value: int, top: int) -> float:
    """Return `value` as a percentage of `top`, for a bar in a table row."""
    return round(100 * value / top, 1) if top else 0


def _int_param(request, name: str, default: int, *, allowed=None, maximum: int = 10**6) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    if allowed is not None and value not in allowed:
        return default
    return min(max(value, 0), maximum)


def sales_dashboard(request, *, admin_context: dict) -> TemplateResponse:
    """Render the dashboard for staff; `admin_context` is the admin site's `each_context`."""
    days = _int_param(request, "days", 30, allowed=PERIODS)
    threshold = _int_param(request, "threshold", LOW_STOCK_THRESHOLD, maximum=100_000)

    try:
        per_day = order_sales_per_day(days=DAYS)
    except ShopError as error:  # the database cannot tell days apart: say so, draw the rest
        messages.error(request, error.message)
        per_day = []
    day_labels = [formats.date_format(row.day, "MONTH_DAY_FORMAT") for row in per_day]
    axis_labels = [formats.date_format(row.day, pgettext("short day under a chart", "M j")) for row in per_day]
    orders_chart = column_chart(
        key="orders-per-day",
        title=_("Orders per day"),
        description=_("Orders placed on each of the last %(days)d days, cancelled orders left out.") % {"days": DAYS},
        values=[row.orders for row in per_day],
        labels=axis_labels,
        titles=[
            ngettext("%(day)s: %(count)d order", "%(day)s: %(count)d orders", row.orders)
            % {"day": label, "count": row.orders}
            for label, row in zip(day_labels, per_day, strict=True)
        ],
        tick_text=lambda value: f"{value:,.0f}",
    )
    revenue_chart = column_chart(
        key="revenue-per-day",
        title=_("Revenue per day"),
        description=_("Paid, shipped and delivered orders placed on each of the last %(days)d days.") % {"days": DAYS},
        values=[row.revenue_cents for row in per_day],
        labels=axis_labels,
        titles=[f"{label}: {money(row.revenue_cents)}" for label, row in zip(day_labels, per_day, strict=True)],
        tick_text=_whole_money,
    )

    since = timezone.now() - timedelta(days=days)
    by_units = order_top_products(since=since, by="units", limit=TOP_PRODUCTS)
    by_revenue = order_top_products(since=since, by="revenue", limit=TOP_PRODUCTS)
    most_units = max((row.units for row in by_units), default=0)
    most_revenue = max((row.revenue_cents for row in by_revenue), default=0)

    low_stock = product_list_low_stock(threshold=threshold)
    low_stock_count = low_stock.count()
    low_rows = [
        {
            "product": product,
            "url": reverse("admin:catalog_product_change", args=[product.pk]),
            "share": _share(product.stock, max(threshold, 1)),
        }
        for product in low_stock[:LOW_STOCK_SHOWN]
    ]

    def product_row(row, share):
        url = reverse("admin:catalog_product_change", args=[row.product_id]) if row.product_id else ""
        return {"sales": row, "url": url, "share": share}

    context = {
        **admin_context,
        "title": _("Sales and stock"),
        "days": DAYS,
        "period": days,
        "periods": PERIODS,
        "threshold": threshold,
        "orders_total": sum(row.orders for row in per_day),
        "revenue_total": sum(row.revenue_cents for row in per_day),
        "charts": [orders_chart, revenue_chart],
        "per_day": list(zip(day_labels, per_day, strict=True)),
        "top_units": [product_row(row, _share(row.units, most_units)) for row in by_units],
        "top_revenue": [product_row(row, _share(row.revenue_cents, most_revenue)) for row in by_revenue],
        "low_stock": low_rows,
        "low_stock_count": low_stock_count,
        "low_stock_url": f"{reverse('admin:catalog_product_changelist')}?is_active__exact=1&stock__lte={threshold}",
    }
    return TemplateResponse(request, "admin/dashboard.html", context)

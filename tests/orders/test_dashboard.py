import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db.models import DateField, Value
from django.urls import reverse
from django.utils import timezone

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.dashboard import axis_top
from orders.models import Order
from orders.selectors import order_sales_per_day, order_top_products
from orders.services import order_cancel, order_mark_delivered, order_mark_shipped, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL, page_client_for

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:orders_order_dashboard"


def place(user, *lines, status="PAID", at=None) -> Order:
    """Place an order of (product, quantity) lines, move it to `status`, date it `at` (aware)."""
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    order = order_place(user=user, **CONTACT)
    if status in ("PAID", "SHIPPED", "DELIVERED"):
        order = order_pay(user=user, order_id=order.pk, return_url=RETURN_URL)
    if status in ("SHIPPED", "DELIVERED"):
        order = order_mark_shipped(order=order)
    if status == "DELIVERED":
        order = order_mark_delivered(order=order)
    if status == "CANCELLED":
        order = order_cancel(order=order)
    if at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=at)
    return order


def shop_time(day, hour, minute=0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


# Who may see it ---------------------------------------------------------------------------------


def test_anonymous_visitors_and_shoppers_are_sent_to_the_admin_login(client, alice):
    url = reverse(DASHBOARD)
    for visitor in (client, page_client_for(alice)):
        response = visitor.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_order_permission_are_refused_and_see_no_link(staff):
    client = page_client_for(staff)
    assert client.get(reverse(DASHBOARD)).status_code == 403
    assert reverse(DASHBOARD) not in client.get(reverse("admin:index")).content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = page_client_for(staff)
    assert client.get(reverse(DASHBOARD)).status_code == 200
    assert reverse(DASHBOARD) in client.get(reverse("admin:index")).content.decode()


# Orders per day ---------------------------------------------------------------------------------


def test_orders_per_day_uses_the_shops_calendar_and_shows_quiet_days_as_zero(alice, make_product):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    tea = make_product(price_cents=1000, stock=100)
    # 23:30 and 00:30 in Shanghai fall on different days here, though both are the same UTC day.
    place(alice, (tea, 1), at=shop_time(yesterday, 23, 30))
    place(alice, (tea, 2), at=shop_time(today, 0, 30))
    place(alice, (tea, 3), status="PENDING", at=shop_time(today, 9))  # placed, not paid
    place(alice, (tea, 4), status="CANCELLED", at=shop_time(today, 10))  # does not count
    place(alice, (tea, 1), at=shop_time(today - timedelta(days=30), 12))  # too old for 30 days

    days = order_sales_per_day(days=30)

    assert [row.day for row in days] == [today - timedelta(days=29 - n) for n in range(30)]
    assert (days[-1].orders, days[-1].revenue_cents) == (2, 2000)
    assert (days[-2].orders, days[-2].revenue_cents) == (1, 1000)
    assert all((row.orders, row.revenue_cents) == (0, 0) for row in days[:-2])


def test_days_follow_the_shops_time_zone_not_the_visitors(alice, make_product):
    tea = make_product(stock=10)
    today = timezone.localdate()
    place(alice, (tea, 1), at=shop_time(today, 0, 30))
    with timezone.override("America/New_York"):  # an admin reading from New York: still the shop's day
        days = order_sales_per_day(days=2, today=today)
    assert [row.orders for row in days] == [0, 1]


# Top products -----------------------------------------------------------------------------------


def test_top_products_count_paid_shipped_and_delivered_orders_only(alice, make_product):
    cheap = make_product("CHEAP", price_cents=100, stock=100)
    dear = make_product("DEAR", price_cents=10_000, stock=100)
    place(alice, (cheap, 5), (dear, 1))
    place(alice, (cheap, 3), status="SHIPPED")
    place(alice, (dear, 1), status="DELIVERED")
    place(alice, (cheap, 50), status="PENDING")
    place(alice, (dear, 50), status="CANCELLED")
    place(alice, (dear, 9), at=timezone.now() - timedelta(days=40))  # before the period

    since = timezone.now() - timedelta(days=30)
    by_units = order_top_products(since=since, by="units")
    by_revenue = order_top_products(since=since, by="revenue")

    assert [(row.sku, row.units, row.revenue_cents) for row in by_units] == [("CHEAP", 8, 800), ("DEAR", 2, 20_000)]
    assert [row.sku for row in by_revenue] == ["DEAR", "CHEAP"]
    assert by_units[0].product_id == cheap.pk


def test_a_deleted_product_still_counts_under_its_sku(alice, make_product):
    gone = make_product("GONE", price_cents=500, stock=10)
    place(alice, (gone, 2))
    gone.delete()
    [row] = order_top_products(since=timezone.now() - timedelta(days=1), by="units")
    assert (row.sku, row.product_id, row.units) == ("GONE", None, 2)


def test_the_value_axis_ends_on_a_round_number_with_a_whole_half_way_line():
    assert [axis_top(value) for value in (0, 1, 3, 6, 9, 11, 95, 4_540_300)] == [2, 2, 4, 6, 10, 20, 100, 6_000_000]


# The page ---------------------------------------------------------------------------------------


def test_the_dashboard_shows_charts_tables_and_low_stock_links(admin_client, alice, make_product, english):
    tea = make_product("TEA-9", name="龙井", name_en="Longjing", price_cents=2500, stock=40)
    low = make_product("LOW-1", stock=3)
    empty = make_product("EMPTY-1", stock=0)
    make_product("HIDDEN-1", stock=1, is_active=False)
    place(alice, (tea, 4))

    page = admin_client.get(reverse(DASHBOARD)).content.decode()

    assert page.count('<svg class="dashboard-columns"') == 2
    assert '<title id="orders-per-day-title">Orders per day</title>' in page
    assert "Paid revenue" in page and "¥100.00" in page  # the figure, in the table as well as the chart
    top = page[page.index('id="top-products-heading"') : page.index('id="low-stock-heading"')]
    assert f'href="{reverse("admin:catalog_product_change", args=[tea.pk])}">TEA-9</a>' in top
    assert "Longjing" in top and "龙井" not in top  # the English name on English pages
    low_stock = page[page.index('id="low-stock-heading"') :]
    assert low_stock.index("EMPTY-1") < low_stock.index("LOW-1")  # the emptiest first
    assert f'href="{reverse("admin:catalog_product_change", args=[low.pk])}"' in low_stock
    assert f'href="{reverse("admin:catalog_product_change", args=[empty.pk])}"' in low_stock
    assert "HIDDEN-1" not in page and "TEA-9</a></td>" not in low_stock
    # Nothing the Content-Security-Policy would refuse: no inline script, style or handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=|<style", page)


def test_the_dashboard_speaks_chinese_by_default(admin_client):
    page = admin_client.get(reverse(DASHBOARD)).content.decode()
    assert "销售与库存" in page and "每日订单" in page and "库存不足" in page
    assert "销售与库存" in admin_client.get(reverse("admin:index")).content.decode()


def test_period_and_threshold_come_from_the_query_string_and_bad_values_fall_back(admin_client, make_product):
    make_product("FIVE", stock=5)
    make_product("NINE", stock=9)
    assert "NINE" in admin_client.get(reverse(DASHBOARD), {"threshold": "9", "days": "7"}).content.decode()
    page = admin_client.get(reverse(DASHBOARD), {"threshold": "x", "days": "1000"})
    assert page.status_code == 200
    assert (page.context["threshold"], page.context["period"]) == (5, 30)
    assert "FIVE" in page.content.decode() and "NINE" not in page.content.decode()


def test_the_dashboard_takes_the_same_queries_for_a_quiet_and_a_busy_shop(
    admin_client, alice, bob, make_product, django_assert_num_queries
):
    url = reverse(DASHBOARD)
    first = make_product(stock=1)
    place(alice, (first, 1))
    # session, user; orders per day; top by units; top by revenue; low stock count and rows
    with django_assert_num_queries(7):
        admin_client.get(url)

    today = timezone.localdate()
    products = [make_product(stock=50) for _ in range(12)]
    for stock in range(30):
        make_product(stock=stock % 6)  # with `first`, sold out: 31 products low on stock, 20 listed
    for day in range(25):
        place(bob, (products[day % 12], 1), (products[(day + 5) % 12], 1), at=shop_time(today - timedelta(day), 12))
    with django_assert_num_queries(7):
        response = admin_client.get(url)
    assert sum(row.orders for _, row in response.context["per_day"]) == 26
    assert len(response.context["top_units"]) == 10
    assert (response.context["low_stock_count"], len(response.context["low_stock"])) == (31, 20)


def test_a_database_without_time_zone_tables_gets_a_clear_message(
    admin_client, alice, make_product, monkeypatch, english
):
    """MySQL/MariaDB without their time zone tables answer NULL days: say what to load, draw the rest."""
    import orders.selectors

    place(alice, (make_product(stock=5), 1))
    monkeypatch.setattr(orders.selectors, "TruncDate", lambda *args, **kwargs: Value(None, output_field=DateField()))
    response = admin_client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    [message] = [str(message) for message in response.context["messages"]]
    assert "mysql_tzinfo_to_sql" in message
    assert 'id="top-products-heading"' in response.content.decode()

"""The payment deadline and refunds: unpaid orders expire through the job queue, cancelled money goes back."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.exceptions import IllegalTransition, LineAlreadyCancelled, OrderExpired
from orders.models import Order, OrderItem, Refund
from orders.selectors import order_sales_per_day, order_summary, order_top_products
from orders.services import (
    order_cancel,
    order_cancel_line,
    order_expire_overdue,
    order_mark_shipped,
    order_pay,
    order_place,
)
from orders.tasks import order_expire_at_deadline
from tests.conftest import CONTACT, RETURN_URL
from tests.jobs import queued, run_jobs

pytestmark = pytest.mark.django_db


def place(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return order_place(user=user, **CONTACT)


def pay(order):
    return order_pay(user=order.user, order_id=order.pk, return_url=RETURN_URL)


def expiries(results) -> list:
    """Return what the expiry jobs among the jobs run returned (the order's emails are jobs too)."""
    return [
        result.return_value for result in results if result.task.module_path == order_expire_at_deadline.module_path
    ]


def stock(product) -> int:
    product.refresh_from_db()
    return product.stock


def test_an_order_is_due_for_payment_after_the_configured_minutes(alice, product, settings):
    settings.ORDER_PAYMENT_MINUTES = Decimal("45")
    before = timezone.now()
    order = place(alice, (product, 1))
    assert before + timedelta(minutes=45) <= order.payment_due_at <= timezone.now() + timedelta(minutes=45)
    assert order.status == Order.Status.PENDING and order.awaits_payment


def test_the_expiry_job_commits_with_the_order_and_releases_its_stock_once(alice, product):
    order = place(alice, (product, 2))
    assert stock(product) == 3
    assert queued(order_expire_at_deadline) == [[order.pk]]
    job = DBTaskResult.objects.get(task_path=order_expire_at_deadline.module_path)
    assert job.run_after == order.payment_due_at

    # Not due yet: the order keeps its stock.
    assert expiries(run_jobs(queue="default", at=order.payment_due_at - timedelta(seconds=1))) == []
    assert stock(product) == 3
    assert expiries(run_jobs(queue="default", at=order.payment_due_at)) == [True]

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED and stock(product) == 5
    assert order_expire_overdue() == 0 and stock(product) == 5  # the sweep finds nothing left to release


def test_the_sweep_expires_overdue_orders_whose_job_is_gone(alice, bob, product, settings):
    settings.ORDER_PAYMENT_MINUTES = Decimal("0.001")
    late, also_late = place(alice, (product, 1)), place(bob, (product, 2))
    DBTaskResult.objects.all().delete()  # e.g. a queue pruned by hand
    time.sleep(0.1)
    settings.ORDER_PAYMENT_MINUTES = Decimal("30")
    on_time = place(alice, (product, 1))

    assert order_expire_overdue() == 2
    assert stock(product) == 4
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {late.pk: "EXPIRED", also_late.pk: "EXPIRED", on_time.pk: "PENDING"}


def test_paying_after_the_deadline_is_refused_and_the_order_expires(alice, product, settings):
    settings.ORDER_PAYMENT_MINUTES = Decimal("0.001")
    order = place(alice, (product, 2))
    time.sleep(0.1)

    with pytest.raises(OrderExpired):
        pay(order)

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED and order.paid_cents == 0 and stock(product) == 5
    with pytest.raises(OrderExpired):
        pay(order)


def test_paying_records_the_payment(alice, product):
    order = pay(place(alice, (product, 2)))
    assert order.status == Order.Status.PAID and order.paid_cents == 25600 and order.paid_at
    payment = order.payments.get()
    assert (payment.provider, payment.amount_cents) == ("test", 25600) and payment.reference.startswith("test_")


def test_the_deadline_job_leaves_a_paid_order_alone(alice, product):
    order = pay(place(alice, (product, 2)))
    assert expiries(run_jobs(queue="default", at=order.payment_due_at)) == [False]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and stock(product) == 3


def test_cancelling_a_paid_order_refunds_what_was_paid_once(alice, product):
    order = pay(place(alice, (product, 2)))

    order = order_cancel(order=order)

    assert order.status == Order.Status.CANCELLED and stock(product) == 5
    refund = order.refunds.get()
    assert (refund.amount_cents, refund.reason, refund.payment) == (25600, "ORDER_CANCELLED", order.payments.get())
    assert order.refunded_cents == order.paid_cents == 25600
    with pytest.raises(IllegalTransition):
        order_cancel(order=order)
    assert Refund.objects.count() == 1 and stock(product) == 5


def test_a_pending_order_is_cancelled_without_a_refund(alice, product):
    order = order_cancel(order=place(alice, (product, 1)))
    assert order.status == Order.Status.CANCELLED and not order.refunds.exists() and order.refunded_cents == 0


def test_cancelling_a_line_of_a_paid_order_refunds_that_line_and_restocks_it(alice, product, make_product):
    mug = make_product("MUG-L", price_cents=3900, stock=10)
    order = pay(place(alice, (product, 1), (mug, 3)))
    line = order.items.get(sku="MUG-L")

    order = order_cancel_line(order=order, item_id=line.pk)

    assert order.status == Order.Status.PAID and stock(mug) == 10 and stock(product) == 4
    refund = order.refunds.get()
    assert (refund.amount_cents, refund.reason, refund.item_id) == (3 * 3900, "LINE_CANCELLED", line.pk)
    assert order.refunded_cents == 3 * 3900
    with pytest.raises(LineAlreadyCancelled):
        order_cancel_line(order=order, item_id=line.pk)
    assert stock(mug) == 10 and order.refunds.count() == 1

    order = order_cancel(order=order)  # the rest: the tea
    assert order.refunded_cents == order.paid_cents and stock(product) == 5 and stock(mug) == 10
    assert sorted(order.refunds.values_list("amount_cents", flat=True)) == [3 * 3900, 12800]


def test_cancelling_the_last_line_cancels_the_order(alice, product):
    order = pay(place(alice, (product, 2)))
    order = order_cancel_line(order=order, item_id=order.items.get().pk)
    assert order.status == Order.Status.CANCELLED and order.refunded_cents == 25600 and stock(product) == 5


def test_only_a_paid_orders_lines_can_be_cancelled(alice, product):
    pending = place(alice, (product, 1))
    with pytest.raises(IllegalTransition):
        order_cancel_line(order=pending, item_id=pending.items.get().pk)
    shipped = order_mark_shipped(order=pay(place(alice, (product, 1))))
    with pytest.raises(IllegalTransition):
        order_cancel_line(order=shipped, item_id=shipped.items.get().pk)
    assert not Refund.objects.exists()


def test_revenue_is_paid_minus_refunded(alice, product, make_product):
    mug = make_product("MUG-R", price_cents=3900, stock=10)
    kept = pay(place(alice, (product, 1), (mug, 1)))
    order_cancel_line(order=kept, item_id=kept.items.get(sku="MUG-R").pk)
    order_cancel(order=pay(place(alice, (product, 1))))
    place(alice, (mug, 1))  # unpaid: no revenue yet

    [today] = order_sales_per_day(days=1)

    assert today.revenue_cents == 12800  # 12800 + 3900 - 3900 refunded; the cancelled order's money went back
    assert today.orders == 2  # the kept order and the unpaid one; not the cancelled one


def test_the_summary_shows_the_number_deadline_and_names_in_the_shoppers_language(alice, product):
    from django.utils import translation

    order = place(alice, (product, 1))
    with translation.override("en"):
        summary = order_summary(order)
    assert summary["number"] == order.number and summary["items"][0]["name"] == "West Lake Longjing"
    assert summary["payment_due_at"] == order.payment_due_at.isoformat() and summary["pay_by"]
    with translation.override("zh-hans"):
        assert order_summary(order)["items"][0]["name"] == "西湖龙井"
    assert order_summary(pay(order))["pay_by"] == ""


def test_order_numbers_are_random_and_unguessable(alice, product, make_product):
    tea = make_product("TEA-N", stock=50)
    numbers = [place(alice, (tea, 1)).number for _ in range(20)]
    assert len(set(numbers)) == 20
    assert all(len(n) == 12 and set(n) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for n in numbers)
    assert numbers != sorted(numbers)


def test_a_products_revenue_is_what_was_paid_for_its_lines(alice, product):
    order = pay(place(alice, (product, 2)))
    OrderItem.objects.filter(order=order).update(discount_cents=2560)  # its share of a 10% code
    [row] = order_top_products(since=order.created_at, by="revenue")
    assert (row.sku, row.units, row.revenue_cents) == ("TEA-001", 2, 25600 - 2560)


def test_cancelling_a_line_gives_back_its_share_of_the_tax_and_the_whole_order_all_of_it(
    alice, product, make_product, settings
):
    settings.TAX_RATES = {"US": "0.0725"}
    mug = make_product("MUG-T", price_cents=3900, stock=10)
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=mug, quantity=1)
    address = {"country": "US", "region": "CA", "city": "Oakland", "street": "1 Main St", "postal_code": "94607"}
    order = pay(order_place(user=alice, name="Alice", phone="5105550100", address=address))
    assert order.tax_cents == 1211  # (12800 + 3900) * 0.0725 = 1210.75
    line = order.items.get(sku="MUG-T")

    order = order_cancel_line(order=order, item_id=line.pk)

    assert order.refunds.get().amount_cents == 3900 + 283  # 3900 * 0.0725 = 282.75: the mug's tax comes back
    order = order_cancel(order=order)
    assert order.refunded_cents == order.paid_cents == order.total_cents

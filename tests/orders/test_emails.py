"""Order emails: each event of an order sends its email once, through the job queue, in the order's language;
a failing mail server is retried with backoff and never fails the order."""

import logging
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django_tasks_db.models import DBTaskResult

from cart.services import cart_add_item, cart_discount_apply, cart_get_or_create
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock
from orders.emails import order_email_send
from orders.models import DiscountCode, Order, OrderEmail, ShippingMethod, ShippingRate
from orders.services import order_cancel, order_expire, order_mark_shipped, order_pay, order_place
from tests.conftest import CONTACT
from tests.jobs import run_jobs

pytestmark = pytest.mark.django_db


def place(user, product, quantity=2, *, language="zh-hans") -> Order:
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=product, quantity=quantity)
    with translation.override(language):
        return order_place(user=user, **CONTACT)


def sent(order: Order, *, at=None) -> list[str]:
    """Return the subjects of the emails sent so far to the order's shopper, after running the jobs due (at `at`)."""
    run_jobs(at=at)
    return [message.subject for message in mail.outbox if message.to == [order.user.email]]


def test_a_placed_order_is_emailed_with_its_deadline_lines_and_address_in_chinese(alice, product):
    order = place(alice, product)
    assert mail.outbox == []  # the checkout only queued it
    assert sent(order) == [f"已收到订单 #{order.number}，请付款确认"]
    [message] = mail.outbox
    html = message.alternatives[0][0]
    with translation.override("zh-hans"):
        deadline = date_format(timezone.localtime(order.payment_due_at), "DATETIME_FORMAT")
    for body in (message.body, html):
        assert "西湖龙井 × 2" in body
        assert "¥256.00" in body
        assert CONTACT["address"] in body
        assert deadline in body
        assert f"http://127.0.0.1:8000/orders/{order.number}/" in body
    assert "<script" not in html and "<img" not in html and 'lang="zh-hans"' in html


def test_an_order_placed_in_english_is_emailed_in_english_whatever_the_worker_speaks(alice, product):
    order = place(alice, product, language="en")
    assert order.language == "en"
    with translation.override("zh-hans"):
        assert sent(order) == [f"Order #{order.number} received: please pay to confirm it"]
    [message] = mail.outbox
    assert "West Lake Longjing × 2  ¥256.00" in message.body
    assert "Hello alice," in message.body and "We hold its items for you until" in message.body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Subtotal: ¥256.00", "Spring sale: −¥25.60 (SPRING)", "Shipping: ¥20.00 (Express)", "Total: ¥250.40"]),
        ("zh-hans", ["小计：¥256.00", "春季促销：−¥25.60 (SPRING)", "运费：¥20.00 (特快)", "合计：¥250.40"]),
    ],
)
def test_the_email_shows_the_money_lines_discounts_and_shipping_of_the_order(alice, product, language, expected):
    express = ShippingMethod.objects.create(name="特快", name_en="Express")
    ShippingRate.objects.create(method=express, country="CN", region="", price_cents=2000, estimated_days=1)
    DiscountCode.objects.create(code="SPRING", title="春季促销", title_en="Spring sale", kind="PERCENT", percent=10)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    cart_discount_apply(shopper=Shopper(user=alice), code="spring")
    with translation.override(language):
        order = order_place(user=alice, **CONTACT, shipping_option=express.pk)
    sent(order)
    [message] = mail.outbox
    for line in expected:
        assert line in message.body
    html = message.alternatives[0][0]
    assert "−¥25.60" in html and "¥20.00" in html and "¥250.40" in html


def test_each_event_sends_its_email_once(alice, product, settings):
    settings.SHOP_BASE_URL = "https://shop.example.com"
    order = place(alice, product, language="en")
    order = order_pay(user=alice, order_id=order.pk, return_url="https://shop.example.com/")
    [payment] = order.payments.all()
    order = order_mark_shipped(order=order)
    assert sent(order) == [
        f"Order #{order.number} received: please pay to confirm it",
        f"Receipt for order #{order.number}",
        f"Order #{order.number} is on its way",
    ]
    receipt, shipped = mail.outbox[1], mail.outbox[2]
    assert f"We received your payment of ¥256.00 for order #{order.number}" in receipt.body
    assert f"Payment reference: {payment.reference}" in receipt.body
    assert f"https://shop.example.com/orders/{order.number}/" in shipped.alternatives[0][0]

    # The same jobs queued again (a retried job, a repeated event) send nothing more.
    for event in OrderEmail.Event.PLACED, OrderEmail.Event.PAID, OrderEmail.Event.SHIPPED:
        order_email_send.enqueue(order_id=order.pk, event=event)
    assert len(sent(order)) == 3
    assert sorted(order.emails.values_list("event", flat=True)) == ["paid", "placed", "shipped"]


def test_a_cancelled_paid_order_says_how_much_was_refunded(alice, product):
    order = place(alice, product)
    order = order_cancel(order=order_pay(user=alice, order_id=order.pk, return_url="http://testserver/"))
    assert order.refunded_cents == 25600
    assert sent(order)[-1] == f"订单 #{order.number} 已取消并退款"
    assert "已退款 ¥256.00" in mail.outbox[-1].body


def test_a_cancelled_unpaid_order_mentions_no_refund(alice, product):
    order = order_cancel(order=place(alice, product, language="en"))
    assert sent(order)[-1] == f"Order #{order.number} is cancelled"
    assert "refunded" not in mail.outbox[-1].body


def test_an_expired_order_is_emailed_by_the_expiry_job(alice, product):
    order = place(alice, product, language="en")
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(seconds=1))
    assert order_expire(order_id=order.pk)
    assert sent(order)[-1] == f"Order #{order.number} has expired: it was not paid in time"
    assert "its items are back on sale" in mail.outbox[-1].body


def test_an_order_that_fails_queues_no_email(alice, product):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    product.stock = 1
    product.save()
    with pytest.raises(InsufficientStock):
        order_place(user=alice, **CONTACT)
    run_jobs()
    assert mail.outbox == []
    assert not DBTaskResult.objects.filter(task_path="orders.emails.order_email_send").exists()


class BrokenMailServer(BaseEmailBackend):
    """A mail server that drops the connection `failures` times, then accepts."""

    failures = 0
    attempts = 0

    def send_messages(self, messages):
        BrokenMailServer.attempts += 1
        if BrokenMailServer.attempts <= BrokenMailServer.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def broken_mail_server(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.orders.test_emails.BrokenMailServer"
    settings.ORDER_PAYMENT_MINUTES = 24 * 60  # no expiry while the retries run, hours later
    monkeypatch.setattr(BrokenMailServer, "attempts", 0)
    monkeypatch.setattr(BrokenMailServer, "failures", 0)
    return BrokenMailServer


def test_a_mail_server_failure_is_retried_later_with_backoff(alice, product, broken_mail_server):
    broken_mail_server.failures = 1
    order = place(alice, product)
    assert sent(order) == []  # the first attempt failed: the retry waits EMAIL_RETRY_SECONDS (30)
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING
    [job] = DBTaskResult.objects.filter(task_path="orders.emails.order_email_send")
    assert job.status == "READY"
    assert timedelta(seconds=25) < job.run_after - timezone.now() <= timedelta(seconds=30)
    assert sent(order, at=timezone.now() + timedelta(seconds=20)) == []
    assert sent(order, at=timezone.now() + timedelta(seconds=31)) == [f"已收到订单 #{order.number}，请付款确认"]
    assert broken_mail_server.attempts == 2
    assert sent(order, at=timezone.now() + timedelta(hours=1)) == [f"已收到订单 #{order.number}，请付款确认"]


def test_a_mail_server_that_keeps_failing_is_given_up_on_and_logged(alice, product, broken_mail_server, caplog):
    broken_mail_server.failures = 99
    order = place(alice, product)
    with caplog.at_level(logging.WARNING):
        for hour in range(10):
            assert sent(order, at=timezone.now() + timedelta(hours=hour)) == []
    assert broken_mail_server.attempts == 6  # EMAIL_MAX_ATTEMPTS
    [job] = DBTaskResult.objects.filter(task_path="orders.emails.order_email_send")
    assert job.status == "FAILED" and job.exception_class_path == "smtplib.SMTPServerDisconnected"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and not order.emails.exists()
    [given_up] = [record for record in caplog.records if record.name == "mcpshop_site.mail"]
    assert given_up.levelno == logging.ERROR
    assert order.number in given_up.getMessage() and "6 attempts" in given_up.getMessage()
    assert "alice@example.com" not in caplog.text  # addresses are masked in logs


def test_staff_see_which_emails_an_order_sent(admin_client, alice, product):
    order = place(alice, product, language="en")
    sent(order)
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "Order placed" in html and "Payment received" not in html

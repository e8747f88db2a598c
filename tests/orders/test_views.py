import datetime
import html
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pytest_django.asserts import assertContains, assertNotContains

from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.models import Order
from orders.services import order_place
from tests.conftest import CHECKOUT, CHECKOUT_ADDRESS, CONTACT, page_client_for
from tests.test_query_budget import TRANSACTION_CONTROL

pytestmark = pytest.mark.django_db


def shown(client, response) -> list[str]:
    """Follow the redirect and return the messages the shopper sees on the next page."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [
        html.unescape(text) for text in re.findall(r'<p class="message message-\w+">(.*?)</p>', page.content.decode())
    ]


def fill_cart(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def checkout_key(client) -> str:
    page = client.get(reverse("orders:checkout"))
    assert page.status_code == 200
    return re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)


def place(user, product, quantity=1):
    fill_cart(user, (product, quantity))
    return order_place(user=user, **CONTACT)


def test_anonymous_checkout_and_orders_redirect_to_login(client, db):
    for url in (reverse("orders:checkout"), reverse("orders:list"), "/orders/1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    response = client.post("/orders/1/cancel/")
    assert response["Location"].startswith(reverse("accounts:login"))


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(alice):
    client = page_client_for(alice)
    response = client.get(reverse("orders:checkout"))
    assert response["Location"] == reverse("cart:detail")
    assert shown(client, response) == ["您的购物车是空的。"]


def test_checkout_page_shows_summary_and_prefills_the_last_address(alice, product, make_product):
    place(alice, make_product("OLD"))
    fill_cart(alice, (product, 2))
    client = page_client_for(alice)
    page = client.get(reverse("orders:checkout"))
    assertContains(page, "西湖龙井 × 2")
    assertContains(page, "¥256.00")
    assertContains(page, f'value="{CONTACT["name"]}"')
    assertContains(page, f'value="{CONTACT["phone"]}"')
    assertContains(page, '<label for="id_phone">电话</label>')
    english = page_client_for(alice)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assertContains(english.get(reverse("orders:checkout")), "Place order · ¥256.00")


def test_checkout_places_an_order_and_empties_the_cart(alice, product):
    fill_cart(alice, (product, 2))
    client = page_client_for(alice)
    key = checkout_key(client)
    response = client.post(reverse("orders:checkout"), {**CHECKOUT, "idempotency_key": key})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert shown(client, response) == [f"谢谢！您的订单 #{order.number} 已提交。"]
    assert order.total_cents == 25600
    assert order.idempotency_key == key
    assert not CartItem.objects.exists()
    product.refresh_from_db()
    assert product.stock == 3
    page = client.get(order.get_absolute_url())
    assertContains(page, "待支付")
    assertContains(page, "¥256.00")
    assertContains(page, CHECKOUT_ADDRESS)


def test_double_submit_of_the_same_form_makes_one_order(alice, product):
    fill_cart(alice, (product, 1))
    client = page_client_for(alice)
    data = {**CHECKOUT, "idempotency_key": checkout_key(client)}
    first = client.post(reverse("orders:checkout"), data)
    order = Order.objects.get()
    assert shown(client, first) == [f"谢谢！您的订单 #{order.number} 已提交。"]
    second = client.post(reverse("orders:checkout"), data)
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    assert shown(client, second) == ["这个订单已经提交过了。"]
    product.refresh_from_db()
    assert product.stock == 4


def test_each_checkout_page_gets_a_fresh_key(alice, product):
    fill_cart(alice, (product, 1))
    client = page_client_for(alice)
    assert checkout_key(client) != checkout_key(client)


def test_reused_form_for_a_different_cart_asks_to_check_again(alice, product, make_product):
    fill_cart(alice, (product, 1))
    client = page_client_for(alice)
    data = {**CHECKOUT, "idempotency_key": checkout_key(client)}
    client.post(reverse("orders:checkout"), data)
    fill_cart(alice, (make_product("MORE"), 1))
    response = client.post(reverse("orders:checkout"), data)
    assert response.status_code == 200
    assertContains(response, "这个表单已经用于一个订单")
    assert data["idempotency_key"] not in response.content.decode()
    assert Order.objects.count() == 1


def test_checkout_with_missing_contact_shows_form_errors(alice, product):
    fill_cart(alice, (product, 1))
    client = page_client_for(alice)
    response = client.post(reverse("orders:checkout"), {**CHECKOUT, "name": "", "idempotency_key": "k" * 20})
    assert response.status_code == 200
    assertContains(response, "收件人 为必填项。")
    assertContains(response, 'aria-invalid="true"')
    too_long = client.post(reverse("orders:checkout"), {**CHECKOUT, "phone": "1" * 40, "idempotency_key": "k" * 20})
    assertContains(too_long, 'aria-invalid="true"')
    assert not Order.objects.exists()


def test_checkout_when_stock_ran_out_shows_the_problem(alice, make_product):
    scarce = make_product("SCARCE", stock=2)
    fill_cart(alice, (scarce, 2))
    client = page_client_for(alice)
    key = checkout_key(client)
    scarce.stock = 1
    scarce.save()
    response = client.post(reverse("orders:checkout"), {**CHECKOUT, "idempotency_key": key})
    assert response.status_code == 200
    assertContains(response, "库存不足，仅剩 1 件。")
    assert not Order.objects.exists()
    assert CartItem.objects.count() == 1


def test_orders_list_shows_the_users_orders_only(alice, bob, product):
    mine = place(alice, product)
    theirs = place(bob, product)
    client = page_client_for(alice)
    page = client.get(reverse("orders:list"))
    assertContains(page, f"订单 #{mine.number}")
    assertNotContains(page, f"订单 #{theirs.number}")
    assertContains(page, "西湖龙井 × 1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("orders:list"))
    assertContains(page, f"Order #{mine.number}")
    assertContains(page, "Pending payment")


def test_empty_orders_list(alice):
    assertContains(page_client_for(alice).get(reverse("orders:list")), "您还没有订单")


def test_someone_elses_order_is_404_everywhere(alice, bob, product):
    theirs = place(bob, product)
    client = page_client_for(alice)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    for reference in (theirs.pk, theirs.number, theirs.number.lower(), f"#{theirs.number}"):
        assert client.post(reverse("orders:cancel", args=[reference])).status_code == 404
        assert client.post(reverse("orders:pay", args=[reference])).status_code == 404
    assert client.get("/orders/99999999999999999999999/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.PENDING


def test_order_pages_are_addressed_by_the_public_number_not_the_sequential_id(alice, bob, product):
    order = place(alice, product, 2)
    client = page_client_for(alice)
    assert order.get_absolute_url() == f"/orders/{order.number}/"
    response = client.post(reverse("orders:pay", args=[order.number]))
    assert response["Location"] == f"/orders/{order.number}/"  # where the shopper lands, and what a link shares
    assert client.get(f"/orders/{order.number.lower()}/").status_code == 200  # typed from an email, any case
    assert page_client_for(bob).get(order.get_absolute_url()).status_code == 404
    assert client.get("/orders/ZZZZZZZZZZZZ/").status_code == 404


def test_pay_then_cancel_from_the_order_page(alice, product):
    order = place(alice, product, 2)
    client = page_client_for(alice)
    page = client.get(order.get_absolute_url())
    assertContains(page, f'action="{reverse("orders:pay", args=[order.number])}"')
    assertContains(page, "支付 ¥256.00")
    english = page_client_for(alice)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = english.get(order.get_absolute_url())
    assertContains(page, "Pending payment")
    assertContains(page, "Pay ¥256.00")
    assertContains(page, "Cancel order")

    response = client.post(reverse("orders:pay", args=[order.number]))
    assert response["Location"] == order.get_absolute_url()
    assert shown(client, response) == [f"订单 #{order.number} 已支付，谢谢！"]
    page = client.get(order.get_absolute_url())
    assertContains(page, "已支付")
    assertNotContains(page, f'action="{reverse("orders:pay", args=[order.number])}"')

    response = client.post(reverse("orders:cancel", args=[order.number]))
    assert shown(client, response) == [f"订单 #{order.number} 已取消。"]
    product.refresh_from_db()
    assert product.stock == 5
    page = client.get(order.get_absolute_url())
    assertContains(page, "已取消")
    assertNotContains(page, f'action="{reverse("orders:cancel", args=[order.number])}"')


def test_cancelling_twice_is_a_message_and_restocks_once(alice, product):
    order = place(alice, product, 2)
    client = page_client_for(alice)
    cancel = reverse("orders:cancel", args=[order.number])
    assert shown(client, client.post(cancel)) == [f"订单 #{order.number} 已取消。"]
    response = client.post(cancel)
    assert response.status_code == 302
    assert shown(client, response) == ["订单当前无法变更为此状态。"]
    product.refresh_from_db()
    assert product.stock == 5


def test_order_actions_need_post_and_csrf(alice, product):
    order = place(alice, product)
    assert page_client_for(alice).get(reverse("orders:pay", args=[order.number])).status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("orders:pay", args=[order.number])).status_code == 403
    assert client.post(reverse("orders:checkout"), {**CONTACT, "idempotency_key": "k" * 20}).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_orders_list_makes_the_same_number_of_queries_for_1_or_30_orders(alice, make_product):
    client = page_client_for(alice)
    product = make_product(stock=1000)
    place(alice, product)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("orders:list")).status_code == 200
    for _ in range(29):
        place(alice, product)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("orders:list")).status_code == 200
    assert len(many) == len(one)


def test_checkout_stays_within_its_query_budget(alice, make_product):
    client = page_client_for(alice)
    fill_cart(alice, *[(make_product(), 1) for _ in range(3)])
    key = checkout_key(client)
    with CaptureQueriesContext(connection) as page:
        client.get(reverse("orders:checkout"))
    with CaptureQueriesContext(connection) as post:
        response = client.post(reverse("orders:checkout"), {**CHECKOUT, "idempotency_key": key})
    assert response.status_code == 302
    # The page is constant; so is placing: all lines' stock is locked and taken in two queries (order_place).
    # Counted as in tests/test_query_budget.py: data queries, not the SAVEPOINT/RELEASE of atomic blocks.
    assert len(page) <= 15
    assert sum(not query["sql"].upper().startswith(TRANSACTION_CONTROL) for query in post) <= 15
    assert Order.objects.count() == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_order_shows_the_same_local_time_on_its_page_and_in_the_list(alice, product, language):
    order = place(alice, product)
    # Just before midnight UTC is the next morning in Shanghai: the date must be the local one.
    Order.objects.filter(pk=order.pk).update(created_at=datetime.datetime(2026, 12, 6, 21, 41, tzinfo=datetime.UTC))
    client = page_client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        placed = date_format(timezone.localtime(Order.objects.get(pk=order.pk).created_at), "DATETIME_FORMAT")
    assert ("7" in placed) and ("5:41" in placed)  # Dec. 7, 2026, 5:41 a.m. / 2026年12月7日 05:41

    for page in (client.get(reverse("orders:list")), client.get(order.get_absolute_url())):
        times = re.findall(r'<time datetime="2026-12-07T05:41:00\+08:00">(.*?)</time>', page.content.decode())
        assert times == [placed], times


def test_the_order_page_shows_the_payment_deadline_in_the_shoppers_language_and_time(alice, product, settings):
    fill_cart(alice, (product, 1))
    order = order_place(user=alice, **CONTACT)
    client = page_client_for(alice)
    local = timezone.localtime(order.payment_due_at)  # the shop's TIME_ZONE (Asia/Shanghai), not UTC

    page = client.get(reverse("orders:detail", args=[order.number]))
    with translation.override("zh-hans"):
        assertContains(page, f'付款截止： <time datetime="{local.isoformat()}">{date_format(local, "DATETIME_FORMAT")}')
    client.post(reverse("set_language"), {"language": "en"})
    page = client.get(reverse("orders:detail", args=[order.number]))
    with translation.override("en"):
        assertContains(page, f'Pay by <time datetime="{local.isoformat()}">{date_format(local, "DATETIME_FORMAT")}')
    assertContains(page, "West Lake Longjing")


def test_paying_after_the_deadline_on_the_page_says_the_order_expired(alice, product):
    fill_cart(alice, (product, 2))
    order = order_place(user=alice, **CONTACT)
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - datetime.timedelta(seconds=1))
    client = page_client_for(alice)

    response = client.post(reverse("orders:pay", args=[order.number]))

    assert shown(client, response) == ["此订单的付款时间已过：订单已失效，商品已重新上架。"]
    product.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == Order.Status.EXPIRED and product.stock == 5
    page = client.get(reverse("orders:detail", args=[order.number]))
    assertContains(page, "已失效（未按时付款）")
    assertNotContains(page, "付款截止")
    assertNotContains(page, f'action="/orders/{order.number}/pay/"')


def test_a_cancelled_paid_order_shows_its_refund(alice, product):
    fill_cart(alice, (product, 1))
    order = order_place(user=alice, **CONTACT)
    client = page_client_for(alice)
    client.post(reverse("orders:pay", args=[order.number]))
    client.post(reverse("orders:cancel", args=[order.number]))
    page = client.get(reverse("orders:detail", args=[order.number]))
    assertContains(page, "已退款 ¥128.00")
    assert Order.objects.get(pk=order.pk).refunded_cents == 12800

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cart.models import Cart
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper, new_guest_token
from catalog.models import Product
from orders.models import Order
from orders.services import order_cancel, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL, page_client_for

pytestmark = pytest.mark.django_db

ORDERS = "admin:orders_order_changelist"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def get(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    response.query_count = len(queries)
    return response


def buy(user, product, quantity=1, *, paid=False) -> Order:
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=product, quantity=quantity)
    order = order_place(user=user, **CONTACT)
    return order_pay(user=user, order_id=order.pk, return_url=RETURN_URL) if paid else order


def act(client, action, *orders):
    """Run an admin action on these orders; return the messages shown on the list page afterwards."""
    data = {"action": action, "_selected_action": [order.pk for order in orders], "index": 0}
    response = client.post(reverse(ORDERS), data, follow=True)
    assert response.status_code == 200
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def status(order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def stock(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def test_order_list_takes_a_fixed_number_of_queries(admin_client, make_user, make_product):
    product = make_product(stock=100)
    buy(make_user(), product)
    one = get(admin_client, reverse(ORDERS))
    for _ in range(10):
        buy(make_user(), product, 2, paid=True)

    many = get(admin_client, reverse(ORDERS))

    assert many.query_count == one.query_count
    assert len(many.context["cl"].result_list) == 11
    assert "¥20.00" in many.content.decode()  # 2 x ¥10.00, from cents


def test_orders_are_filtered_by_status_and_date_on_every_database(admin_client, alice, bob, make_product):
    product = make_product(stock=10)
    pending, paid = buy(alice, product), buy(bob, product, paid=True)
    Order.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=30))
    listing = get(admin_client, reverse(ORDERS))
    [date_filter] = [spec for spec in listing.context["cl"].filter_specs if spec.field_path == "created_at"]
    [past_week] = [
        choice for choice in date_filter.choices(listing.context["cl"]) if choice["display"] == "Past 7 days"
    ]

    def found(url):
        return [order.pk for order in get(admin_client, url).context["cl"].result_list]

    assert found(reverse(ORDERS) + past_week["query_string"]) == [paid.pk]
    assert found(reverse(ORDERS) + "?status__exact=PENDING") == [pending.pk]


def test_ship_and_deliver_go_through_the_services(admin_client, alice, product):
    order = buy(alice, product, paid=True)

    assert act(admin_client, "mark_shipped", order) == [("success", "1 order updated.")]
    assert status(order) == "SHIPPED"
    assert act(admin_client, "mark_delivered", order) == [("success", "1 order updated.")]
    assert status(order) == "DELIVERED"


def test_cancel_restores_the_stock_once(admin_client, alice, product):
    order = buy(alice, product, 3, paid=True)
    assert stock(product) == 2

    assert act(admin_client, "cancel", order) == [("success", "1 order updated.")]
    assert (status(order), stock(product)) == ("CANCELLED", 5)

    [(level, message)] = act(admin_client, "cancel", order)
    assert level == "error" and f"#{order.number}" in message
    assert stock(product) == 5


def test_an_illegal_move_is_reported_per_order_and_the_others_still_move(admin_client, alice, bob, make_product):
    product = make_product(stock=10)
    unpaid = buy(alice, product)
    paid = buy(bob, product, paid=True)

    messages = act(admin_client, "mark_shipped", unpaid, paid)

    assert messages == [
        ("error", f"Order #{unpaid.number} (Pending payment): The order cannot move to this status now."),
        ("success", "1 order updated."),
    ]
    assert (status(unpaid), status(paid)) == ("PENDING", "SHIPPED")


def test_the_change_page_keeps_status_and_items_read_only(admin_client, alice, product):
    order = buy(alice, product, 2, paid=True)
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = get(admin_client, url)
    html = page.content.decode()
    assert set(page.context["adminform"].form.fields) == {"name", "phone", "address"}
    assert 'name="status"' not in html and 'name="items-0-sku"' not in html and 'name="items-0-quantity"' not in html
    assert "TEA-001" in html and "西湖龙井" in html and "¥128.00" in html and "¥256.00" in html
    order_cancel(order=order)  # the shopper cancels while the page is open

    data = {**CONTACT, "address": "北京市朝阳区建国路 88 号", "status": "DELIVERED", "items-TOTAL_FORMS": "1"}
    data |= {"items-INITIAL_FORMS": "1", "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000"}
    data |= {"items-0-id": order.items.get().pk, "items-0-order": order.pk}
    for inline, rows in (("payments", 1), ("refunds", 0), ("emails", 0)):  # read-only lists: only counted
        data |= {f"{inline}-TOTAL_FORMS": rows, f"{inline}-INITIAL_FORMS": rows, f"{inline}-MIN_NUM_FORMS": 0}
    data |= {"payments-0-id": order.payments.get().pk, "payments-0-order": order.pk}
    response = admin_client.post(url, data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.address, order.status) == ("北京市朝阳区建国路 88 号", "CANCELLED")
    assert order.items.get().quantity == 2


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client, alice, product):
    order = buy(alice, product)
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    admin_client.post(reverse(ORDERS), {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"})
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize("term", ["#ID", " #ID ", "alice", "alice@example", "13800000000", "3800", "张三"])
def test_orders_are_found_by_id_user_name_or_phone(admin_client, alice, bob, make_product, term):
    product = make_product(stock=10)
    mine = buy(alice, product)
    Order.objects.filter(pk=buy(bob, product).pk).update(name="李四", phone="13900000000")
    found = get(admin_client, reverse(ORDERS), q=term.replace("ID", mine.number.lower())).context["cl"].result_list
    assert [order.pk for order in found] == [mine.pk]


@pytest.mark.parametrize("term", ["abc'%", "#", "#abc", "#99999999999999999999999", "#１２", "#1"])
def test_a_search_that_is_not_an_order_number_finds_nothing_and_does_not_crash(admin_client, alice, product, term):
    buy(alice, product)
    assert list(get(admin_client, reverse(ORDERS), q=term).context["cl"].result_list) == []


def test_carts_are_read_only_and_never_show_the_guest_token(admin_client, alice, make_user, make_product):
    product = make_product(stock=100)
    token = new_guest_token()
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(guest_token=token)), product=product, quantity=2)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    one = get(admin_client, reverse("admin:cart_cart_changelist"))
    for _ in range(10):
        cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=make_user())), product=product, quantity=3)
    many = get(admin_client, reverse("admin:cart_cart_changelist"))
    assert many.query_count == one.query_count
    assert token not in many.content.decode()

    guest = Cart.objects.get(session_key=token)
    url = reverse("admin:cart_cart_change", args=[guest.pk])
    page = get(admin_client, url)
    assert token not in page.content.decode() and 'name="_save"' not in page.content.decode()
    assert admin_client.post(url, {}).status_code == 403
    assert admin_client.get(reverse("admin:cart_cart_add")).status_code == 403
    assert guest.items.get().quantity == 2


def test_users_are_managed_with_the_standard_user_admin(admin_client, alice):
    listing = get(admin_client, reverse("admin:accounts_user_changelist"))
    assert "alice@example.com" in listing.content.decode()
    get(admin_client, reverse("admin:accounts_user_change", args=[alice.pk]))
    data = {"username": "carol", "usable_password": "true", "password1": "a long passphrase 42"}
    data["password2"] = data["password1"]

    created = admin_client.post(reverse("admin:accounts_user_add"), {**data, "email": "Carol@Example.com"})
    taken = admin_client.post(
        reverse("admin:accounts_user_add"), {**data, "username": "c2", "email": "ALICE@example.com"}
    )

    assert created.status_code == 302
    carol = User.objects.get(username="carol")
    assert carol.email == "carol@example.com" and carol.check_password("a long passphrase 42")
    assert taken.status_code == 200 and "already exists" in taken.content.decode()


def test_shoppers_cannot_use_the_order_admin(alice, product):
    order = buy(alice, product, paid=True)
    shopper = page_client_for(alice)
    response = shopper.post(reverse(ORDERS), {"action": "cancel", "_selected_action": [order.pk], "index": 0})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert status(order) == "PAID"


def test_staff_cancel_a_line_of_a_paid_order_and_it_is_refunded(admin_client, alice, product, make_product):
    mug = make_product("MUG-A", price_cents=3900, stock=10)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=mug, quantity=2)
    order = buy(alice, product, 1, paid=True)
    line = order.items.get(sku="MUG-A")
    change = reverse("admin:orders_order_change", args=[order.pk])
    page = get(admin_client, change).content.decode()
    assert "Cancel line and refund ¥78.00" in page and "¥206.00" in page and order.number in page

    response = admin_client.post(reverse("admin:orders_order_cancel_line", args=[order.pk, line.pk]))

    assert response.status_code == 302 and response["Location"] == change
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.refunded_cents == 7800 and stock(mug) == 10
    page = get(admin_client, change).content.decode()
    assert "Cancelled and refunded" in page and "LINE_CANCELLED" not in page and "Line cancelled" in page
    again = admin_client.post(reverse("admin:orders_order_cancel_line", args=[order.pk, line.pk]), follow=True)
    assert "already cancelled" in again.content.decode() and order.refunds.count() == 1


def test_cancelling_a_line_needs_post_and_the_change_permission(client, admin_client, make_user, alice, product):
    order = buy(alice, product, 2, paid=True)
    url = reverse("admin:orders_order_cancel_line", args=[order.pk, order.items.get().pk])
    assert admin_client.get(url).status_code == 405
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert Order.objects.get(pk=order.pk).refunded_cents == 0 and stock(product) == 3


def test_the_list_shows_numbers_refunds_and_names_in_the_staff_language(admin_client, alice, product):
    order = order_cancel(order=buy(alice, product, 1, paid=True))
    page = get(admin_client, reverse(ORDERS)).content.decode()
    assert order.number in page and "West Lake Longjing × 1" in page and "¥128.00" in page


def test_the_change_page_lists_each_discount_with_its_code_and_amount(admin_client, alice, product):
    order = buy(alice, product, 2)
    discounts = [
        {"code": "WELCOME10", "title": "新客九折", "title_en": "Welcome 10% off", "amount_cents": 2560},
        {"code": "", "title": "满减", "title_en": "", "amount_cents": 500},
    ]
    Order.objects.filter(pk=order.pk).update(
        discounts=discounts, discount_cents=3060, total_cents=order.total_cents - 3060
    )

    page = get(admin_client, reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Welcome 10% off (WELCOME10): -¥25.60; 满减: -¥5.00" in page
    assert "title_en" not in page  # the stored JSON is not shown as it is

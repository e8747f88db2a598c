import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cart.models import Cart, CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from cart.signals import GUEST_CART_SESSION_KEY
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db


def add(client, sku, quantity=1, **extra):
    return client.post(reverse("cart:add"), {"sku": sku, "quantity": quantity, **extra})


def shown(client, response) -> list[str]:
    """Follow the redirect and return the messages the shopper sees on the next page."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [
        html.unescape(text) for text in re.findall(r'<p class="message message-\w+">(.*?)</p>', page.content.decode())
    ]


def cart_lines(user):
    return {item.product.sku: item.quantity for item in CartItem.objects.filter(cart__user=user)}


def test_empty_cart_page(client, db):
    response = client.get(reverse("cart:detail"))
    assert response.status_code == 200
    assertContains(response, "购物车是空的")
    response = Client(headers={"accept-language": "en"}).get(reverse("cart:detail"))
    assertContains(response, "Your cart is empty.")


def test_guest_adds_to_cart_and_sees_it_with_a_total(client, product):
    response = add(client, product.sku, 2, next=product.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    assert shown(client, response) == ["已将 2 × 西湖龙井 加入购物车。"]
    assert client.session[GUEST_CART_SESSION_KEY]
    page = client.get(reverse("cart:detail"))
    assertContains(page, "西湖龙井")
    assertContains(page, "¥256.00")
    assertContains(page, '<span class="badge" data-cart-count aria-label="购物车里有 2 件商品">2</span>', html=True)


def test_adding_twice_sums_into_one_line(client, alice, product):
    client = page_client_for(alice)
    add(client, product.sku, 1)
    add(client, product.sku, 2)
    assert cart_lines(alice) == {"TEA-001": 3}


def test_add_redirects_only_to_this_site(client, product):
    response = add(client, product.sku, 1, next="https://evil.example/phish")
    assert response["Location"] == reverse("cart:detail")


def test_add_with_json_accept_answers_json_for_the_script(client, product):
    response = client.post(
        reverse("cart:add"), {"sku": product.sku, "quantity": "3"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "已将 3 × 西湖龙井 加入购物车。", "cart_count": 3}
    response = client.post(
        reverse("cart:add"), {"sku": product.sku, "quantity": "9"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    response = client.post(
        reverse("cart:add"), {"sku": product.sku, "quantity": "-1"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_quantity"
    assert response.json()["error"]["message"] == "数量必须是 1 到 99 之间的整数。"
    # The script shows the message itself: nothing is left over for the next page.
    assert '<p class="message' not in client.get(reverse("cart:detail")).content.decode()


@pytest.mark.parametrize("quantity", ["0", "-1", "100", "99999999999999999999999", "abc", "1.5", "", "NaN", "🍵"])
def test_bad_quantities_give_a_message_not_an_error_page(client, product, quantity):
    response = add(client, product.sku, quantity, next=product.get_absolute_url())
    assert response.status_code == 302
    assert shown(client, response) == ["数量必须是 1 到 99 之间的整数。"]
    assert not CartItem.objects.exists()


def test_more_than_in_stock_is_refused_with_a_message(client, product):
    response = add(client, product.sku, 6)
    assert shown(client, response) == ["库存不足，仅剩 5 件。"]
    assert not CartItem.objects.exists()


def test_unknown_sku_is_a_message_in_english_too(product):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = add(client, "NO-SUCH-SKU", 1)
    assert response.status_code == 302
    assert shown(client, response) == ["No product has this SKU."]
    response = client.post(reverse("cart:add"), {"quantity": 1})
    assert shown(client, response) == ["This field is required."]


def test_update_quantity_from_the_cart_page(alice, product):
    client = page_client_for(alice)
    add(client, product.sku, 1)
    item = CartItem.objects.get()
    page = client.get(reverse("cart:detail"))
    assertContains(page, f'action="{reverse("cart:update", args=[item.id])}"')
    assertContains(page, f'<label for="quantity-{item.id}">')
    response = client.post(reverse("cart:update", args=[item.id]), {"quantity": "4"})
    assert response["Location"] == reverse("cart:detail")
    assert shown(client, response) == ["西湖龙井：数量已改为 4。"]
    assert cart_lines(alice) == {"TEA-001": 4}
    assertContains(client.get(reverse("cart:detail")), "¥512.00")


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "100000"])
def test_bad_update_quantities_keep_the_line(alice, product, quantity):
    client = page_client_for(alice)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    item = CartItem.objects.get()
    response = client.post(reverse("cart:update", args=[item.id]), {"quantity": quantity})
    assert response.status_code == 302
    assert shown(client, response) == ["数量必须是 1 到 99 之间的整数。"]
    assert cart_lines(alice) == {"TEA-001": 2}


def test_remove_and_clear(alice, product, make_product):
    client = page_client_for(alice)
    other = make_product("BISCUIT", name="饼干")
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=other, quantity=1)
    item = CartItem.objects.get(product=product)
    response = client.post(reverse("cart:remove", args=[item.id]))
    assert shown(client, response) == ["商品已从购物车移除。"]
    assert cart_lines(alice) == {"BISCUIT": 1}
    response = client.post(reverse("cart:clear"))
    assert shown(client, response) == ["购物车已清空。"]
    assert cart_lines(alice) == {}
    assertContains(client.get(reverse("cart:detail")), "购物车是空的")


def test_someone_elses_cart_line_cannot_be_changed_or_removed(alice, bob, product):
    bobs_item = cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=bob)), product=product, quantity=2)
    client = page_client_for(alice)
    for url, data in (
        (reverse("cart:update", args=[bobs_item.id]), {"quantity": 1}),
        (reverse("cart:remove", args=[bobs_item.id]), {}),
        (reverse("cart:remove", args=[99999999999999999999]), {}),
    ):
        response = client.post(url, data)
        assert response.status_code == 302
        assert shown(client, response) == ["此商品不在您的购物车中。"]
    assert cart_lines(bob) == {"TEA-001": 2}


def test_cart_changes_need_post(client, product):
    assert client.get(reverse("cart:add")).status_code == 405
    assert client.get(reverse("cart:clear")).status_code == 405


def test_cart_forms_enforce_csrf(product):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("cart:add"), {"sku": product.sku, "quantity": 1})
    assert response.status_code == 403
    assert not CartItem.objects.exists()
    # With the token from the page, the same post works.
    page = client.get(product.get_absolute_url())
    token = page.context["csrf_token"]
    response = client.post(reverse("cart:add"), {"sku": product.sku, "quantity": 1, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert CartItem.objects.count() == 1


def test_guest_cart_joins_the_account_cart_at_login(client, alice, product, make_product):
    biscuits = make_product("BISCUIT", name="饼干")
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=biscuits, quantity=1)
    add(client, product.sku, 2)
    add(client, biscuits.sku, 1)
    guest_token = client.session[GUEST_CART_SESSION_KEY]

    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": alice.raw_password, "next": "/cart/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert cart_lines(alice) == {"TEA-001": 2, "BISCUIT": 2}
    assert not Cart.objects.filter(session_key=guest_token).exists()
    page = client.get("/cart/")
    assertContains(page, "西湖龙井")
    assertContains(page, '<span class="badge" data-cart-count aria-label="购物车里有 4 件商品">4</span>', html=True)


def test_cart_page_query_count_does_not_grow_with_lines(alice, make_product, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = page_client_for(alice)
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=make_product(), quantity=1)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("cart:detail"))
    for _ in range(20):
        cart_add_item(cart=cart, product=make_product(), quantity=1)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("cart:detail"))
    assert len(many) == len(one)
    assertNotContains(page, "购物车是空的")

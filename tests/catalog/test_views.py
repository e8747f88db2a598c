import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category
from mcpshop_site.money import money
from orders.services import order_place
from tests.conftest import CONTACT, page_client_for

pytestmark = pytest.mark.django_db


def english(client=None):
    client = client or Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_money_formats_cents_in_the_shop_currency():
    assert money(12800) == "¥128.00"
    assert money(5) == "¥0.05"
    assert money(123456789) == "¥1,234,567.89"
    assert money("x") == ""


def test_home_shows_categories_and_featured_products_in_chinese_by_default(client, category, make_product):
    make_product("FEAT-1", name="明前龙井", name_en="Pre-Qingming Longjing", is_featured=True)
    response = client.get("/")
    assert response.status_code == 200
    assertContains(response, '<html lang="zh-hans">')
    assertContains(response, "茶叶")
    assertContains(response, "明前龙井")
    assertContains(response, "精选")
    assertContains(response, category.get_absolute_url())


def test_home_in_english_uses_english_names(category, make_product):
    make_product("FEAT-1", name="明前龙井", name_en="Pre-Qingming Longjing", is_featured=True)
    response = english().get("/")
    assertContains(response, '<html lang="en">')
    assertContains(response, "Tea")
    assertContains(response, "Pre-Qingming Longjing")
    assertContains(response, "Featured")
    assertNotContains(response, "明前龙井")


def test_header_has_search_cart_badge_language_switch_and_chat_slot(client, product):
    response = client.get("/")
    assertContains(response, 'role="search"')
    assertContains(response, "data-cart-count")
    assertContains(response, f'action="{reverse("set_language")}"')
    assertContains(response, 'name="language" value="en"')
    assertContains(response, 'name="csrfmiddlewaretoken"')
    html = response.content.decode()
    assert " style=" not in html and "onclick" not in html and "<script>" not in html


INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def test_no_page_has_inline_script_style_or_event_handlers(alice, product):
    """A Content-Security-Policy with script-src 'self' and no inline styles must not break any page."""
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    order = order_place(user=alice, **CONTACT)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    signed_in = page_client_for(alice)
    pages = [
        (signed_in, "/"),
        (signed_in, product.category.get_absolute_url()),
        (signed_in, product.get_absolute_url()),
        (signed_in, reverse("catalog:search") + "?q=龙井&min_price=x"),
        (signed_in, reverse("cart:detail")),
        (signed_in, reverse("orders:checkout")),
        (signed_in, reverse("orders:list")),
        (signed_in, order.get_absolute_url()),
        (signed_in, reverse("accounts:account")),
        (Client(), reverse("accounts:login")),
        (Client(), reverse("accounts:signup")),
        (Client(), "/no/such/page/"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        html = response.content.decode()
        assert not INLINE_CODE.search(html), (url, INLINE_CODE.search(html).group(0))
        assert '<script type="module" src="/static/js/shop.js"></script>' in html, url


def test_language_switch_turns_the_next_page_english(client, product):
    response = client.post(reverse("set_language"), {"language": "en", "next": product.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    assertContains(client.get(product.get_absolute_url()), "West Lake Longjing")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assertContains(client.get(product.get_absolute_url()), "西湖龙井")


def test_category_page_lists_its_products_and_paginates_by_24(client, category, make_product):
    for number in range(25):
        make_product(f"P-{number:02d}", price_cents=100 + number)
    first = client.get(category.get_absolute_url())
    assert first.status_code == 200
    assertContains(first, "茶叶")
    assertContains(first, "25 件商品")
    assert first.content.decode().count('class="card product-card"') == 24
    assertContains(first, "第 1 页，共 2 页")
    second = client.get(category.get_absolute_url() + "?page=2")
    assert second.content.decode().count('class="card product-card"') == 1
    # A nonsense page number shows a page rather than an error.
    assert client.get(category.get_absolute_url() + "?page=abc").status_code == 200
    assert client.get(category.get_absolute_url() + "?page=999").status_code == 200


def test_category_page_sorts_by_price_and_keeps_the_sort_across_pages(client, category, make_product):
    make_product("CHEAP", name="便宜茶", price_cents=100)
    make_product("DEAR", name="贵茶", price_cents=99900)
    make_product("MID", name="中茶", price_cents=5000)
    html = client.get(category.get_absolute_url() + "?sort=price").content.decode()
    assert html.index("便宜茶") < html.index("中茶") < html.index("贵茶")
    html = client.get(category.get_absolute_url() + "?sort=-price").content.decode()
    assert html.index("贵茶") < html.index("中茶") < html.index("便宜茶")
    assert client.get(category.get_absolute_url() + "?sort=drop%20table").status_code == 200
    for number in range(25):
        make_product(f"MORE-{number}")
    assertContains(client.get(category.get_absolute_url() + "?sort=price"), "?sort=price&amp;page=2")


def test_category_page_in_english_and_child_products(category, make_product):
    child = Category.objects.create(name="绿茶", name_en="Green tea", slug="green-tea", parent=category)
    make_product("GREEN-1", name="碧螺春", name_en="Biluochun", category=child)
    response = english().get(category.get_absolute_url())
    assertContains(response, "Tea")
    assertContains(response, "Biluochun")
    assertContains(response, "1 product")


def test_unknown_category_is_404(client, db):
    response = client.get("/c/nope/")
    assert response.status_code == 404
    assertContains(response, "找不到这个页面", status_code=404)


def test_product_page_shows_price_stock_and_an_add_to_cart_form(client, product):
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    assertContains(response, "西湖龙井")
    assertContains(response, "¥128.00")
    assertContains(response, "仅剩 5 件")
    assertContains(response, f'action="{reverse("cart:add")}"')
    assertContains(response, 'name="quantity"')
    assertContains(response, 'max="5"')
    assertContains(response, "placeholder")  # no image: a drawn placeholder, not a broken <img>
    assertContains(response, 'aria-label="西湖龙井"')


def test_product_page_in_english(product):
    response = english().get(product.get_absolute_url())
    assertContains(response, "West Lake Longjing")
    assertContains(response, "Only 5 left")
    assertContains(response, "Add to cart")


def test_out_of_stock_product_has_no_add_form(client, make_product):
    sold_out = make_product("GONE", stock=0)
    response = client.get(sold_out.get_absolute_url())
    assertContains(response, "缺货")
    assertNotContains(response, f'action="{reverse("cart:add")}"')


def test_unknown_and_inactive_products_are_404(client, make_product):
    hidden = make_product("HIDDEN", is_active=False)
    assert client.get("/products/NOPE/").status_code == 404
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_search_finds_by_chinese_and_english_words(client, product, make_product):
    make_product("OTHER", name="饼干", name_en="Biscuits")
    response = client.get(reverse("catalog:search"), {"q": "龙井"})
    assertContains(response, "西湖龙井")
    assertNotContains(response, "饼干")
    assertContains(response, "找到 1 件商品")
    response = english().get(reverse("catalog:search"), {"q": "longjing"})
    assertContains(response, "West Lake Longjing")
    assertContains(response, "1 product found")
    assertContains(response, 'value="longjing"')


def test_search_with_no_match_says_so(client, product):
    assertContains(client.get(reverse("catalog:search"), {"q": "咖啡"}), "没有与“咖啡”相符的商品")


def test_search_filters_by_category_price_in_yuan_and_stock(client, category, make_product):
    snacks = Category.objects.create(name="零食", name_en="Snacks", slug="snacks")
    make_product("T-CHEAP", name="平价茶", price_cents=1000)
    make_product("T-DEAR", name="高档茶", price_cents=50000)
    make_product("T-NONE", name="售罄茶", price_cents=2000, stock=0)
    make_product("S-1", name="瓜子", price_cents=1500, category=snacks)
    url = reverse("catalog:search")

    html = client.get(url, {"category": "snacks"}).content.decode()
    assert "瓜子" in html and "平价茶" not in html

    html = client.get(url, {"min_price": "10.50", "max_price": "100"}).content.decode()
    assert "瓜子" in html and "售罄茶" in html
    assert "平价茶" not in html and "高档茶" not in html

    html = client.get(url, {"in_stock": "on", "category": "tea"}).content.decode()
    assert "平价茶" in html and "高档茶" in html and "售罄茶" not in html


def test_search_with_bad_filters_shows_errors_not_500(client, product):
    for params in (
        {"min_price": "abc"},
        {"max_price": "-5"},
        {"min_price": "1e400"},
        {"category": "no-such-shelf"},
        {"sort": "sideways"},
        {"q": "x" * 1000},
        {"q": "🍵\x00"},
    ):
        response = client.get(reverse("catalog:search"), params)
        assert response.status_code == 200, params
    assertContains(client.get(reverse("catalog:search"), {"min_price": "abc"}), "errorlist")


@pytest.mark.parametrize(
    "url",
    [
        lambda category: "/",
        lambda category: category.get_absolute_url(),
        lambda category: reverse("catalog:search") + "?q=商品",
        lambda category: reverse("catalog:search") + "?category=tea&min_price=1&in_stock=on&sort=price",
    ],
    ids=["home", "category", "search", "search-filtered"],
)
@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "user"])
def test_list_pages_make_the_same_number_of_queries_for_1_or_30_products(url, signed_in, category, make_product, alice):
    client = page_client_for(alice) if signed_in else Client()
    make_product(is_featured=True)
    one = count_queries(client, url(category))
    for _ in range(29):
        make_product(is_featured=True)
    assert count_queries(client, url(category)) == one
    # With the catalog's version, read from the database where no cache is shared (catalog.cache), and the footer's
    # published policy pages, cached under that version: read again after a change of the catalog (a new product).
    assert one <= 10

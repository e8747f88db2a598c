"""Page fragments stored once per process ({% cachefragment %}): shared parts, per-shopper live parts."""

import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db

LANGUAGE_FORM_TOKEN = re.compile(
    r'<form class="lang-switch"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken" value="(\w+)"'
)


def language_form_token(response) -> str:
    return LANGUAGE_FORM_TOKEN.search(response.content.decode()).group(1)


def test_each_shopper_gets_a_csrf_token_of_their_own_that_works(product):
    """The header is stored once, but its language form carries each shopper's own token: the switch works."""
    shoppers = [Client(enforce_csrf_checks=True) for _ in range(3)]
    tokens = [language_form_token(shopper.get(product.get_absolute_url())) for shopper in shoppers]
    assert len(set(tokens)) == 3
    for shopper, token in zip(shoppers, tokens, strict=True):
        response = shopper.post(reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert shopper.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    response = stranger.post(reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 403


def test_the_header_follows_the_page_the_shopper_and_the_language(alice, product, category):
    guest = Client()
    page = guest.get(category.get_absolute_url())
    assertContains(page, f'<input type="hidden" name="next" value="{category.get_absolute_url()}">', html=True)
    assertContains(page, f'href="/accounts/login/?next={category.get_absolute_url()}"')
    page = guest.get(product.get_absolute_url() + "?from=1&x=<b>")
    assertContains(page, f'name="next" value="{product.get_absolute_url()}?from=1&amp;x=%3Cb%3E"')  # live per page
    assertContains(page, f'?next={product.get_absolute_url()}%3Ffrom%3D1%26x%3D%253Cb%253E"')
    assertContains(page, "登录")
    assertNotContains(page, f'href="{reverse("orders:list")}"')

    signed_in = page_client_for(alice)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=3)
    page = signed_in.get(product.get_absolute_url())
    assertContains(page, f'href="{reverse("orders:list")}"')
    assertNotContains(page, f'href="{reverse("accounts:login")}')
    assertContains(page, '<span class="badge" data-cart-count aria-label="购物车里有 3 件商品">3</span>', html=True)
    assertContains(
        guest.get(product.get_absolute_url()),
        '<span class="badge" data-cart-count aria-label="购物车里有 0 件商品">0</span>',
        html=True,
    )

    guest.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = guest.get(product.get_absolute_url())
    assertContains(page, "Log in")
    assertContains(page, 'value="en" lang="en" class="lang-button" aria-pressed="true"')
    assertContains(guest.get(reverse("catalog:search"), {"q": "龙井"}), 'name="q" value="龙井"')
    assertContains(guest.get(product.get_absolute_url()), 'name="q" value=""')


def test_chat_widget_config_is_each_shoppers_own(alice, product):
    guest = Client()
    guest_config = guest.get("/").content.decode()
    assert "&quot;user&quot;: &quot;guest&quot;" in guest_config
    page = page_client_for(alice).get("/").content.decode()
    assert f"&quot;user&quot;: &quot;u{alice.pk}&quot;" in page
    csrf = re.search(r"&quot;csrf&quot;: &quot;(\w+)&quot;", page).group(1)
    assert csrf not in guest_config
    assert f'name="csrfmiddlewaretoken" value="{csrf}"' in page  # the page's own token, valid for its cookie


def render(source: str, request, **context) -> str:
    return Template("{% load shop %}" + source).render(Context({"request": request, **context}))


def test_a_fragment_is_rendered_once_and_its_live_parts_every_time(settings):
    request = RequestFactory().get("/")
    source = '{% cachefragment "t" flag %}{{ stored }}|{% live %}{{ fresh }}{% endlive %}{% endcachefragment %}'
    assert render(source, request, flag=True, stored="a", fresh="1") == "a|1"
    assert render(source, request, flag=True, stored="b", fresh="<2>") == "a|&lt;2&gt;"
    assert render(source, request, flag=False, stored="c", fresh="3") == "c|3"  # another value it varies on
    settings.SHOP_CURRENCY = "USD"  # any changed setting empties the store
    assert render(source, request, flag=True, stored="d", fresh="4") == "d|4"
    settings.DEBUG = True  # templates may change under a development server: nothing is stored
    assert render(source, request, flag=True, stored="e", fresh="5") == "e|5"
    assert render(source, request, flag=True, stored="f", fresh="6") == "f|6"


def test_the_sort_menu_shows_the_chosen_order(category, make_product):
    make_product("TEA-1")
    guest = Client()
    for sort in ("price", "newest", "name", "price"):
        page = guest.get(category.get_absolute_url(), {"sort": sort})
        assertContains(page, f'<option value="{sort}" selected>', html=False)
        assert page.content.decode().count(" selected>") == 1
    guest.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assertContains(guest.get(category.get_absolute_url(), {"sort": "name"}), "Sort by")


def test_the_quantity_field_allows_at_most_each_products_stock(make_product):
    guest = Client()
    for sku, stock, limit in (
        ("LOW-5", 5, ' max="5"'),
        ("MANY", 500, ' max="99"'),
        ("LOW-7", 7, ' max="7"'),
        ("LOW-5B", 5, ' max="5"'),
    ):
        page = guest.get(make_product(sku, stock=stock).get_absolute_url())
        assertContains(page, f'<input type="hidden" name="sku" value="{sku}" id="id_sku">', html=True)
        assertContains(
            page, f'<input type="number" name="quantity" value="1" min="1"{limit} required id="id_quantity">'
        )
        assert page.content.decode().count('name="quantity"') == 1

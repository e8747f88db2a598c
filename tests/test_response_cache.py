"""The response cache (mcpshop_site/response_cache.py): what a shopper without a session is served from it,
and that every door that changes a product, its stock or a category shows at once on the next read."""

import re
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.management.commands.seed_demo import Command as SeedDemo
from catalog.models import Product
from catalog.services import product_reserve_stocks, product_update
from mcpshop_site import response_cache
from orders.models import Order
from orders.services import order_expire_overdue
from policies.models import Policy
from tests.catalog.test_admin import PRODUCTS, changelist_data, media  # noqa: F401  (media: a fixture)
from tests.catalog.test_admin import get as admin_get
from tests.conftest import CONTACT, api_client_for
from tests.orders.test_lifecycle import place
from tests.ucp.test_rest import PAY, Agent, shop  # noqa: F401  (shop: the UCP test shop, a fixture)

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ORDERS_LINK = 'class="nav-link" href="/orders/"'  # the signed-in header's
PAGES = ("/", "/c/tea/", "/products/TEA-001/", "/api/products/?limit=20", "/api/products/TEA-001", "/api/categories/")


@pytest.fixture(autouse=True)
def _cached(settings):
    settings.RESPONSE_CACHE_SECONDS = 600
    response_cache.doorkeeper.seen.clear()  # (keys carry the catalog's version, which other tests' rollbacks repeat)


def stored(url):
    """Read `url` until it is stored: a URL with a query string is stored on its second request."""
    for _ in range(2 if "?" in url else 1):
        queries(Client(), url)


def queries(client, url, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    response.queries = len(captured)
    return response


def without_tokens(response) -> str:
    """Return the page with its CSRF token (in forms and the chat widget's settings) taken out."""
    page = response.content.decode()
    token = TOKEN.search(page)
    return page.replace(token[1], "") if token else page


def badge(page) -> int:
    return int(re.search(r"data-cart-count[^>]*>(\d+)<", page.content.decode())[1])


def stock_read(sku="TEA-001") -> int:
    return Client().get(f"/api/products/{sku}").json()["stock"]


@pytest.mark.parametrize("url", PAGES)
def test_a_second_read_is_answered_from_the_cache_with_the_same_body_and_headers(product, url):
    if "?" in url:
        queries(Client(), url)  # (asked once: answered, not stored)
    first = queries(Client(), url)
    second = queries(Client(), url)

    assert second.queries == 1  # the catalog's version (from the database: no cache is shared in tests)
    assert dict(second.headers) == dict(first.headers)
    assert without_tokens(second) == without_tokens(first)
    assert "Content-Security-Policy" in second.headers and "X-Frame-Options" in second.headers


def test_a_price_change_and_the_last_unit_sold_show_at_once(product):
    for url in PAGES:
        stored(url)

    product_update(product=product, price_cents=9900)
    assert Client().get("/api/products/TEA-001").json()["price_cents"] == 9900
    assert "¥99.00" in Client().get("/products/TEA-001/").content.decode()

    product_reserve_stocks(quantities={product.pk: 5})  # an order takes the last units
    assert stock_read() == 0
    assert "缺货" in Client().get("/products/TEA-001/").content.decode()  # "Out of stock"
    assert Client().get("/api/products/?limit=20").json()["results"][0]["stock"] == 0


def test_a_shopper_with_a_session_is_never_served_nor_stores_a_cached_page(product, alice):
    anonymous = Client().get("/products/TEA-001/").content.decode()
    assert "登录" in anonymous  # "Log in"

    signed_in = Client()
    signed_in.force_login(alice)
    signed_in.post("/cart/add/", {"sku": "TEA-001", "quantity": 2})
    page = signed_in.get("/products/TEA-001/")
    assert badge(page) == 2 and ORDERS_LINK in page.content.decode()

    page = Client().get("/products/TEA-001/")
    assert badge(page) == 0 and ORDERS_LINK not in page.content.decode()


def test_a_guest_with_a_cart_sees_their_own_badge(product):
    Client().get("/")  # cached for guests without a session
    guest = Client()
    guest.post("/cart/add/", {"sku": "TEA-001", "quantity": 3})
    assert "sessionid" in guest.cookies

    assert badge(guest.get("/")) == 3


def test_messages_and_bearer_tokens_bypass_the_cache(product, staff):
    Client().get("/api/products/TEA-001")
    product.is_active = False
    Product.objects.filter(pk=product.pk).update(is_active=False)  # unseen by the version (no signal)

    assert Client().get("/api/products/TEA-001").status_code == 200  # the cached answer
    assert api_client_for(staff).get("/api/products/TEA-001").status_code == 200  # staff: from the view
    flashed = Client()
    flashed.cookies["messages"] = "x"
    assert flashed.get("/api/products/TEA-001").status_code == 404  # from the view: inactive


def test_an_outsider_cannot_poison_the_cache(product):
    """What a stranger can vary (method, host, query string, a junk cookie or bearer) never lands in another
    shopper's answer: a HEAD is an entry of its own, a forged host is refused and stores nothing, an unknown
    query parameter or a bad one is its own entry or refused, and a junk session or bearer goes to the view."""
    url = "/api/products/TEA-001"
    assert Client().head(url).status_code == 200
    assert Client().get(url).json()["sku"] == "TEA-001"  # not the HEAD's empty body
    assert Client().get(url, HTTP_HOST="evil.example").status_code == 400
    assert Client().get("/api/products/?limit=abc").status_code == 400  # refused, not stored
    assert len(Client().get("/api/products/?limit=20").json()["results"]) == 1
    intruder = Client()
    intruder.cookies["sessionid"] = "not-a-session"
    assert intruder.get(url).status_code == 200  # the view's own answer (the session is unknown: anonymous)
    assert Client().get(url, HTTP_AUTHORIZATION="Bearer forged").status_code == 401  # refused, as without a cache
    assert Client().get(url).json()["sku"] == "TEA-001"


def test_a_url_with_a_query_string_is_stored_on_its_second_request(product):
    url = "/api/products/?limit=20"
    first, second, third = (queries(Client(), url) for _ in range(3))

    assert first.queries > 1 and second.queries > 1  # both from the view
    assert third.queries == 1 and third.json() == first.json()


def test_one_off_query_strings_store_nothing_and_push_no_page_out(product, settings):
    """Anyone can make endless query strings: a stream of one-off ones must not empty the cache of the pages
    shoppers keep asking for (without the doorkeeper the home page is culled here)."""
    settings.CACHES = {**settings.CACHES, "responses": {**settings.CACHES["responses"], "OPTIONS": {"MAX_ENTRIES": 10}}}
    stored(url := "/api/products/?limit=20")
    for number in range(30):
        assert queries(Client(), f"{url}&utm_source={number}").queries > 1  # from the view

    assert queries(Client(), url).queries == 1


@pytest.mark.parametrize("url", ["/", "/c/tea/", "/products/TEA-001/", "/policies/returns/"])
def test_other_methods_are_refused_and_stored_nowhere(product, url):
    """A POST or DELETE to a cached page is a 405 (with `Allow`), not the page: before it is stored, when it is
    stored, and never stored itself; HEAD is answered like GET."""
    Policy.objects.create(kind=Policy.Kind.RETURNS, title="退换货", body="发货前可取消。", is_published=True)
    for method in ("POST", "DELETE"):
        refused = Client().generic(method, url)
        assert (refused.status_code, refused["Allow"], refused.content) == (405, "GET, HEAD", b"")
    assert queries(Client(), url).queries > 1  # from the view: the refusals stored nothing
    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code == 405  # the stored page answers GET and HEAD alone
    assert queries(Client(), url).queries == 1


def test_both_languages_are_kept_apart(product):
    chinese = Client().get("/products/TEA-001/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = Client().get("/products/TEA-001/", HTTP_ACCEPT_LANGUAGE="en")
    again = Client().get("/products/TEA-001/", HTTP_ACCEPT_LANGUAGE="en")

    assert "West Lake Longjing" in english.content.decode() and "西湖龙井" in chinese.content.decode()
    assert "West Lake Longjing" in again.content.decode() and again["Content-Language"] == "en"
    assert Client().get("/products/TEA-001/", HTTP_ACCEPT_LANGUAGE="zh-hans")["Content-Language"] == "zh-hans"


def test_each_shopper_gets_their_own_csrf_token_and_cookie(product):
    Client().get("/products/TEA-001/")  # stored
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    tokens = [set(TOKEN.findall(shopper.get("/products/TEA-001/").content.decode())) for shopper in (first, second)]

    assert all(len(found) == 1 for found in tokens)  # every form of a page carries a token, never the marker
    assert "csrftoken" in first.cookies and "csrftoken" in second.cookies
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    answer = first.post("/cart/add/", {"sku": "TEA-001", "quantity": 1, "csrfmiddlewaretoken": tokens[0].pop()})
    assert answer.status_code == 302
    stolen = second.post("/cart/add/", {"sku": "TEA-001", "quantity": 1, "csrfmiddlewaretoken": "x" * 64})
    assert stolen.status_code == 403


# Every door that changes the catalog: the cached read before, the door, the next read ------------------------


def test_an_admin_list_edit_shows_at_once(admin_client, product):
    assert stock_read() == 5
    listing = admin_get(admin_client, reverse(PRODUCTS))
    assert (
        admin_client.post(reverse(PRODUCTS), changelist_data(listing, {product.pk: {"stock": 40}})).status_code == 302
    )
    assert stock_read() == 40


def test_a_staff_api_patch_shows_at_once(product, staff):
    assert stock_read() == 5
    assert api_client_for(staff).patch("/api/products/TEA-001", {"stock": 7}).status_code == 200
    assert stock_read() == 7


def test_an_import_shows_at_once(product, tmp_path, django_capture_on_commit_callbacks):
    assert stock_read() == 5
    path = tmp_path / "products.csv"
    path.write_text("sku,name,category,price_cents,stock\nTEA-001,西湖龙井,tea,12800,9\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_products", str(path), "--set-stock", stdout=StringIO(), stderr=StringIO())
    assert stock_read() == 9


def test_checkout_cancel_and_expiry_show_at_once(product, alice, settings):
    assert stock_read() == 5
    shopper = api_client_for(alice)
    shopper.post("/api/cart/", {"sku": "TEA-001", "quantity": 2})
    order = shopper.post("/api/orders/", CONTACT, HTTP_IDEMPOTENCY_KEY="k1").json()
    assert stock_read() == 3

    assert shopper.post(f"/api/orders/{order['id']}/cancel").status_code == 200
    assert stock_read() == 5

    settings.ORDER_PAYMENT_MINUTES = Decimal("0.001")
    place(alice, (product, 1))
    assert stock_read() == 4
    time.sleep(0.1)
    assert order_expire_overdue() == 1
    assert stock_read() == 5


def test_an_agent_checkout_shows_at_once(shop):  # noqa: F811
    assert stock_read("bouquet_roses") == 10
    agent = Agent()
    session = agent.ready()
    done = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY)
    assert done.status_code == 200, done.content
    assert Order.objects.count() == 1
    assert stock_read("bouquet_roses") == 9


def test_bulk_inserted_benchmark_products_show_at_once(media):  # noqa: F811
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    count = Client().get("/api/products/?limit=20").json()["count"]
    seed = SeedDemo(stdout=StringIO(), stderr=StringIO())

    seed._add_bench_products(3, seed._load_categories(), 100)  # bulk_create: no signal

    assert Client().get("/api/products/?limit=20").json()["count"] == count + 3

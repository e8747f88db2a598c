"""B3, the query budget: a list costs the same number of queries for 1, 20 or 100 items, within a budget.

bench/README.md (B3): a product list <= 4 queries, the API cart <= 3, checkout <= 15, each assistant tool <= 3.
Pages of a signed-in shopper add the session, the user and the cart badge (PAGE_BUDGET). Counted are data
queries: the SAVEPOINT/RELEASE of atomic blocks are not. A regression fails `make test`.
"""

from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from assistant.tools import ToolContext, call_tool
from cart.models import CartItem
from cart.services import cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category, Product
from catalog.search.sync import backfill_documents
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db

SIZES = (1, 20, 100)
LIST_BUDGET = 4
# The API cart: the user (from the JWT), the cart's lines with their products, and the catalog's version.
CART_BUDGET = 3
CHECKOUT_BUDGET = 15
TOOL_BUDGET = 3
PAGE_BUDGET = LIST_BUDGET + 3
# The checkout page reads the cart, the last order's contact, the saved addresses, the live promotions and
# the destination's shipping rates (and the cart's codes when it has some): one more than a list page.
CHECKOUT_PAGE_BUDGET = PAGE_BUDGET + 1


def _catalog(shelf, size: int) -> list[Product]:
    """Add `size` products to `shelf` in one insert (the budget is about reading them, not writing)."""
    Product.objects.bulk_create(
        Product(
            sku=f"Q-{size}-{i}", name=f"茶 {i}", slug=f"q-{size}-{i}", category=shelf, price_cents=100 + i, stock=500
        )
        for i in range(size)
    )
    backfill_documents()  # MariaDB's FULLTEXT documents (elsewhere triggers index the rows)
    return list(Product.objects.filter(category=shelf).order_by("pk"))


def _set_cart(user, products) -> None:
    """Make the user's cart hold exactly one of each of `products`."""
    cart = cart_get_or_create(shopper=Shopper(user=user))
    cart.items.all().delete()
    CartItem.objects.bulk_create(CartItem(cart=cart, product=product, quantity=1) for product in products)


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")


def _count(action) -> int:
    """Return how many data queries `action` makes (transaction control statements are not counted)."""
    with CaptureQueriesContext(connection) as queries:
        action()
    return sum(not query["sql"].upper().startswith(TRANSACTION_CONTROL) for query in queries)


def _budget(make_world, request, budget: int, *, reset=lambda world: None) -> None:
    """Assert that `request(world)` costs the same queries with 1, 20 and 100 items, and no more than `budget`.

    Each world is used twice: a first (unmeasured) request fills the caches, then `reset` puts the world
    back (e.g. refills the cart a checkout emptied) and the second request is counted.
    """
    counts = []
    for size in SIZES:
        world = make_world(size)
        request(world)
        reset(world)
        counts.append(_count(partial(request, world)))
    assert len(set(counts)) == 1, f"queries grow with the items: {dict(zip(SIZES, counts, strict=True))}"
    assert counts[0] <= budget, f"{counts[0]} queries, budget {budget}"


def _jwt(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _ok(response, status=200):
    assert response.status_code == status, response.content[:500]
    return response


@pytest.fixture
def world(make_user):
    """Make a fresh shop of `size` products, and a signed-in shopper whose cart holds all of them."""

    def make(size):
        shelf = Category.objects.create(name=f"货架 {size}", name_en=f"Shelf {size}", slug=f"shelf-{size}")
        products = _catalog(shelf, size)
        shopper = make_user()
        _set_cart(shopper, products)
        pages = Client()
        pages.force_login(shopper)
        return {"shelf": shelf, "products": products, "shopper": shopper, "api": _jwt(shopper), "pages": pages}

    return make


def _path(template: str, world) -> str:
    return template.format(shelf=world["shelf"].slug, sku=world["products"][-1].sku)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "jwt"])
def test_api_product_list(world, signed_in):
    def request(w):
        _ok((w["api"] if signed_in else APIClient()).get(f"/api/products/?category={w['shelf'].slug}&limit=100"))

    _budget(world, request, LIST_BUDGET)


@pytest.mark.parametrize("path", ["/", "/c/{shelf}/", "/products/{sku}/", "/search/?category={shelf}"])
def test_storefront_pages_for_a_visitor(world, path):
    _budget(world, lambda w: _ok(Client().get(_path(path, w))), LIST_BUDGET)


@pytest.mark.parametrize("path", ["/c/{shelf}/", "/products/{sku}/", "/cart/", "/checkout/", "/orders/"])
def test_storefront_pages_for_a_signed_in_shopper(world, path):
    budget = CHECKOUT_PAGE_BUDGET if path == "/checkout/" else PAGE_BUDGET
    _budget(world, lambda w: _ok(w["pages"].get(_path(path, w))), budget)


def test_api_cart(world):
    _budget(world, lambda w: _ok(w["api"].get("/api/cart/")), CART_BUDGET)


def test_api_checkout(world):
    _budget(
        world,
        lambda w: _ok(w["api"].post("/api/orders/", CONTACT, format="json"), 201),
        CHECKOUT_BUDGET,
        reset=lambda w: _set_cart(w["shopper"], w["products"]),
    )


def _with_orders(w):
    """Give the shopper one order per 10 products (1, 3 or 11 orders)."""
    for _ in range(len(w["products"]) // 10 + 1 - w["shopper"].orders.count()):
        _set_cart(w["shopper"], w["products"][:1])
        order_place(user=w["shopper"], **CONTACT)


def test_api_order_list(world):
    _budget(world, lambda w: _ok(w["api"].get("/api/orders/?limit=100")), LIST_BUDGET, reset=_with_orders)


# Over bench/README.md's 3: hybrid search first reads the search index's revision row (catalog.search), then
# the keyword matches, then the products (the vector lookup is in memory).
TOOL_BUDGETS = {"search_products": 4}
TOOL_CALLS = {
    "search_products": {"query": "茶", "limit": 10},
    "get_product": {"sku": "{sku}"},
    "list_categories": {},
    "view_cart": {},
    "add_to_cart": {"sku": "{sku}", "quantity": 1},
    "update_cart_item": {"sku": "{sku}", "quantity": 2},
    "remove_from_cart": {"sku": "{sku}"},
    "list_orders": {},
}


@pytest.mark.parametrize("name", TOOL_CALLS)
def test_each_tool(world, name):
    def request(w):
        arguments = {
            key: _path(value, w) if isinstance(value, str) else value for key, value in TOOL_CALLS[name].items()
        }
        result = call_tool(ToolContext(shopper=Shopper(user=w["shopper"])), name, arguments)
        assert "error" not in result, result

    def reset(w):
        _with_orders(w)
        _set_cart(w["shopper"], w["products"])

    _budget(world, request, TOOL_BUDGETS.get(name, TOOL_BUDGET), reset=reset)

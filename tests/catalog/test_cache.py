"""The cached catalog reads (catalog.cache): a change shows on the next request, without clearing anything."""

import re

import pytest
from django.test import Client

from catalog.models import Category
from catalog.services import product_create, product_delete, product_reserve_stocks, product_update

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def shelf(client=None):
    response = (client or Client()).get("/c/tea/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_grid_shows_a_product_change_at_once(category, make_product):
    product = make_product("TEA-1", name="龙井", price_cents=1000)
    assert "¥10.00" in shelf()

    product_update(product=product, name="碧螺春", price_cents=2500)

    page = shelf()
    assert "碧螺春" in page and "¥25.00" in page
    assert "龙井" not in page


def test_the_grid_shows_a_category_rename_at_once(category, make_product):
    make_product("TEA-1")
    assert '<p class="card-category">茶叶</p>' in shelf()

    category.name = "名茶"
    category.save()

    assert '<p class="card-category">名茶</p>' in shelf()


def test_the_grid_shows_a_sold_out_product_at_once(category, make_product):
    product = make_product("TEA-1", stock=1)
    assert "data-cart-add" in shelf()

    product_reserve_stocks(quantities={product.pk: 1})  # an order: a conditional UPDATE, no signal

    page = shelf()
    assert "data-cart-add" not in page
    assert "缺货" in page  # "Out of stock"


def test_a_cached_grid_carries_each_shoppers_own_csrf_token(category, make_product):
    make_product("TEA-1")
    shelf(Client())  # fills the cache
    shopper = Client(enforce_csrf_checks=True)
    page = shelf(shopper)
    tokens = set(TOKEN.findall(page))

    response = shopper.post("/cart/add/", {"sku": "TEA-1", "quantity": 1, "csrfmiddlewaretoken": tokens.pop()})

    assert response.status_code == 302  # accepted: the token in the cached grid is this shopper's
    assert Client(enforce_csrf_checks=True).post("/cart/add/", {"sku": "TEA-1", "quantity": 1}).status_code == 403


def test_the_shelf_count_follows_new_and_deleted_products(category, make_product):
    make_product("TEA-1")
    assert "1 件商品" in shelf()

    second = make_product("TEA-2")
    assert "2 件商品" in shelf()

    product_delete(product=second)
    assert "1 件商品" in shelf()


def test_the_api_count_follows_changes_and_stock_filters_are_never_stale(api, category, make_product):
    product = make_product("TEA-1", stock=1)
    other = make_product("TEA-2", stock=5)
    assert api.get("/api/products/").json()["count"] == 2
    assert api.get("/api/products/?in_stock=true").json()["count"] == 2

    product_create(sku="TEA-3", name="白茶", category=category, price_cents=100, stock=0)
    assert api.get("/api/products/").json()["count"] == 3
    product_update(product=product, is_active=False)
    assert api.get("/api/products/").json()["count"] == 2  # TEA-2 and TEA-3

    product_reserve_stocks(quantities={other.pk: 5})  # TEA-2 sells out
    assert api.get("/api/products/?in_stock=true").json()["count"] == 0


def test_home_category_counts_follow_new_products_and_categories(client, category, make_product):
    make_product("TEA-1")
    assert re.search(r'茶叶 <span class="count">1</span>', client.get("/").content.decode())

    make_product("TEA-2")
    Category.objects.create(name="咖啡", name_en="Coffee", slug="coffee")

    page = client.get("/").content.decode()
    assert re.search(r'茶叶 <span class="count">2</span>', page)
    assert re.search(r'咖啡 <span class="count">0</span>', page)


def test_a_category_page_follows_renames_and_serves_categories_the_cached_list_lacks(category, make_product):
    make_product("TEA-1")
    assert "<h1>茶叶</h1>" in shelf()

    category.name = "名茶"
    category.save()
    assert "<h1>名茶</h1>" in shelf()

    # Written without signals (like a bulk import): not in the cached list yet, served from the database
    Category.objects.bulk_create([Category(slug="herbal", name="花草茶", name_en="Herbal", parent=category)])
    page = Client().get("/c/herbal/")
    assert page.status_code == 200
    assert "<h1>花草茶</h1>" in page.content.decode()
    assert Client().get("/c/no-such-shelf/").status_code == 404
